"""Upgrades keep every port: each recorded baseline in tests/baselines/ is previewed and brought up with
this checkout, and nothing changes.

A baseline (`tests/baselines/record <ref>` makes one) is a stack that an earlier release made: its state
export and the redirections the emulator held. Here the emulator is restored with those redirections
(its SQLite state file), the export is imported into a fresh stack of the same program, and this
version must find nothing to do: no resource changed or replaced (a replaced redirection gets a new
random port, and every client's connection string breaks) and no write to the API. The dynamic face's
state holds the provider pickled by reference to `clevercloud_tcp.provider.TcpRedirectionProvider`;
the plugin face's names the previous release's default provider.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from clevercloud_tcp.emulator.fixture import DEFAULT_FIXTURE
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.emulator.store import Store
from support import held, quiet

BASELINES = Path(__file__).resolve().parents[1] / "baselines"
sys.path.insert(0, str(BASELINES))

from stacks import baseline_stack  # noqa: E402

RECORDED = sorted(BASELINES.glob("v*/*.json"))


def restored_emulator_state(path: Path, redirections: list[dict[str, Any]]) -> Path:
    """The emulator's SQLite state file holding `redirections` on their recorded ports."""
    Store(DEFAULT_FIXTURE.namespaces, path).close()  # the emulator's own schema
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO redirections (owner_id, app_id, namespace, port) VALUES (:owner_id, :app_id, :namespace, :port)",
            redirections,
        )
    return path


def steps(events: list[auto.EngineEvent]) -> dict[str, str]:
    """urn -> the operation the engine planned for it."""
    return {e.resource_pre_event.metadata.urn: e.resource_pre_event.metadata.op.value for e in events if e.resource_pre_event}


@pytest.mark.parametrize("path", RECORDED, ids=[f"{p.parent.name}-{p.stem}" for p in RECORDED])
def test_a_stack_of_an_earlier_release_previews_and_updates_with_no_change(pulumi_cli: Path, tmp_path: Path, path: Path) -> None:
    baseline = json.loads(path.read_text())
    face = path.stem
    state = restored_emulator_state(tmp_path / "emulator.sqlite", baseline["held"])
    with EmulatorProcess(state=state) as emulator:
        before = held(emulator)
        stack = baseline_stack(face, cli_dir=pulumi_cli, state_dir=tmp_path / "pulumi", endpoint=emulator.url)
        stack.import_stack(auto.Deployment(version=baseline["deployment"]["version"], deployment=baseline["deployment"]["deployment"]))

        events: list[auto.EngineEvent] = []
        preview = stack.preview(color="never", on_output=quiet, on_event=events.append)
        planned = steps(events)
        redirections = {urn: op for urn, op in planned.items() if urn.endswith(tuple(f"::{n}" for n in ("cache", "broker", "game", "adopted")))}
        assert sorted(redirections.values()) == ["same"] * 4, f"{path.name}: {planned}"
        assert preview.change_summary.get("replace", 0) == 0 and preview.change_summary.get("update", 0) == 0, preview.change_summary
        assert emulator.writes() == []

        events.clear()
        stack.up(color="never", on_output=quiet, on_event=events.append)
        assert {op for urn, op in steps(events).items() if urn in redirections} == {"same"}
        assert emulator.writes() == []
        assert held(emulator) == before
        assert {k: v.value for k, v in stack.outputs().items()} == baseline["outputs"]
