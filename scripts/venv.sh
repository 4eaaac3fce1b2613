# Sourced by scripts/test and scripts/demo: makes .venv with the package and its extras installed.
# Re-running is cheap: pip only installs what changed. $PYTHON picks the interpreter of a new .venv (python3).
ensure_venv() {
  local root extras="$1"
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if [ ! -x "$root/.venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$root/.venv"
  fi
  "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  # The package (dynamic provider, its SDK, the plugin, the emulator) and the plugin's generated Python SDK.
  "$root/.venv/bin/python" -m pip install --quiet --quiet --disable-pip-version-check \
    -e "$root[$extras]" -e "$root/sdk/python"
  export PATH="$root/.venv/bin:$PATH"
}
