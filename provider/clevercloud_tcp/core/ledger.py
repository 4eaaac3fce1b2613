"""The redirections a deployment made or took over, known to every provider process of that deployment.

A rename without alias, or a move from the dynamic provider to the plugin, creates the new resource
before the engine deletes the old one, and both may name the same port: taken over with adopt=True, or
handed out again after the old one was removed outside Pulumi. That delete must leave the port alone,
or the stack records a port nobody holds and every client of it is cut off.

The create and the delete may run in different processes of one `pulumi` command: the plugin and the
dynamic provider host, or two plugins of explicit providers. So the ledger of a run is a folder that
all of them reach, named after the run (the engine's address, which the engine hands every provider
process it starts). An entry holds the pid of the process that wrote it, and counts only while that
process lives: the engine stops its providers when the command ends, so a crashed run's entries, or an
old run's whose engine address comes round again, count for nothing and are swept away.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from pathlib import Path

Key = tuple[str, str, str, int]  # owner, app, namespace, port
# Where no pid can be asked after safely (os.kill(pid, 0) would end the process on Windows), an entry
# counts for a day: longer than any one `pulumi` command.
ENTRY_LIFETIME = 24 * 3600.0


def runs_root() -> Path:
    """The per-user folder holding one ledger folder per run."""
    # The uid where there is one: a provider started with `env -i` in a container may have no user name.
    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"clevercloud-tcp-{user}" / "runs"


def _name(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _counts(entry: Path) -> bool:
    try:
        pid = int(entry.read_text())
        age = time.time() - entry.stat().st_mtime
    except (OSError, ValueError):
        return False
    return _alive(pid) if os.name == "posix" else age < ENTRY_LIFETIME


class Ledger:
    """The keys this deployment made or adopted: in this process, and in `run`'s folder when given."""

    def __init__(self, run: str | None = None, root: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._keys: set[Key] = set()
        self._folder = (root or runs_root()) / _name(run) if run else None

    @property
    def folder(self) -> Path | None:
        return self._folder

    def _entry(self, key: Key) -> Path:
        assert self._folder is not None
        return self._folder / _name("/".join(map(str, key)))

    def record(self, key: Key) -> None:
        with self._lock:
            self._keys.add(key)
        if self._folder is None:
            return
        entry = self._entry(key)
        written = entry.with_suffix(f".{os.getpid()}")
        for attempt in (1, 2):  # a sweep by another run may remove the folder between mkdir and write
            try:
                for folder in (self._folder.parent.parent, self._folder.parent, self._folder):
                    folder.mkdir(exist_ok=True, mode=0o700)  # the user's alone, each level
                written.write_text(str(os.getpid()))
                written.replace(entry)  # whole or not at all, for a reader in another process
                return
            except FileNotFoundError:
                if attempt == 2:
                    raise

    def holds(self, key: Key) -> bool:
        with self._lock:
            if key in self._keys:
                return True
        return self._folder is not None and _counts(self._entry(key))


def _stale(entry: Path) -> bool:
    _, _, writer = entry.name.partition(".")
    if writer:  # still being written, by the process of that pid: stale once it died
        return os.name == "posix" and writer.isdigit() and not _alive(int(writer))
    return not _counts(entry)


def sweep(root: Path | None = None) -> None:
    """Removes the entries that no longer count, and the run folders they leave empty."""
    base = root or runs_root()
    if not base.is_dir():
        return
    for folder in base.iterdir():
        try:  # another process may sweep the same folder at the same time
            for entry in folder.iterdir():
                if _stale(entry):
                    entry.unlink(missing_ok=True)
            folder.rmdir()  # only when empty
        except OSError:
            continue
