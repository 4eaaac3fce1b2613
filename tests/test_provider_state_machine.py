"""Allocation invariants at the provider level: declared sets applied as the engine applies them.

Each step declares a new desired set of named redirections (app, namespace, host, owner given or
not) and applies it through the provider host over gRPC: check and diff, then create, update,
replace (in the order diff asks for) and delete. A small model (name -> outputs) runs beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from clevercloud_tcp.emulator import App, EmulatorProcess, Fixture, NamespaceSpec, Owner, TokenPair, User
from clevercloud_tcp.harness import ProviderHost

USER = "user_11111111-1111-4111-8111-111111111111"
ORG = "orga_22222222-2222-4222-8222-222222222222"
APPS = {
    "app_aaaaaaaa-0000-4000-8000-000000000001": USER,
    "app_aaaaaaaa-0000-4000-8000-000000000002": ORG,
    "app_aaaaaaaa-0000-4000-8000-000000000003": ORG,
}
RANGES = {"default": (5001, 5008), "cleverapps": (5001, 5008), "orga-dedicated": (7001, 7004)}
NAMES = ["r0", "r1", "r2", "r3"]
HOSTS = [None, "db.example.com", "mq.example.com"]


def _fixture() -> Fixture:
    def apps_of(owner: str) -> list[App]:
        return [App(id=a, name=a[-4:], vhosts=[f"{a.replace('_', '-')}.cleverapps.io"]) for a, o in APPS.items() if o == owner]

    return Fixture(
        users=[User(id=USER, name="u", oauth=[TokenPair(token="t", secret="s")], organisations=[ORG], applications=apps_of(USER))],
        organisations=[Owner(id=ORG, name="o", applications=apps_of(ORG))],
        namespaces=[
            NamespaceSpec(name="default", min_port=RANGES["default"][0], max_port=RANGES["default"][1]),
            NamespaceSpec(name="cleverapps", min_port=RANGES["cleverapps"][0], max_port=RANGES["cleverapps"][1]),
            NamespaceSpec(name="orga-dedicated", min_port=7001, max_port=7004, owners=[ORG]),
        ],
    )


@st.composite
def declarations(draw: st.DrawFn) -> tuple[str, str, str | None, bool]:
    app = draw(st.sampled_from(sorted(APPS)))
    namespaces = ["default", "cleverapps"] + (["orga-dedicated"] if APPS[app] == ORG else [])
    return app, draw(st.sampled_from(namespaces)), draw(st.sampled_from(HOSTS)), draw(st.booleans())


desired_sets = st.dictionaries(st.sampled_from(NAMES), declarations(), max_size=len(NAMES))


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[EmulatorProcess, ProviderHost]]:
    with EmulatorProcess(_fixture()) as emu:
        config = {"clevercloud:token": "t", "clevercloud:secret": "s", "clevercloud:endpoint": emu.url}
        with ProviderHost(config) as host:
            yield emu, host


def inputs_of(declaration: tuple[str, str, str | None, bool]) -> dict[str, Any]:
    app, namespace, host, give_owner = declaration
    inputs: dict[str, Any] = {"appId": app, "namespace": namespace}
    if host:
        inputs["host"] = host
    if give_owner:
        inputs["ownerId"] = APPS[app]
    return inputs


def test_applied_declarations_keep_the_allocation_invariants(running: tuple[EmulatorProcess, ProviderHost]) -> None:
    emu, host = running

    class Deployments(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            emu.reset()
            self.state: dict[str, tuple[str, dict[str, Any]]] = {}  # name -> (id, outputs)
            self.stored_inputs: dict[str, dict[str, Any]] = {}  # name -> inputs as the engine stores them
            self.declared: dict[str, tuple[str, str, str | None, bool]] = {}
            self.unchanged: set[str] = set()
            self.ports_before: dict[str, int] = {}

        @rule(desired=desired_sets)
        def apply(self, desired: dict[str, tuple[str, str, str | None, bool]]) -> None:
            keys = [(app, ns) for app, ns, _, _ in desired.values()]
            assume(len(keys) == len(set(keys)))  # one redirection per app and namespace
            held_by = {(o["appId"], o["namespace"]): name for name, (_, o) in self.state.items()}
            # Moving a key to another name would make the engine create it before deleting the old
            # holder: a conflict the user must resolve, outside this invariant.
            assume(all(held_by.get(key, name) == name for name, key in zip(desired, keys)))

            self.ports_before = {name: int(outs["port"]) for name, (_, outs) in self.state.items()}
            self.unchanged = {n for n, d in desired.items() if self.declared.get(n) == d}
            for name, declaration in desired.items():
                checked = host.check(inputs_of(declaration), olds=self.stored_inputs.get(name), name=name)
                assert checked.failures == []
                self.stored_inputs[name] = checked.inputs
                if name not in self.state:
                    self.state[name] = host.create(checked.inputs, name=name)
                    continue
                id_, outs = self.state[name]
                diff = host.diff(id_, outs, checked.inputs, name=name)
                if not diff.changes:
                    continue
                if not diff.replaces:
                    self.state[name] = (id_, host.update(id_, outs, checked.inputs, name=name))
                elif diff.delete_before_replace:
                    host.delete(id_, outs, name=name)
                    self.state[name] = host.create(checked.inputs, name=name)
                else:
                    self.state[name] = host.create(checked.inputs, name=name)
                    host.delete(id_, outs, name=name)
            for name in set(self.state) - set(desired):
                id_, outs = self.state.pop(name)
                del self.stored_inputs[name]
                host.delete(id_, outs, name=name)
            self.declared = dict(desired)

        @invariant()
        def emulator_holds_exactly_the_declared_set(self) -> None:
            held = {(r["app_id"], r["namespace"]): r["port"] for r in emu.redirections()}
            declared = {(app, ns) for app, ns, _, _ in self.declared.values()}
            assert set(held) == declared

        @invariant()
        def outputs_equal_what_the_emulator_holds(self) -> None:
            held = {(r["app_id"], r["namespace"]): r["port"] for r in emu.redirections()}
            for name, (id_, outs) in self.state.items():
                key = (outs["appId"], outs["namespace"])
                assert id_ == f"{key[0]}/{key[1]}"
                assert outs["port"] == held[key]
                assert outs["ownerId"] == APPS[key[0]]
                app, ns, host_given, _ = self.declared[name]
                assert (app, ns) == key
                # Given, else the app's domain for the namespace: its cleverapps.io one, no custom one.
                expected = host_given or (f"{app.replace('_', '-')}.cleverapps.io" if ns == "cleverapps" else None)
                assert outs.get("host") == expected
                assert outs.get("url") == (f"tcp://{expected}:{held[key]}" if expected else None)

        @invariant()
        def ports_in_range_and_unique_per_namespace(self) -> None:
            seen: set[tuple[str, int]] = set()
            for r in emu.redirections():
                low, high = RANGES[r["namespace"]]
                assert low <= r["port"] <= high
                assert (r["namespace"], r["port"]) not in seen
                seen.add((r["namespace"], r["port"]))

        @invariant()
        def unchanged_declarations_keep_their_port(self) -> None:
            for name in self.unchanged:
                assert int(self.state[name][1]["port"]) == self.ports_before[name]

    run_state_machine_as_test(
        Deployments,
        settings=settings(
            max_examples=25, stateful_step_count=8, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
        ),
    )
