"""The kit's emulator on its own, as a test would use it: fixture building, changes by hand, faults, no pytest needed."""

from __future__ import annotations

from collections.abc import Callable

import pulumi_clevercloud_tcp
import pytest
from my_stack import program

from clevercloud_tcp import CleverCloudError, NoPortLeft
from clevercloud_tcp.testing import Emulator, ProgramStack, cleverapps_domain


def test_an_app_added_later_restarts_it_on_the_same_endpoint_keeping_what_it_holds() -> None:
    with Emulator() as emulator:
        first = emulator.add_app("first")
        port = emulator.create_redirection(first, "cleverapps")
        endpoint = emulator.endpoint

        second = emulator.add_app("second", owner=emulator.add_organisation("acme"))
        emulator.create_redirection(second)

        assert emulator.endpoint == endpoint
        assert emulator.ports(first) == {"cleverapps": port}
        assert [(r.owner_id, r.namespace) for r in emulator.redirections(second)] == [(emulator.owner_of(second), "default")]


def test_recreate_by_hand_gives_another_port(clevercloud_emulator: Emulator) -> None:
    app = clevercloud_emulator.add_app("app")
    clevercloud_emulator.add_namespace("default", ports=(6001, 6002))  # two ports: a redraw is likely
    old = clevercloud_emulator.create_redirection(app)

    new = clevercloud_emulator.recreate_redirection(app)

    assert new != old and clevercloud_emulator.ports(app) == {"default": new}


def test_a_filled_namespace_leaves_what_was_asked_then_refuses(clevercloud_emulator: Emulator) -> None:
    app = clevercloud_emulator.add_app("app")
    clevercloud_emulator.add_namespace("tiny", ports=(7001, 7004))

    taken = clevercloud_emulator.fill_namespace("tiny", leave_free=1)
    assert len(taken) == 3
    clevercloud_emulator.create_redirection(app, "tiny")  # the one left free
    assert clevercloud_emulator.fill_namespace("tiny") == []
    with pytest.raises(NoPortLeft):
        clevercloud_emulator.create_redirection(clevercloud_emulator.add_app("late"), "tiny")


def test_a_fault_is_for_the_next_requests_only(clevercloud_emulator: Emulator) -> None:
    app = clevercloud_emulator.add_app("app")
    clevercloud_emulator.fail_next(404, method="POST", count=2)
    for _ in range(2):
        with pytest.raises(CleverCloudError):
            clevercloud_emulator.create_redirection(app)
    port = clevercloud_emulator.create_redirection(app)
    assert [r.status for r in clevercloud_emulator.writes()] == [404, 404, 200]
    assert clevercloud_emulator.ports(app) == {"default": port}


@pytest.mark.parametrize(
    ("arm", "says"),
    [
        (lambda e: e.fail_next(200), "fault: status: "),
        (lambda e: e.fail_next(count=0), "fault: count: "),
        (lambda e: e.add_namespace("default", ports=(6000, 5000)), "add_namespace: namespace default: port range"),
        (lambda e: e.add_app(owner="orga_nobody"), "add_app: owner 'orga_nobody'"),
        (lambda e: e.add_app(id="my-app"), "add_app: id: application id 'my-app' is not of the form app_<uuid>"),
        (lambda e: e.remove_redirection(e.add_app()), "has no redirection in namespace 'default'"),
    ],
    ids=["status", "count", "port-range", "owner", "app-id", "nothing-to-remove"],
)
def test_a_mistake_in_a_test_is_one_line_naming_it(
    clevercloud_emulator: Emulator, arm: Callable[[Emulator], object], says: str
) -> None:
    with pytest.raises(ValueError) as refused:
        arm(clevercloud_emulator)
    assert says in str(refused.value) and "\n" not in str(refused.value)


def test_without_pytest_fixtures_through_the_plugin_and_environment_variables() -> None:
    with Emulator() as emulator:
        app = emulator.add_app("broker", domains=["mqtt.example.com"])
        with ProgramStack(program(pulumi_clevercloud_tcp.TcpRedirection), emulator, face="plugin",
                          config={"test-project:appId": app}) as stack:
            outputs = stack.up().outputs
            assert outputs["publicUrl"] == f"tcp://{cleverapps_domain(app)}:{emulator.ports(app)['cleverapps']}"
            assert stack.destroy().redirections == []
