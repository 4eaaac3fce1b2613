"""The ledger of one `pulumi` command is shared by all its provider processes, and by nothing else.

Unit tests of `core/ledger.py` on a folder of the test's own, then the case it exists for, over gRPC:
the plugin adopts a port that a dynamic provider process of the same run is then asked to delete.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clevercloud_tcp.core import ledger
from clevercloud_tcp.core.ledger import Ledger, sweep
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.hosting import engine_address
from support import APP, OWNER, provider_host

KEY = (OWNER, APP, "default", 5123)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_processes_of_one_run_see_each_others_keys_and_other_runs_do_not(tmp_path: Path) -> None:
    maker, deleter, other_run = Ledger("127.0.0.1:40001", tmp_path), Ledger("127.0.0.1:40001", tmp_path), Ledger("127.0.0.1:40002", tmp_path)
    assert not deleter.holds(KEY)
    maker.record(KEY)
    assert deleter.holds(KEY) and maker.holds(KEY)
    assert not other_run.holds(KEY)
    assert not deleter.holds((OWNER, APP, "default", 5124)) and not deleter.holds((OWNER, APP, "cleverapps", 5123))


def test_without_a_run_the_ledger_is_this_process_alone(tmp_path: Path) -> None:
    alone, other = Ledger(None, tmp_path), Ledger(None, tmp_path)
    alone.record(KEY)
    assert alone.holds(KEY) and not other.holds(KEY)
    assert list(tmp_path.iterdir()) == []


def test_an_entry_of_a_process_that_died_counts_for_nothing_and_is_swept(tmp_path: Path) -> None:
    """A crashed run, or an old run whose engine address comes round again, must not keep a delete from removing a port."""
    crashed = Ledger("127.0.0.1:40003", tmp_path)
    crashed.record(KEY)
    assert crashed.folder is not None
    [entry] = crashed.folder.iterdir()
    entry.write_text(str(dead_pid()))
    half_written = crashed.folder / f"{entry.name}.{dead_pid()}"
    half_written.write_text("")

    assert not Ledger("127.0.0.1:40003", tmp_path).holds(KEY)
    sweep(tmp_path)
    assert list(tmp_path.iterdir()) == [], "the dead run's folder was not removed"


def test_sweep_keeps_what_a_live_run_recorded(tmp_path: Path) -> None:
    live = Ledger("127.0.0.1:40004", tmp_path)
    live.record(KEY)
    sweep(tmp_path)
    assert Ledger("127.0.0.1:40004", tmp_path).holds(KEY)


def test_the_ledger_folder_is_the_users_own(tmp_path: Path) -> None:
    shared = Ledger("127.0.0.1:40005", tmp_path)
    shared.record(KEY)
    assert shared.folder is not None and shared.folder.stat().st_mode & 0o077 == 0
    assert str(os.getpid()) == next(shared.folder.iterdir()).read_text()
    assert ledger.runs_root().name == "runs"


@pytest.mark.parametrize(
    ("argv", "address"),
    [
        (["127.0.0.1:35711"], "127.0.0.1:35711"),
        (["--logtostderr", "-v=9", "--tracing", "file:/tmp/t", "127.0.0.1:35711"], "127.0.0.1:35711"),
        (["[::1]:35711"], "[::1]:35711"),
        (["127.0.0.1:0"], None),  # a test acting as the engine: no run to share
        ([], None),
        (["set PULUMI_PYTHON_CMD to the Python that runs your program"], None),
    ],
)
def test_the_run_is_the_engine_address_given_last(argv: list[str], address: str | None) -> None:
    assert engine_address(argv) == address


def made_by_an_earlier_run(emulator: EmulatorProcess) -> dict[str, object]:
    """The outputs of a redirection a dynamic provider process of an earlier `pulumi` command made."""
    with provider_host("dynamic", emulator, engine="127.0.0.1:40006") as earlier:
        return earlier.apply({"appId": APP, "namespace": "default"})[1]


def test_a_port_the_plugin_adopted_survives_the_delete_of_a_dynamic_resource_of_the_same_run(emulator: EmulatorProcess) -> None:
    """A stack moving from the dynamic provider to the plugin with adopt=True and no alias, as the engine
    drives it: the plugin's create adopts the port, then the dynamic provider host deletes the old resource."""
    old = made_by_an_earlier_run(emulator)
    run = "127.0.0.1:40007"
    with provider_host("plugin", emulator, engine=run) as plugin, provider_host("dynamic", emulator, engine=run) as dynamic:
        _, new = plugin.apply({"appId": APP, "namespace": "default", "adopt": True})
        emulator.clear_log()
        dynamic.delete(f"{APP}/default", old)
    assert new["port"] == old["port"] and new["adopted"] is True
    assert [(r["app_id"], r["port"]) for r in emulator.redirections()] == [(APP, old["port"])]
    assert emulator.writes() == []


def test_a_delete_in_another_run_still_removes_the_port(emulator: EmulatorProcess) -> None:
    old = made_by_an_earlier_run(emulator)
    with provider_host("plugin", emulator, engine="127.0.0.1:40008") as plugin:
        plugin.apply({"appId": APP, "namespace": "default", "adopt": True})
    with provider_host("dynamic", emulator, engine="127.0.0.1:40009") as dynamic:
        dynamic.delete(f"{APP}/default", old)
    assert emulator.redirections() == []


def test_sweep_touches_only_plain_files_of_the_ledgers_own_form(tmp_path: Path) -> None:
    """A file the user put there, and a link of an entry's form to a file elsewhere: both kept, the
    link's target too (it is never read or deleted through)."""
    root = tmp_path / "clevercloud-tcp" / "runs"
    crashed = Ledger("127.0.0.1:40010", root)
    crashed.record(KEY)
    assert crashed.folder is not None
    [entry] = crashed.folder.iterdir()
    entry.write_text(str(dead_pid()))
    elsewhere = tmp_path / "precious"
    elsewhere.write_text("not a pid")
    link = crashed.folder / ("0" * 32)
    link.symlink_to(elsewhere)
    (crashed.folder / "notes").write_text("mine")

    sweep(root)

    assert sorted(p.name for p in crashed.folder.iterdir()) == sorted([link.name, "notes"])
    assert elsewhere.read_text() == "not a pid"
