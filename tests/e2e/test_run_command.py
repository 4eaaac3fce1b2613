"""`python -m clevercloud_tcp.run PROGRAM OPERATION`, as a user runs it: a subprocess of the venv's
Python, not activated, with a clean environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from clevercloud_tcp.emulator import DEFAULT_FIXTURE
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime.local_stack import engine_env, find_pulumi, local_stack

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "python-dynamic"
APP_ID = DEFAULT_FIXTURE.organisations[0].applications[1].id  # two custom domains, broker.acme.example first
PASSPHRASE = "a passphrase of the user's own"


@pytest.fixture
def clean_env(tmp_path: Path, pulumi_cli: Path) -> dict[str, str]:
    """No venv on PATH, no PULUMI_* or CLEVER_* variables, no `clever login` profile."""
    (tmp_path / "home").mkdir()
    return {"PATH": f"{pulumi_cli}:/usr/bin:/bin", "HOME": str(tmp_path / "home")}


def run(env: dict[str, str], cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clevercloud_tcp.run", *args], capture_output=True, text=True, env=env, cwd=cwd, input=stdin
    )


def held(state: Path) -> list[dict[str, object]]:
    with EmulatorProcess(state=state) as emulator:
        return emulator.redirections()


def test_example_up_then_destroy_against_the_emulator(clean_env: dict[str, str], tmp_path: Path) -> None:
    up = run(clean_env, tmp_path, str(EXAMPLE), "up", "--emulator", "--config", f"appId={APP_ID}")
    assert up.returncode == 0, up.stdout + up.stderr
    backend = tmp_path / ".pulumi-local"  # the default, under the working directory, and said so
    assert f"backend folder {backend}" in up.stdout
    assert "passphrase: local-stack-passphrase" in up.stdout
    assert "destroy --emulator" in up.stdout  # how to undo it later, with the emulator's state kept

    # The commands printed for another shell reach the stack with the plain CLI.
    export, command = [line.strip() for line in up.stdout.splitlines()[-2:]]
    outputs = subprocess.run(
        ["bash", "-c", f"{export} && {command} --json"], capture_output=True, text=True, env=clean_env
    )
    assert outputs.returncode == 0, outputs.stderr
    values = json.loads(outputs.stdout)
    assert values["default_url"] == f"tcp://broker.acme.example:{values['default_port']}"
    assert values["redis_uri"] == f"redis://broker.acme.example:{values['default_port']}"
    assert {(r["namespace"], r["port"]) for r in held(backend / "emulator.sqlite")} == {
        ("default", values["default_port"]),
        ("cleverapps", values["cleverapps_port"]),
    }

    destroy = run(clean_env, tmp_path, str(EXAMPLE), "destroy", "--emulator")
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    assert "- 3 deleted" in destroy.stdout
    assert held(backend / "emulator.sqlite") == []


def test_missing_credentials_say_how_to_set_them_as_secrets(clean_env: dict[str, str], tmp_path: Path) -> None:
    up = run({**clean_env, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}, tmp_path, str(EXAMPLE), "up", "--config", f"appId={APP_ID}")
    assert up.returncode == 1
    assert "set clevercloud-tcp:token and clevercloud-tcp:secret" in up.stdout
    assert "clevercloud:token" in up.stdout  # pulumi-clevercloud's key, which the dynamic provider reads too
    last = up.stderr.strip().splitlines()
    assert len(last) == 1 and last[0].startswith("clevercloud_tcp.run: pulumi up failed: "), up.stderr
    assert "No Clever Cloud credentials found" in last[0]  # the cause, not the stack's "update failed"


def test_without_a_pulumi_cli_it_says_what_to_run(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "empty-cache")}
    result = run(env, tmp_path, str(EXAMPLE), "preview")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "run scripts/install-pulumi" in result.stderr, result.stderr
    assert not (tmp_path / ".pulumi-local").exists()


def test_bad_program_is_one_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    result = run(clean_env, tmp_path, str(ROOT / "examples"), "up")
    assert result.returncode == 1
    not_a_program = "is neither a Python file nor a folder with __main__.py"
    assert result.stderr == f"clevercloud_tcp.run: PROGRAM: {ROOT / 'examples'} {not_a_program}\n"


@pytest.mark.parametrize("missing", ["starlette", "uvicorn"])
def test_emulator_without_its_extra_is_one_line_and_leaves_no_folder(missing: str, clean_env: dict[str, str], tmp_path: Path) -> None:
    hidden = f"import runpy, sys; sys.modules[{missing!r}] = None; sys.argv[0] = 'run'; runpy.run_module('clevercloud_tcp.run', run_name='__main__')"
    done = subprocess.run([sys.executable, "-c", hidden, str(EXAMPLE), "up", "--emulator"], capture_output=True, text=True, env=clean_env, cwd=tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip() == f"clevercloud_tcp.run: --emulator: the emulator needs {missing}, which is not installed: pip install 'clevercloud-tcp[emulator]'"
    assert not (tmp_path / ".pulumi-local").exists()


def test_a_relative_program_is_found_after_the_change_of_folder(clean_env: dict[str, str], tmp_path: Path) -> None:
    # As docs/dynamic-provider.md runs it: PROGRAM relative to where the command is typed.
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "python-dynamic")
    preview = run(clean_env, tmp_path, "examples/python-dynamic", "preview", "--emulator", "--config", f"appId={APP_ID}")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "+ 3 to create" in preview.stdout


def test_a_program_that_cannot_load_leaves_no_stack(clean_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import pulumi\npulumi.export('x', 1\n")
    up = run(clean_env, tmp_path, "broken.py", "up", "--emulator")
    assert up.returncode == 1
    lines = up.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"clevercloud_tcp.run: PROGRAM: {tmp_path / 'broken.py'} cannot be loaded:"), up.stderr
    assert "line 2" in lines[0]  # where the mistake is
    assert not (tmp_path / ".pulumi-local").exists()  # no backend, no stack, no emulator state


def test_plugin_script_names_PULUMI_PYTHON_CMD_for_a_python_without_pulumi(pulumi_cli: Path, tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    bare = tmp_path / "bare" / "bin" / "python"
    plugin = subprocess.run(
        [str(pulumi_cli / "pulumi-resource-pulumi-python")],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PULUMI_PYTHON_CMD": str(bare)},
    )
    assert plugin.returncode != 0
    lines = plugin.stderr.strip().splitlines()
    assert len(lines) == 1 and "has no pulumi package" in lines[0] and "set PULUMI_PYTHON_CMD" in lines[0], lines


def test_a_program_of_the_plugins_sdk_reaches_the_emulator_too(clean_env: dict[str, str], tmp_path: Path) -> None:
    # examples/python declares through the generated SDK: the plugin reads clevercloud-tcp:* keys only.
    program = ROOT / "examples" / "python"
    up = run(clean_env, tmp_path, str(program), "up", "--emulator", "--config", f"clevercloud-tcp-python:appId={APP_ID}")
    assert up.returncode == 0, up.stdout + up.stderr
    assert sorted(r["namespace"] for r in held(tmp_path / ".pulumi-local" / "emulator.sqlite")) == ["cleverapps", "default"]
    destroy = run(clean_env, tmp_path, str(program), "destroy", "--emulator")
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    assert held(tmp_path / ".pulumi-local" / "emulator.sqlite") == []


def test_a_program_that_fails_before_declaring_anything_leaves_an_empty_stack(clean_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "missing_import.py").write_text("import pulumi\nimport no_such_module_of_this_program\n")
    up = run(clean_env, tmp_path, "missing_import.py", "up", "--emulator")
    assert up.returncode == 1
    lines = up.stderr.strip().splitlines()
    assert len(lines) == 1 and "no_such_module_of_this_program" in lines[0], up.stderr
    env = {**clean_env, **engine_env(find_pulumi() or Path(), tmp_path / ".pulumi-local")}
    workspace = tmp_path / ".pulumi-local" / "projects" / "missing_import"  # the project's own
    exported = subprocess.run(["pulumi", "stack", "export", "-s", "dev", "--cwd", str(workspace)], capture_output=True, text=True, env=env)
    assert exported.returncode == 0, exported.stderr
    assert not json.loads(exported.stdout)["deployment"].get("resources"), "the failed up left resources in the state"


# --- each program's settings and secrets to itself -----------------------------------------------------


def program_folder(parent: Path, project: str) -> Path:
    """A project folder whose program declares one redirection of the fixture's app, with no settings."""
    folder = parent / project
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text(f"name: {project}\nruntime: python\n")
    (folder / "__main__.py").write_text(f"from clevercloud_tcp.dynamic import TcpRedirection\nTcpRedirection('r', app_id='{APP_ID}')\n")
    return folder


def test_two_programs_in_one_folder_keep_their_settings_apart(clean_env: dict[str, str], tmp_path: Path) -> None:
    """Reproduced on the previous release: beta's preview passed, on alpha's endpoint and credentials."""
    alpha, beta = program_folder(tmp_path, "alpha"), program_folder(tmp_path, "beta")
    up = run(clean_env, tmp_path, str(alpha), "up", "--emulator")
    assert up.returncode == 0, up.stdout + up.stderr

    preview = run({**clean_env, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}, tmp_path, str(beta), "preview")
    assert preview.returncode == 1, preview.stdout
    assert "No Clever Cloud credentials found" in preview.stderr, preview.stderr
    # What reaches the stack is printed after a failure too.
    assert "=== to reach the stack from a shell:" in preview.stdout
    assert f"--cwd {tmp_path / '.pulumi-local' / 'projects' / 'beta'} stack output" in preview.stdout


def test_the_real_apis_route_asks_for_a_passphrase_of_the_users_own(clean_env: dict[str, str], tmp_path: Path) -> None:
    result = run(clean_env, tmp_path, str(EXAMPLE), "preview", "--config", f"appId={APP_ID}")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "set PULUMI_CONFIG_PASSPHRASE" in lines[0], result.stderr
    assert not (tmp_path / ".pulumi-local").exists()


def command_lines_while(work: Callable[[], subprocess.CompletedProcess[str]]) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """The command line of every process that `work` starts, and their children, seen while it runs (as any
    local user sees them in /proc), and its result. Other processes (other tests, other users) are not ours."""
    seen: set[str] = set()
    finished = threading.Event()
    ours = os.getpid()

    def sample() -> None:
        while not finished.is_set():
            parents, lines = {}, {}
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    # The parent pid is the field after the command's name, which is in parentheses.
                    parents[int(pid)] = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                    lines[int(pid)] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except (OSError, IndexError, ValueError):
                    continue
            for pid, line in lines.items():
                ancestor = parents.get(pid)
                while ancestor not in (None, 0, 1, ours):
                    ancestor = parents.get(ancestor)
                if ancestor == ours:
                    seen.add(line)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = work()
    finally:
        finished.set()
        sampler.join()
    return sorted(seen), result


def test_secrets_reach_the_stack_on_no_command_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    """One secret on standard input, one from the environment, and the emulator's credentials, which
    `run` sets itself: none on any process's command line (`run`'s, the CLI's, the engine's children)."""
    from_stdin, from_env = "stdin-secret-6f1d2c", "env-secret-93ab0e"
    emulator = DEFAULT_FIXTURE.users[0].oauth[0]
    env = {**clean_env, "EXTRA_SECRET": from_env}
    args = [str(EXAMPLE), "preview", "--emulator", "--config", f"appId={APP_ID}"]
    secrets = ["--secret", "example:fromStdin", "--secret", "example:fromEnv=EXTRA_SECRET"]
    lines, preview = command_lines_while(lambda: run(env, tmp_path, *args, *secrets, stdin=from_stdin + "\n"))

    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert any("pulumi" in line and " config set" in line for line in lines), "the sampling saw no `pulumi config set`"
    for value in (from_stdin, from_env, emulator.token, emulator.secret):
        assert not [line for line in lines if value in line], f"a secret was on a command line: {value}"
    shown = subprocess.run(
        ["pulumi", "config", "--show-secrets", "--json", "-s", "dev"],
        cwd=tmp_path / ".pulumi-local" / "projects" / "clevercloud-tcp-example",
        env={**clean_env, **engine_env(find_pulumi() or Path(), tmp_path / ".pulumi-local")},
        capture_output=True,
        text=True,
    )
    config = json.loads(shown.stdout)
    assert config["example:fromStdin"] == {"value": from_stdin, "secret": True}
    assert config["example:fromEnv"] == {"value": from_env, "secret": True}


def test_a_value_given_on_the_command_line_is_refused_without_showing_it(clean_env: dict[str, str], tmp_path: Path) -> None:
    result = run(clean_env, tmp_path, str(EXAMPLE), "preview", "--emulator", "--secret", "clevercloud-tcp:token=hunter2value")
    assert result.returncode == 2
    assert "hunter2value" not in result.stderr and "--secret clevercloud-tcp:token and give the value on standard input" in result.stderr


def test_a_backend_folder_of_the_previous_release_is_made_private_and_its_config_carried_over(
    clean_env: dict[str, str], tmp_path: Path, pulumi_cli: Path
) -> None:
    """The previous release kept the stack config in the backend folder itself, made with the default umask."""
    state_dir = tmp_path / ".pulumi-local"
    state_dir.mkdir(mode=0o755)
    state_dir.chmod(0o755)
    config = {"clevercloud-tcp-example:appId": APP_ID, "clevercloud-tcp-example:mistake": "1"}
    local_stack(lambda: None, cli_dir=pulumi_cli, state_dir=state_dir, config=config)  # that layout

    preview = run(clean_env, tmp_path, str(EXAMPLE), "preview", "--emulator", "--unset", "mistake")

    assert preview.returncode == 0, preview.stdout + preview.stderr  # appId found: carried over
    assert "carried over from" in preview.stdout
    assert state_dir.stat().st_mode & 0o777 == 0o700
    kept = (state_dir / "projects" / "clevercloud-tcp-example" / "Pulumi.dev.yaml").read_text()
    assert "appId" in kept and "mistake" not in kept  # --unset removed the mistaken key
