"""Ends a provider process whose engine has gone, so that no API write outlives the `pulumi` command.

The engine starts each provider as its child. When the engine is killed, the provider is left running
(it was seen sending writes 28 s later); its parent then changes, which is what this watches.
"""

from __future__ import annotations

import os
import threading
import time

_started = threading.Event()


def exit_with_parent(interval: float = 0.5) -> None:
    """Starts (once per process) a daemon thread that exits the process when its parent dies."""
    if _started.is_set():
        return
    _started.set()
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(70)  # EX_SOFTWARE: nobody is left to report to

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
