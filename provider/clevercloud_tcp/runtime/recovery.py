"""After an interrupted `pulumi up` or `pulumi destroy`, the one recovery, for both ways of running a stack.

`python -m clevercloud_tcp.recover` drives it with the `pulumi` CLI in a project folder, and
`python -m clevercloud_tcp.run PROGRAM recover` through the Automation API; each supplies `Steps`:

1. what a kill leaves in a local file backend is repaired: an empty `<stack>.json.attrs` sidecar, which
   makes every later command fail with `failed to load checkpoint: EOF`, `pulumi cancel` included;
2. the lock the killed command left is released (`pulumi cancel`): run the recovery once it is gone;
3. `refresh --clear-pending-creates`: every recorded redirection is read back (one removed meanwhile
   leaves the state) and the creates the interrupted run left pending are dropped;
4. after an interrupted `up`: `up` with CLEVERCLOUD_TCP_RECOVER=true, in which a redirection that
   already exists for a declared key (`<app_id>/<namespace>`) is taken as the one the interrupted run
   made; after an interrupted `destroy` (`--destroy`): `destroy`, which finishes it and creates nothing.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from pulumi import automation as auto

from ..core.session import RECOVER

__all__ = ["RECOVER", "CliSteps", "RecoveryFailed", "StackSteps", "Steps", "empty_sidecars", "recover"]


class Steps(Protocol):
    """The commands of one stack, however they are run."""

    def cancel(self) -> None:
        """Releases the lock of an update that no longer runs (nothing when there is none)."""

    def refresh_clearing_pending_creates(self) -> None: ...

    def up_recovering(self) -> None:
        """`up` with RECOVER=true in the environment of the provider processes."""

    def destroy(self) -> None: ...


class RecoveryFailed(Exception):
    """A step of the recovery failed; its own output says why."""


class CliSteps:
    """The steps with the `pulumi` CLI in a project folder, its output passed through."""

    def __init__(self, binary: str, cwd: Path, stack: str | None) -> None:
        self.binary, self.cwd = binary, cwd
        self.stack_args = ["--stack", stack] if stack else []

    def run(self, *args: str, env: dict[str, str] | None = None) -> None:
        command = [self.binary, *args, *self.stack_args, "--non-interactive"]
        print(f"=== {' '.join(['pulumi', *args, *self.stack_args])}", flush=True)
        done = subprocess.run(command, cwd=self.cwd, env={**os.environ, **(env or {})})
        if done.returncode != 0:
            raise RecoveryFailed(f"`pulumi {args[0]}` failed (see above); fix that, then run this again")

    def cancel(self) -> None:
        self.run("cancel", "--yes")

    def refresh_clearing_pending_creates(self) -> None:
        self.run("refresh", "--clear-pending-creates", "--yes", "--skip-preview")

    def up_recovering(self) -> None:
        self.run("up", "--yes", "--skip-preview", env={RECOVER: "true"})

    def destroy(self) -> None:
        self.run("destroy", "--yes", "--skip-preview")


class StackSteps:
    """The steps through the Automation API. `make_stack` must give RECOVER=true to the stack's
    environment; it is called once the backend is repaired (selecting the stack reads it)."""

    def __init__(self, make_stack: Callable[[], auto.Stack], **output: Any) -> None:
        self._make_stack, self._output = make_stack, output

    @functools.cached_property
    def stack(self) -> auto.Stack:
        return self._make_stack()

    def cancel(self) -> None:
        self.stack.cancel()

    def refresh_clearing_pending_creates(self) -> None:
        self.stack.refresh(clear_pending_creates=True, **self._output)

    def up_recovering(self) -> None:
        self.stack.up(**self._output)

    def destroy(self) -> None:
        self.stack.destroy(**self._output)


def empty_sidecars(backend_url: str) -> list[Path]:
    """The empty `.attrs` files of a file backend's stacks (none for another kind of backend)."""
    parts = urlsplit(backend_url)
    if parts.scheme != "file":
        return []
    stacks = Path(unquote(parts.path) or Path.home()) / ".pulumi" / "stacks"
    return sorted(p for p in stacks.rglob("*.attrs") if p.is_file() and p.stat().st_size == 0)


def recover(backend_url: str, steps: Steps, *, destroy: bool, say: Callable[[str], None] = print) -> None:
    for sidecar in empty_sidecars(backend_url):
        say(f"=== removing {sidecar}: empty, left by an interrupted write (`failed to load checkpoint: EOF`)")
        sidecar.unlink()
    steps.cancel()
    steps.refresh_clearing_pending_creates()
    if destroy:
        steps.destroy()
        say("=== recovered: the interrupted destroy is finished; the API holds none of the stack's redirections")
    else:
        steps.up_recovering()
        say("=== recovered: the API holds what the program declares, and the state records it")
