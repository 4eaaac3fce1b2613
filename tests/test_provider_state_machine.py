"""The provider driven as the engine drives it, command after command, beside a model of the state.

Each rule is one thing a user does, built valid from the current state (nothing drawn is thrown
away): `pulumi up` of a program (creates, host updates, a replace on an app or namespace change made
before the old one goes, an owner change refused before its old redirection goes), a rename with or without
`aliases` and `adopt`, `pulumi refresh`, `pulumi destroy`, and changes made outside Pulumi (a
redirection removed, re-created on another port, made for a key the stack does not declare).
Each command runs in its own provider process, as each `pulumi` command does: what a process
remembers having adopted lasts one command, and a rename's create and delete happen in the same one.

After every step: each port the state records is held by the API for its key, the API holds nothing
else but what was made outside and not adopted since, and no key is recorded twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import grpc
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from clevercloud_tcp import CleverCloudClient
from clevercloud_tcp.emulator import App, Fixture, NamespaceSpec, Owner, TokenPair, User
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.testing.harness import ProviderHost
from support import FAST_RETRIES, oauth

USER = "user_11111111-1111-4111-8111-111111111111"
ORG = "orga_22222222-2222-4222-8222-222222222222"
OTHER_OWNER = {USER: ORG, ORG: USER}  # the user is a member of both; each app belongs to one
APPS = {
    "app_aaaaaaaa-0000-4000-8000-000000000001": USER,
    "app_aaaaaaaa-0000-4000-8000-000000000002": ORG,
    "app_aaaaaaaa-0000-4000-8000-000000000003": ORG,
}
Key = tuple[str, str]  # app, namespace: one redirection each
KEYS: list[Key] = [
    (app, ns) for app, owner in APPS.items() for ns in ("default", "cleverapps", "orga-dedicated") if ns != "orga-dedicated" or owner == ORG
]
NAMES = ["r0", "r1", "r2", "r3"]
HOSTS = [None, "db.example.com", "mq.example.com"]
EXAMPLES, STEPS = 12, 10  # about 35 s: each command starts a provider process


def _fixture(ports: int) -> Fixture:
    """`ports` per shared namespace: with few, the API often hands a freed port number out again."""
    def apps_of(owner: str) -> list[App]:
        return [App(id=a, name=a[-4:], vhosts=[f"{a.replace('_', '-')}.cleverapps.io"]) for a, o in APPS.items() if o == owner]

    return Fixture(
        users=[User(id=USER, name="u", oauth=[TokenPair(token="t", secret="s")], organisations=[ORG], applications=apps_of(USER))],
        organisations=[Owner(id=ORG, name="o", applications=apps_of(ORG))],
        namespaces=[
            NamespaceSpec(name="default", min_port=5001, max_port=5000 + ports),
            NamespaceSpec(name="cleverapps", min_port=5001, max_port=5000 + ports),
            NamespaceSpec(name="orga-dedicated", min_port=7001, max_port=7000 + ports, owners=[ORG]),
        ],
    )


@dataclass(frozen=True)
class Decl:
    """One resource as the program declares it."""

    app: str
    namespace: str
    host: str | None = None
    owner: str | None = None  # given, else found by the provider
    adopt: bool = False

    @property
    def key(self) -> Key:
        return self.app, self.namespace

    def inputs(self) -> dict[str, Any]:
        given = {"host": self.host, "ownerId": self.owner}
        return {"appId": self.app, "namespace": self.namespace, "adopt": self.adopt} | {k: v for k, v in given.items() if v}

    def expected_host(self) -> str | None:
        """Given, else the app's domain for the namespace: its cleverapps.io one; it has no custom one."""
        return self.host or (f"{self.app.replace('_', '-')}.cleverapps.io" if self.namespace == "cleverapps" else None)


@dataclass
class Entry:
    """One resource as the engine's state records it, and what the model knows of it."""

    decl: Decl  # the declaration last applied
    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any]  # as check returned them: the engine stores these
    synced: bool = True  # False once the test changed its redirection outside Pulumi
    pending: bool = False  # deleted before its replacement, whose create failed

    @property
    def port(self) -> int:
        return int(self.outputs["port"])


class Deployments(RuleBasedStateMachine):
    def __init__(self, emu: EmulatorProcess, client: CleverCloudClient) -> None:
        super().__init__()
        self.emu, self.client = emu, client
        emu.restart()  # its port choices start again from its seed: an example replays as it ran
        self.state: dict[str, Entry] = {}  # name -> entry, in the order the engine keeps them
        self.made_outside: dict[Key, int] = {}  # held by the API, made by the test, adopted by no resource

    # The engine.

    def provider(self) -> ProviderHost:
        return ProviderHost({"clevercloud:token": "t", "clevercloud:secret": "s", "clevercloud:endpoint": self.emu.url})

    def up(self, program: Mapping[str, Decl], aliases: Mapping[str, str] | None = None) -> None:
        """`pulumi up` of `program` (name -> declaration), `aliases` new name -> old name; a refused step raises.

        Each resource is stepped in program order; the old resources of replacements that create
        first, and those the program no longer declares, are deleted at the end, as the engine does.
        """
        aliases = aliases or {}
        condemned: list[tuple[str, Entry]] = []
        with self.provider() as host:
            for name, decl in program.items():
                old = self.state.get(aliases.get(name, name))
                checked = host.check(decl.inputs(), olds=old.inputs if old else None, name=name)
                assert checked.failures == []
                if old is None or old.pending:
                    entry = self.create(host, name, decl, checked.inputs)
                else:
                    diff = host.diff(old.id, old.outputs, checked.inputs, name=name)
                    if not diff.changes:
                        entry = replace(old, decl=decl, inputs=checked.inputs)
                    elif not diff.replaces:
                        outputs = host.update(old.id, old.outputs, checked.inputs, name=name)
                        entry = replace(old, decl=decl, inputs=checked.inputs, outputs=outputs)
                    elif diff.delete_before_replace:
                        host.delete(old.id, old.outputs, name=name)
                        self.state[name] = replace(old, decl=decl, pending=True)
                        entry = self.create(host, name, decl, checked.inputs)
                    else:
                        entry = self.create(host, name, decl, checked.inputs)
                        condemned.append((name, old))
                self.state.pop(aliases.get(name, name), None)
                self.state[name] = entry
            condemned += [(name, self.state.pop(name)) for name in list(self.state) if name not in program]
            for name, old in reversed(condemned):
                if not old.pending:  # already deleted
                    host.delete(old.id, old.outputs, name=name)

    def create(self, host: ProviderHost, name: str, decl: Decl, inputs: dict[str, Any]) -> Entry:
        id_, outputs = host.create(inputs, name=name)
        found = self.made_outside.pop(decl.key, None)
        assert outputs["adopted"] == (found is not None)
        if found is not None:
            assert outputs["port"] == found
        return Entry(decl, id_, outputs, inputs)

    def held(self, entry: Entry) -> int | None:
        """The port the API holds for the entry's key, as the model knows it."""
        return entry.port if entry.synced else self.made_outside.get(entry.decl.key)

    def live(self) -> list[str]:
        return [name for name, entry in self.state.items() if not entry.pending]

    def ports(self) -> dict[str, int]:
        return {name: self.state[name].port for name in self.live()}

    # What a user does.

    def declare(self, data: st.DataObject, first_new: bool = False) -> None:
        """`pulumi up` of a program drawn from the state: each resource kept (maybe with another host,
        owner given or not, adopt), moved to a free key, removed, or new on a free key."""
        free = data.draw(st.permutations([k for k in KEYS if k not in {e.decl.key for e in self.state.values()}]))
        program: dict[str, Decl] = {}
        kept: set[str] = set()
        for name in NAMES:
            entry = self.state.get(name)
            choices = (["keep", "remove"] if entry else ["absent"]) + ((["move"] if entry else ["new"]) if free else [])
            choice = "new" if first_new and not program else data.draw(st.sampled_from(choices), label=name)
            if choice in ("remove", "absent"):
                continue
            key = entry.decl.key if entry and choice == "keep" else free.pop()
            creates = entry is None or entry.pending or choice == "move"
            # A create on a key held outside fails unless adopt is set: the step would not be valid.
            adopt = data.draw(st.booleans(), label="adopt") or (creates and key in self.made_outside)
            owner = APPS[key[0]] if data.draw(st.booleans(), label="owner given") else None
            program[name] = Decl(*key, host=data.draw(st.sampled_from(HOSTS)), owner=owner, adopt=adopt)
            if not creates:
                kept.add(name)
        before = self.ports()
        self.up(program)
        assert {n: p for n, p in self.ports().items() if n in kept} == {n: before[n] for n in kept}

    @initialize(data=st.data())
    def first_up(self, data: st.DataObject) -> None:
        self.declare(data, first_new=True)

    @rule(data=st.data())
    def up_again(self, data: st.DataObject) -> None:
        self.declare(data)

    @precondition(lambda self: self.live() and len(self.state) < len(NAMES) and len(self.live()) == len(self.state))
    @rule(data=st.data(), adopt=st.booleans())
    def rename(self, data: st.DataObject, adopt: bool) -> None:
        old = data.draw(st.sampled_from(self.live()))
        new = data.draw(st.sampled_from([n for n in NAMES if n not in self.state]))
        entry = self.state[old]
        held = self.held(entry)
        alias = data.draw(st.booleans(), label="alias")
        decl = replace(entry.decl, adopt=adopt)
        program = {n: e.decl for n, e in self.state.items() if n != old} | {new: decl}
        self.emu.clear_log()
        if alias:
            self.up(program, aliases={new: old})
            assert self.emu.writes() == []  # moved in the state, nothing sent
            assert self.state[new].port == entry.port
        elif held is None:
            # Nothing conflicts; the new port may bear the number the old state records, and the old
            # name's delete must leave it (see test_rename_after_a_removal_outside_keeps_the_new_port).
            self.up(program)
        elif not adopt:
            with pytest.raises(grpc.RpcError) as refused:
                self.up(program)
            assert "already has a TCP redirection" in refused.value.details()
            assert "`aliases`" in refused.value.details()
            assert old in self.state and new not in self.state
        else:
            if entry.synced:
                self.made_outside[entry.decl.key] = held  # to the new name, the old one's port was made outside it
            self.up(program)
            assert self.state[new].port == held
            assert old not in self.state

    @precondition(lambda self: self.live() and len(self.live()) == len(self.state))
    @rule(data=st.data())
    def change_owner(self, data: st.DataObject) -> None:
        # Each app belongs to one owner, so another one is refused. An owner change replaces with the
        # delete first (same key), so the provider checks the new owner in diff, before anything goes:
        # the refused change leaves the resource and its port as they were.
        name = data.draw(st.sampled_from(self.live()))
        entry = self.state[name]
        decl = replace(entry.decl, owner=OTHER_OWNER[APPS[entry.decl.app]])
        with pytest.raises(grpc.RpcError) as refused:
            self.up({n: e.decl for n, e in self.state.items()} | {name: decl})
        assert entry.decl.app in refused.value.details() and "owner_id" in refused.value.details()
        assert "nothing was changed" in refused.value.details()
        assert self.state[name] == entry

    @precondition(lambda self: self.live())
    @rule()
    def refresh(self) -> None:
        with self.provider() as host:
            for name in self.live():
                entry = self.state[name]
                expected = self.made_outside.pop(entry.decl.key, None) if not entry.synced else entry.port
                id_, outputs, _ = host.read(entry.id, entry.outputs, name=name)
                if expected is None:
                    assert not id_, f"{name}: its redirection was removed outside, yet refresh kept it"
                    del self.state[name]
                    continue
                assert (id_, outputs["port"]) == (entry.id, expected)
                # The engine keeps the stored inputs: the dynamic face returns none.
                self.state[name] = replace(entry, outputs=outputs, synced=True)

    @precondition(lambda self: self.state)
    @rule()
    def destroy(self) -> None:
        with self.provider() as host:
            for name, entry in reversed(self.state.items()):
                if not entry.pending:
                    host.delete(entry.id, entry.outputs, name=name)
        self.state.clear()

    # Changes made outside Pulumi.

    @precondition(lambda self: any(self.held(self.state[n]) is not None for n in self.live()))
    @rule(data=st.data())
    def remove_outside(self, data: st.DataObject) -> None:
        self.remove_outside_by_name(data.draw(st.sampled_from([n for n in self.live() if self.held(self.state[n]) is not None])))

    def remove_outside_by_name(self, name: str) -> None:
        entry = self.state[name]
        port = self.held(entry)
        assert port is not None
        app, ns = entry.decl.key
        assert self.client.remove_tcp_redirection(APPS[app], app, ns, port)
        self.made_outside.pop(entry.decl.key, None)
        entry.synced = False

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def recreate_outside_on_another_port(self, data: st.DataObject) -> None:
        entry = self.state[data.draw(st.sampled_from(self.live()))]
        app, ns = entry.decl.key
        port = self.held(entry)
        while port is None or port == entry.port:  # the API picks at random: until it is another one
            if port is not None:
                self.client.remove_tcp_redirection(APPS[app], app, ns, port)
            port = self.client.add_tcp_redirection(APPS[app], app, ns).port
        self.made_outside[entry.decl.key] = port
        entry.synced = False

    @precondition(lambda self: self.unused_keys())
    @rule(data=st.data())
    def make_outside(self, data: st.DataObject) -> None:
        app, ns = data.draw(st.sampled_from(self.unused_keys()))
        self.made_outside[(app, ns)] = self.client.add_tcp_redirection(APPS[app], app, ns).port

    def unused_keys(self) -> list[Key]:
        used = {e.decl.key for e in self.state.values()} | set(self.made_outside)
        return [k for k in KEYS if k not in used]

    # After every step.

    @invariant()
    def the_api_holds_what_the_state_records_and_nothing_else(self) -> None:
        held = {(r["app_id"], r["namespace"]): r["port"] for r in self.emu.redirections()}
        keys = [e.decl.key for e in self.state.values()]
        assert len(keys) == len(set(keys)), f"a key recorded twice: {keys}"
        recorded = {e.decl.key: e.port for e in self.state.values() if e.synced and not e.pending}
        for key, port in recorded.items():
            assert held.get(key) == port, f"the state records port {port} for {key}; the API holds {held.get(key)}"
        assert not recorded.keys() & self.made_outside.keys()
        assert held == recorded | self.made_outside

    @invariant()
    def outputs_describe_the_declarations(self) -> None:
        for name in self.live():
            entry = self.state[name]
            app, namespace = entry.decl.key
            outs = entry.outputs
            assert entry.id == f"{app}/{namespace}"
            assert (outs["appId"], outs["namespace"], outs["ownerId"]) == (app, namespace, APPS[app])
            host = entry.decl.expected_host()
            assert outs.get("host") == host
            assert outs.get("url") == (f"tcp://{host}:{entry.port}" if host else "")  # empty, not absent: quiet previews


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[EmulatorProcess, CleverCloudClient]]:
    # One port more than the apps that can hold one: a re-created redirection always has another port.
    with EmulatorProcess(_fixture(len(APPS) + 1), seed=0) as emu, CleverCloudClient(emu.url, oauth("t", "s"), retry=FAST_RETRIES) as client:
        yield emu, client


def test_commands_keep_every_recorded_port_held(api: tuple[EmulatorProcess, CleverCloudClient]) -> None:
    emu, client = api
    run_state_machine_as_test(
        lambda: Deployments(emu, client), settings=settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None)
    )


def test_rename_after_a_removal_outside_keeps_the_new_port() -> None:
    # Renamed without alias after its redirection was removed outside: the new name's create is
    # given a port, and with one port in the namespace it is the number the old state records; the
    # engine then deletes the old resource, by that number.
    app = next(a for a, owner in APPS.items() if owner == USER)
    with EmulatorProcess(_fixture(1)) as emu, CleverCloudClient(emu.url, oauth("t", "s"), retry=FAST_RETRIES) as client:
        machine = Deployments(emu, client)
        machine.up({"r0": Decl(app, "default")})
        machine.remove_outside_by_name("r0")
        machine.up({"r1": Decl(app, "default")})
        assert machine.state["r1"].port == 5001
        machine.the_api_holds_what_the_state_records_and_nothing_else()
