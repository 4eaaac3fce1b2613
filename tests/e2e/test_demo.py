"""`scripts/demo --keep`, run for real and stopped as a terminal's Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _kept_demo(pulumi_cli: Path, sigint_ignored: bool = False) -> subprocess.Popen[str]:
    # scripts/demo sets up .venv and then execs this, in the same process: the same program from here on.
    # Its own process group, with no terminal on stdin, as a shell runs a foreground job started from a script.
    # `sigint_ignored`: as a launcher that runs it in the background (nohup, `cmd &`, a CI step runner) leaves it.
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--pulumi", str(pulumi_cli), "--keep"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_ignore_sigint if sigint_ignored else None,
        env={k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")},
    )


def _read_until(demo: subprocess.Popen[str], prefix: str) -> list[str]:
    assert demo.stdout is not None
    lines = []
    for line in demo.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(prefix):
            return lines
    raise AssertionError(f"the demo ended before printing {prefix!r}:\n" + "\n".join(lines))


def _check_kept(demo: subprocess.Popen[str]) -> tuple[list[str], str, str]:
    """While the demo waits: what it says to type in another terminal reaches the running stack."""
    before = _read_until(demo, "Ctrl-C")
    # The plugin is installed where the engine looks, as users install it: no "using … from $PATH".
    assert any(line.startswith("installed resource plugin clevercloud-tcp") for line in before), before
    assert not any("from $PATH" in line for line in before), before
    export = next(line.strip() for line in before if line.strip().startswith("export PATH="))
    stack_output = next(line.strip() for line in before if "stack output -s dev" in line)
    emulator_url = next(line.split()[-1] for line in before if "emulator listening on" in line)
    reached = subprocess.run(
        ["bash", "-c", f"{export} && {stack_output} default_port"],
        capture_output=True,
        text=True,
        env={"HOME": os.environ["HOME"], "PATH": "/usr/bin:/bin"},
    )
    assert reached.returncode == 0, reached.stderr
    held = httpx.get(f"{emulator_url}/_emulator/redirections").json()
    assert len(held) == 4, "both stacks are still up while the demo waits"
    assert int(reached.stdout) in {r["port"] for r in held if r["namespace"] == "default"}
    return before, export, emulator_url


def _stopped(demo: subprocess.Popen[str], stop: Callable[[], None]) -> list[str]:
    try:
        stop()
        rest, _ = demo.communicate(timeout=300)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    assert demo.returncode == 0, rest
    after = rest.splitlines()
    assert "emulator holds 0 redirection(s) after destroy" in after, rest
    assert any("- 3 deleted" in line for line in after), rest
    assert not any("error" in line.lower() or "Traceback" in line for line in after), rest
    return after


@pytest.mark.parametrize("started", ["in a terminal", "with SIGINT ignored"])
def test_ctrl_c_of_kept_demo_destroys_the_stack_and_leaves_nothing(pulumi_cli: Path, started: str) -> None:
    demo = _kept_demo(pulumi_cli, sigint_ignored=started == "with SIGINT ignored")
    _, export, emulator_url = _check_kept(demo)
    children = psutil.Process(demo.pid).children(recursive=True)

    # What Ctrl-C in a terminal does: SIGINT to the whole foreground process group.
    after = _stopped(demo, lambda: os.killpg(demo.pid, signal.SIGINT))

    assert not any("pulumi stack rm" in line for line in after), "advice for a folder the demo deletes"
    backend = Path(urlparse(export.split("PULUMI_BACKEND_URL=")[1].split()[0]).path)
    assert not backend.exists()
    assert children and not any(child.is_running() and child.status() != psutil.STATUS_ZOMBIE for child in children)
    try:
        httpx.get(f"{emulator_url}/_emulator/redirections", timeout=2)
    except httpx.TransportError:
        pass
    else:
        raise AssertionError(f"the emulator still answers at {emulator_url}")


def test_kept_demo_without_terminal_waits_then_destroys_on_sigterm(pulumi_cli: Path) -> None:
    demo = _kept_demo(pulumi_cli)
    before, _, _ = _check_kept(demo)
    assert f"kill -TERM {demo.pid}" in before[-1]
    _stopped(demo, demo.terminate)
