"""Tests of a user's stack (my_stack.py) with the testing kit only: its fixtures and `clevercloud_tcp.testing`."""

from __future__ import annotations

from collections.abc import Callable

import pulumi_clevercloud_tcp
import pytest
from my_stack import program

import clevercloud_tcp.dynamic
from clevercloud_tcp.testing import Emulator, ProgramStack, cleverapps_domain

SDKS = {"dynamic": clevercloud_tcp.dynamic.TcpRedirection, "plugin": pulumi_clevercloud_tcp.TcpRedirection}


@pytest.fixture(params=sorted(SDKS))
def stack(request: pytest.FixtureRequest, clevercloud_emulator: Emulator, clevercloud_stack: Callable[..., ProgramStack]) -> ProgramStack:
    """My program through one face, for an app with one custom domain."""
    app = clevercloud_emulator.add_app("broker", domains=["mqtt.example.com"])
    face = request.param
    return clevercloud_stack(program(SDKS[face]), face=face, config={"test-project:appId": app})


def app_of(emulator: Emulator) -> str:
    (app,) = {r.app_id for r in emulator.redirections()}
    return app


def test_up_makes_one_redirection_per_namespace_and_the_right_connection_strings(
    stack: ProgramStack, clevercloud_emulator: Emulator
) -> None:
    result = stack.up()

    app = app_of(clevercloud_emulator)
    ports = clevercloud_emulator.ports(app)
    assert sorted(ports) == ["cleverapps", "default"]
    assert result.outputs == {
        "publicUrl": f"tcp://{cleverapps_domain(app)}:{ports['cleverapps']}",
        "brokerUri": f"mqtt://mqtt.example.com:{ports['default']}",
    }
    assert result.changes == {"create": 3}  # the stack and its two redirections


def test_refresh_then_up_copes_with_a_redirection_removed_by_hand(
    stack: ProgramStack, clevercloud_emulator: Emulator
) -> None:
    stack.up()
    app = app_of(clevercloud_emulator)
    clevercloud_emulator.remove_redirection(app, "default")

    stack.refresh()
    assert stack.preview().changes.get("create") == 1  # the removed one is gone from the state too
    result = stack.up()

    ports = clevercloud_emulator.ports(app)
    assert sorted(ports) == ["cleverapps", "default"]
    assert result.outputs["brokerUri"] == f"mqtt://mqtt.example.com:{ports['default']}"


def test_refresh_then_up_picks_up_a_port_changed_by_hand(stack: ProgramStack, clevercloud_emulator: Emulator) -> None:
    stack.up()
    app = app_of(clevercloud_emulator)
    new_port = clevercloud_emulator.recreate_redirection(app, "cleverapps")

    stack.refresh()
    result = stack.up()

    assert result.outputs["publicUrl"] == f"tcp://{cleverapps_domain(app)}:{new_port}"
    assert clevercloud_emulator.ports(app)["cleverapps"] == new_port  # nothing re-created behind it


@pytest.mark.parametrize("fault", ["503", "429", "dropped after commit"])
def test_up_survives_a_failing_api_and_leaves_no_orphan(
    stack: ProgramStack, clevercloud_emulator: Emulator, fault: str
) -> None:
    if fault == "dropped after commit":
        clevercloud_emulator.drop_next(when="after", method="POST")
    else:
        clevercloud_emulator.fail_next(int(fault), method="POST", retry_after=0 if fault == "429" else None)

    result = stack.up()

    app = app_of(clevercloud_emulator)
    assert sorted(clevercloud_emulator.ports(app)) == ["cleverapps", "default"]  # one each, none left over
    assert any(r.outcome != "ok" for r in clevercloud_emulator.writes())  # the fault did hit a create
    assert result.outputs["brokerUri"] == f"mqtt://mqtt.example.com:{clevercloud_emulator.ports(app)['default']}"
    stack.destroy()
    assert clevercloud_emulator.redirections() == []


def redirections_recorded(stack: ProgramStack) -> int:
    """How many redirections the stack's state records now."""
    resources = (stack.stack.export_stack().deployment or {}).get("resources", [])
    return sum(r["type"].endswith(":TcpRedirection") for r in resources)


@pytest.mark.parametrize("skip_checkpoints", [False, True], ids=["checkpoints", "checkpoints-skipped"])
def test_with_checkpoints_skipped_the_state_is_written_when_the_command_ends(
    clevercloud_emulator: Emulator, clevercloud_stack: Callable[..., ProgramStack], skip_checkpoints: bool
) -> None:
    app = clevercloud_emulator.add_app("broker")
    recorded_mid_up: list[int] = []

    def declare() -> None:
        made = pulumi_clevercloud_tcp.TcpRedirection("broker", app_id=app, namespace="default")
        # Once the engine has made it, before the command ends: what a crash at that point would leave recorded.
        made.port.apply(lambda _: recorded_mid_up.append(redirections_recorded(stack)))

    stack = clevercloud_stack(declare, face="plugin", skip_checkpoints=skip_checkpoints)
    stack.up()

    assert recorded_mid_up == [0 if skip_checkpoints else 1]
    assert redirections_recorded(stack) == 1
