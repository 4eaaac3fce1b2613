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

What that folder holds decides whether a delete happens, and the sweep deletes files in it: so it is
the user's alone (`runs_root`), every level of it is checked with lstat before use (a real folder,
the user's, no access for anyone else), links are never followed, and the sweep touches only names
of the ledger's own form. Where no such place exists, the ledger is this process's alone, said once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import threading
import time
from collections.abc import Mapping
from pathlib import Path

Key = tuple[str, str, str, int]  # owner, app, namespace, port
# Where no pid can be asked after safely (os.kill(pid, 0) would end the process on Windows), an entry
# counts for a day: longer than any one `pulumi` command.
ENTRY_LIFETIME = 24 * 3600.0
NAME = re.compile(r"[0-9a-f]{32}")  # a run folder's or an entry's name
BEING_WRITTEN = re.compile(r"([0-9a-f]{32})\.(\d+)")  # an entry being written by the process of that pid
# Entries are never opened through a link (O_NOFOLLOW where the system has it).
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
POSIX = os.name == "posix"
log = logging.getLogger("clevercloud_tcp")


class Unsafe(Exception):
    """A level of the ledger's folder that only its user should reach, but others can, or is not a folder."""


def runs_root(env: Mapping[str, str] | None = None) -> Path:
    """The per-user folder holding one ledger folder per run: in `$XDG_RUNTIME_DIR` (per user, private,
    emptied at logout) when set, else in the user's cache folder."""
    env = os.environ if env is None else env
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime):
        return Path(runtime) / "clevercloud-tcp" / "runs"
    cache = env.get("XDG_CACHE_HOME", "")
    base = Path(cache) if cache and os.path.isabs(cache) else Path(env.get("HOME") or Path.home()) / ".cache"
    if not POSIX:
        base = Path(env.get("LOCALAPPDATA") or base)
    return base / "clevercloud-tcp" / "runs"


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


def _check(path: Path, private: bool) -> None:
    """Raises Unsafe unless `path` is a real folder (not a link) of this user, without access for others
    when `private` (the ledger's own levels), or writable by nobody else (the folder holding them)."""
    if not POSIX:  # per-user profile folders, private by their ACLs; no uid to compare
        return
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise Unsafe(f"{path} is not a folder")
    if info.st_uid != os.getuid():
        raise Unsafe(f"{path} belongs to uid {info.st_uid}, not to this user (uid {os.getuid()})")
    if info.st_mode & (0o077 if private else 0o022):
        raise Unsafe(f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):o})")


def _prepare(root: Path, make: bool) -> bool:
    """Checks the base folder and each of the ledger's levels down to `root`, making them when `make`;
    False when one is missing and not made. Raises Unsafe, or OSError when one cannot be made."""
    base = root.parent.parent
    if make and POSIX:
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not os.path.lexists(base):
        return False
    _check(base, private=False)
    for level in (root.parent, root):  # `clevercloud-tcp/runs`: the ledger's own
        if make:
            try:
                level.mkdir(mode=0o700)
            except FileExistsError:
                pass
        elif not os.path.lexists(level):
            return False
        _check(level, private=True)
    return True


def _fallback(reason: object) -> None:
    """A warning, which the faces pass on to the engine, which shows it; said once, as the ledger then
    has no folder to fail on again."""
    log.warning(
        f"clevercloud-tcp: the shared ledger folder cannot be used ({reason}); this provider process keeps "
        "its own record only, so a port adopted in one provider process of this command may be removed by a "
        "delete in another. Make the folder a private one of yours (chmod 700), or set XDG_RUNTIME_DIR."
    )


def _read_pid(folder: Path, name: str) -> int | None:
    """The pid an entry holds, read without following a link; None when it is not a plain file of this user's."""
    try:
        fd = os.open(folder / name, os.O_RDONLY | NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or (POSIX and info.st_uid != os.getuid()):
            return None
        text = os.read(fd, 32).decode(errors="replace")
        age = time.time() - info.st_mtime
    finally:
        os.close(fd)
    if not text.isdigit():
        return None
    return int(text) if POSIX or age < ENTRY_LIFETIME else None


def _counts(folder: Path, name: str) -> bool:
    pid = _read_pid(folder, name)
    return pid is not None and (_alive(pid) if POSIX else True)


class Ledger:
    """The keys this deployment made or adopted: in this process, and in `run`'s folder when given."""

    def __init__(self, run: str | None = None, root: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._keys: set[Key] = set()
        self._root = root or runs_root()
        self._folder = self._root / _name(run) if run else None

    @property
    def folder(self) -> Path | None:
        return self._folder

    def _give_up(self, reason: object) -> None:
        self._folder = None
        _fallback(reason)

    def record(self, key: Key) -> None:
        """Records `key`; never raises: it follows a write the API has made, which must reach the state."""
        with self._lock:
            self._keys.add(key)
            if self._folder is None:
                return
            try:
                self._write(self._folder, _name("/".join(map(str, key))))
            except (OSError, Unsafe) as exc:
                self._give_up(exc)

    def _write(self, folder: Path, name: str) -> None:
        pid = str(os.getpid())
        for attempt in (1, 2):  # a sweep by another run may remove the folder between mkdir and write
            try:
                _prepare(self._root, make=True)
                try:
                    folder.mkdir(mode=0o700)
                except FileExistsError:
                    pass
                _check(folder, private=True)
                written = folder / f"{name}.{pid}"
                written.unlink(missing_ok=True)  # left by a process of the same pid that died writing it
                fd = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o600)
                try:
                    os.write(fd, pid.encode())
                finally:
                    os.close(fd)
                os.replace(written, folder / name)  # whole or not at all, for a reader in another process
                return
            except FileNotFoundError:
                if attempt == 2:
                    raise

    def holds(self, key: Key) -> bool:
        with self._lock:
            if key in self._keys:
                return True
            folder = self._folder
            if folder is None:
                return False
            try:
                if not _prepare(self._root, make=False) or not os.path.lexists(folder):
                    return False
                _check(folder, private=True)
            except (OSError, Unsafe) as exc:
                self._give_up(exc)
                return False
        return _counts(folder, _name("/".join(map(str, key))))


def _stale(folder: Path, name: str) -> bool:
    if NAME.fullmatch(name):
        return not _counts(folder, name)
    writing = BEING_WRITTEN.fullmatch(name)  # by the process of that pid: stale once it died
    return writing is not None and POSIX and not _alive(int(writing.group(2)))


def _plain_file(folder: Path, name: str) -> bool:
    try:
        return stat.S_ISREG(os.lstat(folder / name).st_mode)
    except OSError:
        return False


def sweep(root: Path | None = None) -> None:
    """Removes the entries that no longer count, and the run folders they leave empty: only names of
    the ledger's own form, only plain files, in folders that passed the checks."""
    base = root or runs_root()
    try:
        if not _prepare(base, make=False):
            return
        runs = [name for name in os.listdir(base) if NAME.fullmatch(name)]
    except (OSError, Unsafe):
        return  # the ledger says so when it is used
    for run in runs:
        folder = base / run
        try:  # another process may sweep the same folder at the same time
            _check(folder, private=True)
            for name in os.listdir(folder):
                if _stale(folder, name) and _plain_file(folder, name):
                    (folder / name).unlink(missing_ok=True)
            folder.rmdir()  # only when empty
        except (OSError, Unsafe):
            continue
