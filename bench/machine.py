"""The header of the results: the machine, the tools and their versions, the load, the emulator's round trip."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from common import ORG_ID, app_id, bare_client, emulator, make_fixture
from table import fmt_ms

ROOT = Path(__file__).resolve().parent.parent
INSTALL_CLEVER_TOOLS = ROOT / "scripts" / "install-clever-tools"
SLOW_ROUND_TRIP = 0.005  # seconds; above this every API call is slowed (see bench/README.md)


def _output(cmd: list[str], env: dict[str, str] | None = None) -> str:
    """The last line a command prints, or why it could not run."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return (done.stdout.strip() or done.stderr.strip()).splitlines()[-1] if (done.stdout or done.stderr) else "?"


def find_clever() -> Path | None:
    """`$CLEVER_TOOLS_BIN`, else the pinned clever-tools that scripts/install-clever-tools provides."""
    given = os.environ.get("CLEVER_TOOLS_BIN")
    if given:
        if os.access(given, os.X_OK):
            return Path(given)
        print(f"CLEVER_TOOLS_BIN={given}: not an executable file; the clever-tools row is skipped", file=sys.stderr)
        return None
    done = subprocess.run(["bash", str(INSTALL_CLEVER_TOOLS)], stdout=subprocess.PIPE, text=True, check=False)
    return Path(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _revision() -> str:
    head = _output(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = _output(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    return head + (" + uncommitted changes" if dirty not in ("", "?") else "")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def _memory() -> int:
    """Physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _clever_version(clever: Path | None, needed: bool) -> str:
    if clever is None:
        return "not found" if needed else "not needed"
    with tempfile.TemporaryDirectory() as home:  # no update check, no profile of the user's
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "XDG_CONFIG_HOME": home}
        return _output([str(clever), "version", "--no-update-notifier"], env) + f" ({clever})"


def describe(cli_dir: Path | None, clever: Path | None, clever_needed: bool) -> list[str]:
    pulumi_version = _output([str(cli_dir / "pulumi"), "version"]) if cli_dir else "not found"
    node = _output(["node", "--version"]) if shutil.which("node") else "not found"
    return [
        f"nproc: {os.cpu_count()}    memory: {_memory() / 2**30:.1f} GiB    CPU: {_cpu_model()}",
        (
            f"Python {platform.python_version()} ({platform.platform()})    pulumi CLI {pulumi_version}    "
            f"pulumi SDK {version('pulumi')}"
        ),
        f"clever-tools {_clever_version(clever, clever_needed)}    node {node}",
        f"revision: {_revision()}",
        f"load average at start: {load()} (other work on the machine skews wall times; CPU times less so)",
        _round_trip_line(emulator_round_trip()),
    ]


def emulator_round_trip(samples: int = 50) -> float:
    """Median time of one small GET against a fresh emulator, over one kept-alive connection."""
    with emulator(make_fixture(1, {"default": (5001, 5999)})) as emu, bare_client(emu) as client:
        client.list_tcp_redirections(ORG_ID, app_id(0))
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            client.list_tcp_redirections(ORG_ID, app_id(0))
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _round_trip_line(seconds: float) -> str:
    slow = f"  << over {fmt_ms(SLOW_ROUND_TRIP)}: every API call is slowed, see bench/README.md"
    return f"emulator round trip: {fmt_ms(seconds)} (median GET)" + (slow if seconds > SLOW_ROUND_TRIP else "")
