"""The ledger on a machine shared with other users (CI runners, bastions, build hosts): nothing another
local user plants, and no unusable folder, turns it against its user.

The two-user cases run as two real unprivileged uids: the test process forks, and each child drops to
its uid (setgroups, setgid, setuid) before doing what that user does, so the kernel enforces every
permission as it would for them. This needs root, as here and in CI.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from clevercloud_tcp.config import PLUGIN_KEYS
from clevercloud_tcp.core import resource
from clevercloud_tcp.core.ledger import Ledger, runs_root
from clevercloud_tcp.core.session import Deployment
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.testing.plugin_harness import PluginHost
from support import APP, OWNER, SECRET, TOKEN, unavailable

T = TypeVar("T")
ATTACKER, VICTIM = 61731, 61732  # uids with no account: the kernel checks them all the same
RUN = "127.0.0.1:41731"  # the engine address, which every local user reads in the plugin's command line
KEY = (OWNER, APP, "default", 5123)
KEYS = ("id_ed25519", "deploy", "authorized_keys")
LEDGER_SHAPED = Path(hashlib.sha256(b"a folder").hexdigest()[:32], hashlib.sha256(b"a file").hexdigest()[:32])


def as_user(uid: int, work: Callable[[], T]) -> T:
    """`work()`'s result, run in a child process that is uid `uid` (and gid `uid`, no other group)."""
    if os.geteuid() != 0:
        unavailable("the two-user ledger tests act as two users: they need root (as here and in CI)")
    read, write = os.pipe()
    # What the child imports it must read as that user: the stdlib may be root's alone (pyenv under /root).
    import importlib.readers  # noqa: F401  (httpx's first client loads it through certifi)

    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read)
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            said: tuple[bool, Any] = (True, work())
        except BaseException as exc:  # reported in the parent
            said = (False, f"{type(exc).__name__}: {exc}")
        with os.fdopen(write, "wb") as out:
            out.write(pickle.dumps(said))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        data = answer.read()
    os.waitpid(pid, 0)
    ok, value = pickle.loads(data)
    assert ok, f"as uid {uid}: {value}"
    return value  # type: ignore[no-any-return]


def _name(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@pytest.fixture
def machine() -> Iterator[Path]:
    """A folder every user may add to, as /tmp (sticky, 1777), holding the victim's home (0755, theirs,
    with private keys in it)."""
    base = Path(tempfile.mkdtemp(prefix="cctcp-shared-"))
    base.chmod(0o1777)
    home = base / "victim"
    keys = home / "keys"
    keys.mkdir(parents=True)
    for name in KEYS:
        (keys / name).write_text(f"{name} of the victim\n")
    # Names of the ledger's own form too, which only the folder checks keep the sweep from.
    (home / LEDGER_SHAPED).parent.mkdir()
    (home / LEDGER_SHAPED).write_text("the victim's data, not a pid")
    for path in [home, keys, *keys.iterdir(), (home / LEDGER_SHAPED).parent, home / LEDGER_SHAPED]:
        os.chown(path, VICTIM, VICTIM)
    old_place = Path("/tmp") / f"clevercloud-tcp-{VICTIM}"  # where the previous release kept the ledger
    shutil.rmtree(old_place, ignore_errors=True)
    yield base
    shutil.rmtree(old_place, ignore_errors=True)
    shutil.rmtree(base)


# Where the attacker plants: the previous release's place in /tmp (the victim has no XDG_RUNTIME_DIR), or
# a $XDG_RUNTIME_DIR that is the attacker's.
PLACES = ("old-tmp-place", "foreign-runtime-dir")


def planted_runs(machine: Path, place: str) -> tuple[Path, Path | None]:
    """The `runs` the attacker plants, and the victim's XDG_RUNTIME_DIR."""
    if place == "old-tmp-place":
        return Path("/tmp") / f"clevercloud-tcp-{VICTIM}" / "runs", None
    runtime = machine / "runtime"
    return runtime / "clevercloud-tcp" / "runs", runtime


def attacker_plants(runs: Path, plant: Callable[[Path], None]) -> None:
    """The attacker makes the folders above `runs` (0755, theirs), then `plant(runs)`."""

    def work() -> None:
        runs.parent.mkdir(parents=True, mode=0o755, exist_ok=True)
        plant(runs)

    as_user(ATTACKER, work)


def as_victim(machine: Path, runtime: Path | None, work: Callable[[], T]) -> T:
    """`work()` as the victim, in their environment: their home, and `runtime` as XDG_RUNTIME_DIR."""

    def in_their_environment() -> T:
        for name in [*os.environ]:
            if name.startswith("XDG_") or name in ("TMPDIR", "TEMP", "TMP"):
                del os.environ[name]
        os.environ["HOME"] = str(machine / "victim")
        if runtime:
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        return work()

    return as_user(VICTIM, in_their_environment)


@pytest.mark.parametrize("place", PLACES)
def test_a_runs_link_to_the_victims_files_deletes_none_of_them(machine: Path, place: str) -> None:
    """Reproduced on the previous release: the victim's sweep, at every provider start, deleted every
    key and removed `keys/`."""
    runs, runtime = planted_runs(machine, place)
    attacker_plants(runs, lambda runs: runs.symlink_to(machine / "victim"))

    as_victim(machine, runtime, lambda: Deployment(PLUGIN_KEYS, run=RUN).close())

    assert sorted(p.name for p in (machine / "victim" / "keys").iterdir()) == sorted(KEYS)
    assert (machine / "victim" / LEDGER_SHAPED).is_file()


@pytest.mark.parametrize("place", PLACES)
def test_a_planted_entry_holding_a_live_pid_does_not_make_a_delete_skip(machine: Path, place: str, emulator: EmulatorProcess) -> None:
    """An entry of the ledger's form, with pid 1, planted where the previous release looked for the
    victim's ledger, or in a $XDG_RUNTIME_DIR the attacker owns: the victim's delete still removes the port."""
    config = {"clevercloud-tcp:endpoint": emulator.url, "clevercloud-tcp:token": TOKEN, "clevercloud-tcp:secret": SECRET}
    made = Deployment(PLUGIN_KEYS)
    id_, outputs = resource.create(made.session(config), {"appId": APP, "namespace": "default", "ownerId": OWNER})
    made.close()
    key = "/".join(map(str, (OWNER, APP, "default", outputs["port"])))

    def entry(runs: Path) -> None:
        run = runs / _name(RUN)
        run.mkdir(parents=True, mode=0o755)
        (run / _name(key)).write_text("1")

    runs, runtime = planted_runs(machine, place)
    attacker_plants(runs, entry)

    def delete() -> str:
        deployment = Deployment(PLUGIN_KEYS, run=RUN)
        try:
            return resource.delete(deployment.session(config), id_, outputs).value
        finally:
            deployment.close()

    assert as_victim(machine, runtime, delete) == resource.Deleted.REMOVED.value
    assert emulator.redirections() == []


def test_the_victims_own_ledger_is_out_of_the_attackers_reach(machine: Path) -> None:
    """What one user records, in their own ledger, another can neither read nor add to."""
    folder = as_victim(machine, None, lambda: _recorded_folder(KEY))
    assert folder.startswith(str(machine / "victim" / ".cache"))

    def plant() -> str:
        try:
            (Path(folder) / _name("/".join(map(str, (OWNER, APP, "cleverapps", 5124))))).write_text("1")
        except PermissionError:
            return "refused"
        return "written"

    assert as_user(ATTACKER, plant) == "refused"


def _recorded_folder(key: tuple[str, str, str, int]) -> str:
    ledger = Ledger(RUN)
    ledger.record(key)
    assert ledger.folder is not None and Ledger(RUN).holds(key), "the ledger was not shared"
    return str(ledger.folder)


# --- unusable folders: the create goes on, recorded in the process, one warning ------------------------


def blocked_root(tmp_path: Path) -> Path:
    """A ledger root whose `clevercloud-tcp` level is a plain file."""
    (tmp_path / "clevercloud-tcp").write_text("not a folder")
    return runs_root({"XDG_RUNTIME_DIR": str(tmp_path)})


def test_a_plain_file_where_the_folder_should_be_costs_one_warning_and_nothing_else(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = Ledger(RUN, blocked_root(tmp_path))
    with caplog.at_level(logging.WARNING, logger="clevercloud_tcp"):
        ledger.record(KEY)
        ledger.record((OWNER, APP, "cleverapps", 5124))
        assert ledger.holds(KEY)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "clevercloud-tcp" in warnings[0] and "chmod 700" in warnings[0]


def test_the_plugins_create_succeeds_and_is_recorded_with_a_plain_file_in_the_way(tmp_path: Path, emulator: EmulatorProcess) -> None:
    """Reproduced on the previous release: the POST succeeded, then the create failed with
    `[Errno 17] File exists`, and the API held a redirection no state recorded."""
    blocked_root(tmp_path)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)}
    with PluginHost({"endpoint": emulator.url, "token": TOKEN, "secret": SECRET}, engine=RUN, env=env) as plugin:
        id_, outputs = plugin.apply({"appId": APP, "namespace": "default"})
    assert [(r["app_id"], r["port"]) for r in emulator.redirections()] == [(APP, outputs["port"])]
    assert id_ == f"{APP}/default"


def test_the_plugin_starts_with_no_writable_temp_folder(tmp_path: Path) -> None:
    """/tmp and /var/tmp read-only, no TMPDIR, the working folder read-only: the plugin prints its port."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        unavailable("read-only temp folders need a mount namespace: root and `unshare`")
    mounts = "mount -t tmpfs -o ro tmpfs /tmp && mount -t tmpfs -o ro tmpfs /var/tmp && cd /tmp && exec \"$@\""
    env = {k: v for k, v in os.environ.items() if k not in ("TMPDIR", "TEMP", "TMP")} | {"HOME": str(tmp_path)}
    command = [sys.executable, "-u", "-m", "clevercloud_tcp.faces.plugin", RUN]
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        unavailable(f"`unshare -m` is refused here: {probe.stderr.decode().strip()}")
    plugin = subprocess.Popen(["unshare", "-m", "sh", "-c", mounts, "sh", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert plugin.stdout is not None
        first = plugin.stdout.readline().decode().strip()
    finally:
        plugin.kill()
        _, err = plugin.communicate()
    assert first.isdigit(), f"no port printed; stderr: {err.decode()[-2000:]}"
