"""`python -m clevercloud_tcp.recover`: after an interrupted `pulumi up` or `destroy`, one command.

Run it in the project folder, after `pulumi cancel` if the stack is still locked. It:
1. repairs what a kill leaves in a local file backend: an empty `<stack>.json.attrs` sidecar, which
   makes the CLI fail with `failed to load checkpoint: EOF`;
2. `pulumi refresh --clear-pending-creates`: reads back every recorded redirection and drops the
   creates the interrupted run left pending (the redirections some of them made are taken over next);
3. `pulumi up` with CLEVERCLOUD_TCP_RECOVER=true: a redirection that already exists for a key the
   program declares (`<app_id>/<namespace>`, one per application and namespace) is taken as the one
   the interrupted run made and recorded as this resource's, with no program edit and no `adopt` left
   behind. Everything else is created, updated or deleted as in any `pulumi up`.

Programs run through the Automation API recover with `python -m clevercloud_tcp.run PROGRAM recover`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .core.session import RECOVER


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m clevercloud_tcp.recover", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-C", "--cwd", type=Path, default=Path.cwd(), help="the project folder (default: here)")
    parser.add_argument("-s", "--stack", help="the stack (default: the selected one)")
    parser.add_argument("--pulumi", default=shutil.which("pulumi"), help="the pulumi CLI (default: the one on PATH)")
    return parser.parse_args(argv)


def empty_sidecars(backend_url: str) -> list[Path]:
    """The empty `.attrs` files of a file backend's stacks (none for another kind of backend)."""
    parts = urlsplit(backend_url)
    if parts.scheme != "file":
        return []
    stacks = Path(unquote(parts.path) or Path.home()) / ".pulumi" / "stacks"
    return sorted(p for p in stacks.rglob("*.attrs") if p.is_file() and p.stat().st_size == 0)


class Pulumi:
    """The CLI in the project folder, its output passed through."""

    def __init__(self, binary: str, cwd: Path, stack: str | None) -> None:
        self.binary, self.cwd = binary, cwd
        self.stack_args = ["--stack", stack] if stack else []

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> None:
        command = [self.binary, *args, *self.stack_args, "--non-interactive"]
        print(f"=== {' '.join(['pulumi', *args, *self.stack_args])}", flush=True)
        done = subprocess.run(command, cwd=self.cwd, env={**os.environ, **(env or {})})
        if done.returncode != 0:
            raise SystemExit(f"clevercloud_tcp.recover: `pulumi {args[0]}` failed (see above); fix that, then run this again")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.pulumi:
        sys.exit("clevercloud_tcp.recover: no pulumi CLI on PATH; give it with --pulumi PATH")
    pulumi = Pulumi(args.pulumi, args.cwd, args.stack)
    backend = json.loads(subprocess.run(
        [args.pulumi, "whoami", "--json", "--non-interactive"], cwd=args.cwd, capture_output=True, text=True
    ).stdout or "{}").get("url", "")
    for sidecar in empty_sidecars(backend):
        print(f"=== removing {sidecar}: empty, left by an interrupted write (`failed to load checkpoint: EOF`)")
        sidecar.unlink()
    pulumi("refresh", "--clear-pending-creates", "--yes", "--skip-preview")
    pulumi("up", "--yes", "--skip-preview", env={RECOVER: "true"})
    print("=== recovered: the API holds what the program declares, and the state records it")


if __name__ == "__main__":
    main()
