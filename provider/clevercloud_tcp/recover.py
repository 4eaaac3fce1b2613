"""`python -m clevercloud_tcp.recover [--destroy]`: after an interrupted `pulumi up` (or, with
`--destroy`, `pulumi destroy`), one command, run in the project folder once the interrupted command is
gone (it releases the stack's lock). What it does is `clevercloud_tcp.runtime.recovery`'s; this drives
it with the CLI.

Programs run through the Automation API recover with `python -m clevercloud_tcp.run PROGRAM recover`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .runtime.recovery import CliSteps, RecoveryFailed, recover


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m clevercloud_tcp.recover", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-C", "--cwd", type=Path, default=Path.cwd(), help="the project folder (default: here)")
    parser.add_argument("-s", "--stack", help="the stack (default: the selected one)")
    parser.add_argument("--pulumi", default=shutil.which("pulumi"), help="the pulumi CLI (default: the one on PATH)")
    parser.add_argument("--destroy", action="store_true", help="the interrupted command was `pulumi destroy`: finish it")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.pulumi:
        sys.exit("clevercloud_tcp.recover: no pulumi CLI on PATH; give it with --pulumi PATH")
    backend = json.loads(subprocess.run(
        [args.pulumi, "whoami", "--json", "--non-interactive"], cwd=args.cwd, capture_output=True, text=True
    ).stdout or "{}").get("url", "")
    try:
        recover(backend, CliSteps(args.pulumi, args.cwd, args.stack), destroy=args.destroy)
    except RecoveryFailed as err:
        sys.exit(f"clevercloud_tcp.recover: {err}")


if __name__ == "__main__":
    main()
