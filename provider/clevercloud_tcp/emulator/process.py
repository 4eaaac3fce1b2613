"""Runs the emulator as a child process and talks to its `/_emulator/` endpoints (tests, demo, bench)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from .fixture import DEFAULT_FIXTURE, Fixture

WRITES = ("POST", "DELETE", "PUT", "PATCH")


def _forward(stream: IO[str]) -> None:
    for line in stream:
        sys.stderr.write(line)


class EmulatorProcess:
    """`with EmulatorProcess() as emu:` starts `python -m clevercloud_tcp.emulator` on a free port."""

    def __init__(
        self,
        fixture: Fixture = DEFAULT_FIXTURE,
        state: Path | None = None,
        seed: int | None = None,
        port: int = 0,
        options: Sequence[str] = (),
    ) -> None:
        """`options`: more command-line options, e.g. `["--empty-list", "404"]`."""
        self.fixture = fixture
        self.options = list(options)
        self.state = state
        self.seed = seed
        self._dir = tempfile.TemporaryDirectory(prefix="cc-emulator-")
        self._fixture_path = Path(self._dir.name) / "fixture.json"
        self._fixture_path.write_text(fixture.model_dump_json())
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.port = port
        self._control: httpx.Client | None = None
        self._stderr = threading.Thread()  # replaced by the reader of a started emulator's stderr

    def start(self) -> EmulatorProcess:
        cmd = [sys.executable, "-m", "clevercloud_tcp.emulator", "--fixture", str(self._fixture_path)]
        cmd += ["--port", str(self.port)]  # a restart keeps the port, so clients keep their URL
        if self.state:
            cmd += ["--state", str(self.state)]
        if self.seed is not None:
            cmd += ["--seed", str(self.seed)]
        cmd += self.options
        # Its own session: a terminal's Ctrl-C reaches the caller only, which can still clean up through it.
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            proc.kill()
            rest, errors = proc.communicate()  # waits for it and closes both pipes
            said = [text.strip() for text in (line, *rest.splitlines(), *errors.splitlines()) if text.strip()]
            # The last line of a traceback or usage message is the one that names the cause.
            cause = said[-1] if said else f"it exited with status {proc.returncode}"
            raise RuntimeError(f"the emulator did not start: {cause}")
        self._proc = proc
        # Start-up errors are read above; from now on its stderr goes where ours does, unblocked.
        self._stderr = threading.Thread(target=_forward, args=(proc.stderr,), daemon=True)
        self._stderr.start()
        self.url = line.removeprefix("listening on ")
        self.port = int(self.url.rsplit(":", 1)[1])
        self._control = httpx.Client(base_url=self.url, timeout=10)
        return self

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._stderr.join()
            for pipe in (self._proc.stdout, self._proc.stderr):
                if pipe is not None:
                    pipe.close()
            self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        self._dir.cleanup()

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        assert self._control is not None, "the emulator is not running"
        response = self._control.request(method, f"/_emulator/{path}", json=json)
        response.raise_for_status()
        return response.json()

    def log(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._call("GET", "log")
        return entries

    def writes(self) -> list[dict[str, Any]]:
        """API requests that could have changed something (whatever their answer)."""
        return [e for e in self.log() if e["method"] in WRITES]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self._call("GET", "counts")
        return counts

    def clear_log(self) -> None:
        self._call("DELETE", "log")

    def redirections(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._call("GET", "redirections")
        return rows

    def inject(self, **rule: Any) -> None:
        """Arms a fault rule; see `FaultRule` for its fields."""
        self._call("POST", "faults", rule)

    def faults(self) -> list[dict[str, Any]]:
        """The armed fault rules that still have uses left (`left`): a request takes one as it arrives."""
        armed: list[dict[str, Any]] = self._call("GET", "faults")
        return armed

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def reset(self) -> None:
        self._call("POST", "reset")
