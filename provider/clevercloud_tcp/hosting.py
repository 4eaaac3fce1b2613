"""What a provider process sets up once, whichever face it serves.

- It exits when the engine that started it dies, so that no API write outlives the `pulumi` command.
  The engine starts each provider as its child; when the engine is killed the provider is left
  running (it was seen sending writes 28 s later), and its parent then changes, which is what this
  watches.
- The package's own notes (a delete that found nothing to remove, a retry) go to stderr, which the
  engine keeps in its log; not every HTTP request.
- The engine's address, which the engine gives every provider process it starts as its last argument,
  names the run: the provider processes of one `pulumi` command share what they made (core/ledger.py).
- It starts with no writable temp folder (a read-only /tmp, as in hardened containers): the provider
  writes no temp file, but an import on the way (dill's, through pulumi) asks where the temp folder is.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Sequence

from .core.ledger import runs_root

_started = threading.Event()
ADDRESS = re.compile(r"[\w.\-\[\]:]+:\d+")


def engine_address(argv: Sequence[str] | None = None) -> str | None:
    """The address of the engine that started this provider process (its last argument), if any; port 0
    says there is none (a test acting as the engine)."""
    args = sys.argv[1:] if argv is None else argv
    if not args or not ADDRESS.fullmatch(args[-1]) or args[-1].endswith(":0"):
        return None
    return args[-1]


def _exit_with_parent(interval: float) -> None:
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(70)  # EX_SOFTWARE: nobody is left to report to

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def start_provider_process(interval: float = 0.5) -> None:
    """Once per process: watch the engine, and log the package's notes to stderr."""
    if _started.is_set():
        return
    _started.set()
    _exit_with_parent(interval)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    package = logging.getLogger("clevercloud_tcp")
    package.addHandler(handler)
    package.setLevel(logging.INFO)


def answer_temp_folder_question() -> None:
    """Before pulumi is imported: where no temp folder is writable, name one in the user's cache (made
    private when it can be), so that an import asking for it does not end the process."""
    try:
        tempfile.gettempdir()
    except FileNotFoundError:
        private = runs_root().parent / "tmp"
        try:
            private.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:
            pass  # only named: nothing is written there
        tempfile.tempdir = str(private)
