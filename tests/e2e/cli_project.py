"""A Pulumi project driven by the plain `pulumi` CLI, as a user types it (`runtime: yaml` here).

The engine finds the plugin `pulumi-resource-clevercloud-tcp` on PATH (this interpreter's scripts
folder, as in an activated virtualenv) and the YAML language host beside the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime.local_stack import engine_env

PLUGIN_TYPE = "clevercloud-tcp:index:TcpRedirection"


class CliError(AssertionError):
    """A `pulumi` command failed; the message holds what it printed."""


class CliProject:
    """A copy of a project folder with its own backend and stack `dev`."""

    def __init__(self, source: Path, work: Path, cli_dir: Path) -> None:
        self.dir = work / "project"
        shutil.copytree(source, self.dir)
        (work / "backend").mkdir()
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CLEVER_"))}
        self.env = {**inherited, **engine_env(cli_dir, work)}  # the layout local_stack uses: work/home, work/backend

    def command(self, *args: str) -> list[str]:
        return ["pulumi", *args, "--non-interactive", "--color=never"]

    def start(self, *args: str) -> subprocess.Popen[str]:
        """A command left running (to be interrupted), its output discarded."""
        return subprocess.Popen(
            self.command(*args), cwd=self.dir, env=self.env, text=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(self.command(*args), cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=300)
        if check and done.returncode != 0:
            raise CliError(f"pulumi {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def init(self, emulator: EmulatorProcess, token: str, secret: str, **config: str) -> CliProject:
        self.run("stack", "init", "dev")
        plain = {"clevercloud-tcp:endpoint": emulator.url, "clevercloud-tcp:allowHttp": "true", **config}
        secrets = {"clevercloud-tcp:token": token, "clevercloud-tcp:secret": secret}
        # One `config set-all` for every key: each CLI call costs the CLI's start-up.
        self.run(
            "config", "set-all",
            *(arg for key, value in plain.items() for arg in ("--plaintext", f"{key}={value}")),
            *(arg for key, value in secrets.items() for arg in ("--secret", f"{key}={value}")),
        )  # fmt: skip
        return self

    def set_config(self, key: str, value: str, *, secret: bool = False) -> None:
        self.run("config", "set", *(["--secret"] if secret else []), key, value)

    def outputs(self) -> dict[str, Any]:
        return dict(json.loads(self.run("stack", "output", "--json", "--show-secrets").stdout))

    def deployment(self) -> dict[str, Any]:
        return dict(json.loads(self.run("stack", "export").stdout)["deployment"])

    def resources(self) -> dict[str, dict[str, Any]]:
        """The redirections the state records, by resource name: their id and outputs."""
        deployment = self.deployment()
        return {
            r["urn"].rsplit("::", 1)[1]: {"id": r["id"], **r.get("outputs", {})}
            for r in deployment.get("resources", [])
            if r["type"] == PLUGIN_TYPE
        }

    def export_text(self) -> str:
        return self.run("stack", "export").stdout


def kill_in_flight(emulator: EmulatorProcess, landing: int, start: Callable[[], subprocess.Popen[Any]]) -> None:
    """An `up` (`start`, in a session of its own) killed with SIGKILL, as a lost machine or a second
    Ctrl-C leaves it, while its first `landing` creates are sent and unanswered: they land after the
    kill, so no state records them."""
    emulator.inject(method="POST", path="*/tcpRedirs", count=landing, delay=4)
    up = start()
    wait_for(lambda: not emulator.faults(), "the creates to reach the API")  # each takes a use of the rule as it arrives
    os.killpg(up.pid, signal.SIGKILL)  # the engine and the providers it started
    up.wait()
    wait_for(lambda: len(emulator.redirections()) >= landing, "the creates in flight to land")
    emulator.clear_faults()


def wait_for(done: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
