"""Many redirections at once, two stacks racing for one, and an API restart in the middle of a run.

All through the real `pulumi` engine against the emulator (see conftest.py). Nothing here measures
time: the waits only synchronise with the emulator.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from clevercloud_tcp.dynamic import TcpRedirection
from clevercloud_tcp.emulator import Fixture
from clevercloud_tcp.emulator.app import TCP_REDIRS
from clevercloud_tcp.emulator.fixture import App, organisation_fixture
from clevercloud_tcp.emulator.process import EmulatorProcess
from support import SECRET, TOKEN, StackFactory, held, quiet

ORG = "orga_5e1f0c2a-8d7b-4c6a-9f1e-2b3c4d5e6f70"
USER = "user_5e1f0c2a-8d7b-4c6a-9f1e-000000000001"
APPS = [f"app_{i:08x}-0000-4000-8000-{i:012x}" for i in range(1, 51)]
NAMESPACES = ("default", "cleverapps")

BIG_FIXTURE = organisation_fixture(
    user_id=USER,
    org_id=ORG,
    token=TOKEN,
    secret=SECRET,
    apps=[App(id=app, name=f"app-{i}") for i, app in enumerate(APPS)],
)


@pytest.fixture
def fixture_data() -> Fixture:
    return BIG_FIXTURE


def many(apps: list[str], namespaces: tuple[str, ...] = NAMESPACES) -> Callable[[], None]:
    def program() -> None:
        for i, app in enumerate(apps):
            for namespace in namespaces:
                TcpRedirection(f"r{i}-{namespace}", app_id=app, namespace=namespace)

    return program


def one(app: str, namespace: str = "default") -> Callable[[], None]:
    def program() -> None:
        redirection = TcpRedirection("contested", app_id=app, namespace=namespace)
        pulumi.export("port", redirection.port)

    return program


def state_redirections(stack: auto.Stack) -> list[tuple[str, str, int]]:
    resources = stack.export_stack().deployment.get("resources", [])
    return [
        (r["outputs"]["appId"], r["outputs"]["namespace"], int(r["outputs"]["port"]))
        for r in resources
        if "TcpRedirection" in r["type"]
    ]


def assert_state_matches_api(stack: auto.Stack, emu: EmulatorProcess) -> list[tuple[str, str, int]]:
    in_state, in_api = state_redirections(stack), held(emu)
    assert len(in_state) == len(set(in_state)), f"duplicates in the state: {in_state}"
    orphans, ghosts = set(in_api) - set(in_state), set(in_state) - set(in_api)
    assert not orphans, f"orphans (in the API, not in the state): {sorted(orphans)}"
    assert not ghosts, f"ghosts (in the state, not in the API): {sorted(ghosts)}"
    return in_state


def test_one_up_of_100_redirections(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> None:
    stack = make_stack(many(APPS))

    result = stack.up(color="never", on_output=quiet)

    assert result.summary.result == "succeeded"
    assert (result.summary.resource_changes or {}).get("create") == 101  # the stack itself, plus 100
    redirections = assert_state_matches_api(stack, e2e_emulator)
    assert len(redirections) == 100
    assert {(app, ns) for app, ns, _ in redirections} == {(app, ns) for app in APPS for ns in NAMESPACES}
    assert len({(ns, port) for _, ns, port in redirections}) == 100
    for namespace in NAMESPACES:
        ports = [port for _, ns, port in redirections if ns == namespace]
        assert len(ports) == 50 and len(set(ports)) == 50, Counter(ports).most_common(3)
    # One owner look-up for the whole run, however many resources needed it.
    assert e2e_emulator.counts().get("GET /v2/summary") == 1
    assert not [e for e in e2e_emulator.log() if (e["status"] or 500) >= 400]

    destroyed = stack.destroy(color="never", on_output=quiet)

    assert destroyed.summary.result == "succeeded"
    assert e2e_emulator.redirections() == []
    assert state_redirections(stack) == []


def test_two_stacks_racing_for_one_app_and_namespace(
    make_stack: StackFactory, e2e_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    app = APPS[0]
    stacks = {
        name: make_stack(one(app), stack=name, state_dir=tmp_path / name) for name in ("alpha", "beta")
    }
    outcomes: dict[str, Any] = {}
    start = threading.Barrier(len(stacks))

    def race(name: str) -> None:
        start.wait()
        try:
            outcomes[name] = stacks[name].up(color="never", on_output=quiet)
        except Exception as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=race, args=(name,)) for name in stacks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert all(not t.is_alive() for t in threads)

    winners = [n for n, o in outcomes.items() if isinstance(o, auto.UpResult)]
    losers = [n for n, o in outcomes.items() if not isinstance(o, auto.UpResult)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    [winner], [loser] = winners, losers
    [(held_app, held_ns, port)] = held(e2e_emulator)
    assert (held_app, held_ns) == (app, "default")

    error = outcomes[loser]
    assert isinstance(error, auto.errors.CommandError), repr(error)
    message = str(error)
    assert "already has a TCP redirection" in message, message
    assert f"port {port}" in message, message
    assert "set `adopt` to true" in message, message
    assert state_redirections(stacks[loser]) == []

    assert state_redirections(stacks[winner]) == [(app, "default", port)]
    assert int(outcomes[winner].outputs["port"].value) == port
    refreshed = stacks[winner].refresh(color="never", on_output=quiet)
    assert refreshed.summary.result == "succeeded"
    assert set((refreshed.summary.resource_changes or {}).keys()) <= {"same"}, refreshed.summary.resource_changes
    assert state_redirections(stacks[winner]) == [(app, "default", port)]
    assert held(e2e_emulator) == [(app, "default", port)]


def test_an_api_restart_in_the_middle_of_an_up(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> None:
    apps = APPS[:20]
    stack = make_stack(many(apps, ("default",)))
    # Slow the creates down so that the restart surely falls among them (a restart drops the rules);
    # the first two are slow enough to be still in flight when the old process is stopped.
    e2e_emulator.inject(method="POST", path="*/tcpRedirs", count=2, delay=5)
    e2e_emulator.inject(method="POST", path="*/tcpRedirs", count=1000, delay=0.3)
    outcome: dict[str, Any] = {}

    def first_up() -> None:
        try:
            outcome["result"] = stack.up(color="never", on_output=quiet)
        except Exception as exc:
            outcome["result"] = exc

    runner = threading.Thread(target=first_up)
    runner.start()
    deadline = time.monotonic() + 120
    while not any(e["method"] == "POST" for e in e2e_emulator.log()):
        assert runner.is_alive(), f"the up ended before any create: {outcome}"
        assert time.monotonic() < deadline, "no create reached the emulator"
        time.sleep(0.05)
    e2e_emulator.restart()
    runner.join(timeout=300)
    assert not runner.is_alive()
    first = outcome["result"]
    if isinstance(first, auto.errors.CommandError):
        assert "TCP redirection" in str(first) or "cannot reach" in str(first), str(first)
    else:
        assert isinstance(first, auto.UpResult), repr(first)
    after_first = held(e2e_emulator)
    # The restart did fall among the creates: the new process saw some of them (or the run failed).
    creates_after_restart = e2e_emulator.counts().get(f"POST {TCP_REDIRS}", 0)
    assert creates_after_restart > 0 or isinstance(first, auto.errors.CommandError), e2e_emulator.counts()

    second = stack.up(color="never", on_output=quiet)

    assert second.summary.result == "succeeded", (after_first, first)
    redirections = assert_state_matches_api(stack, e2e_emulator)
    assert sorted(app for app, _, _ in redirections) == sorted(apps)
    assert len({port for _, _, port in redirections}) == 20
