"""What a provider process sets up once, whichever face it serves.

- It exits when the engine that started it dies, so that no API write outlives the `pulumi` command.
  The engine starts each provider as its child; when the engine is killed the provider is left
  running (it was seen sending writes 28 s later), and its parent then changes, which is what this
  watches.
- The package's own notes (a delete that found nothing to remove, a retry) go to stderr, which the
  engine keeps in its log; not every HTTP request.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

_started = threading.Event()


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
