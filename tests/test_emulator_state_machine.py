"""Stateful test: random adds, removes and listings against a real emulator, beside a tiny model.

The model is a dict {(app_id, namespace): port}. Port ranges are small so that namespaces run out,
and one namespace is dedicated to one organisation, so every refusal the API can give for an add is
reached: duplicate, unknown namespace, namespace of another owner, no port left.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from pydantic import SecretStr

from clevercloud_tcp import (
    AlreadyExists,
    CleverCloudClient,
    NamespaceNotFound,
    NoPortLeft,
    OAuthCredentials,
)
from clevercloud_tcp.emulator import App, Fixture, NamespaceSpec, Owner, TokenPair, User
from clevercloud_tcp.emulator.process import EmulatorProcess
from support import FAST_RETRIES

_IDS = uuid.UUID("6b0f1c1e-0000-4000-8000-000000000000")


def _id(prefix: str, name: str) -> str:
    return f"{prefix}_{uuid.uuid5(_IDS, name)}"


USER_ID = _id("user", "sm-user")
ORG_A = _id("orga", "sm-org-a")
ORG_B = _id("orga", "sm-org-b")
APPS_OF = {
    USER_ID: [_id("app", f"user-app-{i}") for i in range(2)],
    ORG_A: [_id("app", f"org-a-app-{i}") for i in range(3)],
    ORG_B: [_id("app", f"org-b-app-{i}") for i in range(2)],
}
OWNER_OF = {app: owner for owner, apps in APPS_OF.items() for app in apps}
APP_IDS = sorted(OWNER_OF)

# Small ranges, so they fill up. `cleverapps` reuses `default`'s numbers: ranges are per namespace.
RANGES = {
    "default": range(5001, 5005),  # 4 ports for 7 apps
    "cleverapps": range(5001, 5004),  # 3 ports
    "org-a-dedicated": range(6001, 6004),  # 3 ports, only for ORG_A's apps
}
DEDICATED = {"org-a-dedicated": ORG_A}
NAMESPACES = sorted(RANGES)
UNKNOWN_NAMESPACE = "no-such-namespace"

TOKEN, SECRET = "state-machine-token", "state-machine-secret"


def _owner(owner_id: str, name: str) -> dict[str, object]:
    return {
        "id": owner_id,
        "name": name,
        "applications": [App(id=app, name=f"{name}-app-{i}") for i, app in enumerate(APPS_OF[owner_id])],
    }


FIXTURE = Fixture(
    users=[
        User(
            **_owner(USER_ID, "user"),
            oauth=[TokenPair(token=TOKEN, secret=SECRET)],
            organisations=[ORG_A, ORG_B],
        )
    ],
    organisations=[Owner(**_owner(ORG_A, "org-a")), Owner(**_owner(ORG_B, "org-b"))],
    namespaces=[
        NamespaceSpec(
            name=name,
            min_port=ports.start,
            max_port=ports.stop - 1,
            owners=[DEDICATED[name]] if name in DEDICATED else None,
        )
        for name, ports in RANGES.items()
    ],
)


def usable(app: str, namespace: str) -> bool:
    """Whether the app's owner may use the namespace at all."""
    return namespace in RANGES and DEDICATED.get(namespace, OWNER_OF[app]) == OWNER_OF[app]


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(FIXTURE) as process:
        yield process


@pytest.fixture(scope="module")
def sm_client(emu: EmulatorProcess) -> Iterator[CleverCloudClient]:
    credentials = OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(SECRET))
    with CleverCloudClient(emu.url, credentials, timeout=5.0, retry=FAST_RETRIES) as client:
        yield client


class RedirectionsMachine(RuleBasedStateMachine):
    def __init__(self, emu: EmulatorProcess, client: CleverCloudClient) -> None:
        super().__init__()
        self.emu, self.client = emu, client
        emu.reset()
        self.model: dict[tuple[str, str], int] = {}

    # Helpers over the model.

    def free_ports(self, namespace: str) -> set[int]:
        held = {port for (_, ns), port in self.model.items() if ns == namespace}
        return set(RANGES[namespace]) - held

    def full_namespaces(self) -> list[str]:
        return [ns for ns in NAMESPACES if not self.free_ports(ns)]

    def expected_refusal(self, app: str, namespace: str) -> type[Exception] | None:
        if not usable(app, namespace):
            return NamespaceNotFound
        if (app, namespace) in self.model:
            return AlreadyExists
        if not self.free_ports(namespace):
            return NoPortLeft
        return None

    def add_and_check(self, app: str, namespace: str) -> int | None:
        """Adds through the client; checks the outcome against the model and records it."""
        refusal = self.expected_refusal(app, namespace)
        event(f"add: {refusal.__name__ if refusal else 'port handed out'}")
        if refusal is not None:
            with pytest.raises(refusal):
                self.client.add_tcp_redirection(OWNER_OF[app], app, namespace)
            return None
        free = self.free_ports(namespace)
        added = self.client.add_tcp_redirection(OWNER_OF[app], app, namespace)
        assert added.namespace == namespace
        assert added.port in free, f"{added.port} is not a free port of {namespace} (free: {sorted(free)})"
        self.model[(app, namespace)] = added.port
        return added.port

    # Rules.

    @rule(app=st.sampled_from(APP_IDS), namespace=st.sampled_from([*NAMESPACES, UNKNOWN_NAMESPACE]))
    def add(self, app: str, namespace: str) -> None:
        self.add_and_check(app, namespace)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def remove_held(self, data: st.DataObject) -> None:
        app, namespace = data.draw(st.sampled_from(sorted(self.model)), label="held")
        port = self.model.pop((app, namespace))
        assert self.client.remove_tcp_redirection(OWNER_OF[app], app, namespace, port) is True

    @rule(
        data=st.data(),
        app=st.sampled_from(APP_IDS),
        namespace=st.sampled_from([*NAMESPACES, UNKNOWN_NAMESPACE]),
    )
    def remove_not_held(self, data: st.DataObject, app: str, namespace: str) -> None:
        # Often a port another app holds in this namespace, or this app holds in another namespace.
        port = data.draw(st.integers(5000, 6004), label="port")
        if port == self.model.get((app, namespace)):
            # Its own port: take one outside every range instead. (No filter on the draw: which ports
            # the emulator hands out is random, and what is drawn must not depend on it.)
            port = 4999
        assert self.client.remove_tcp_redirection(OWNER_OF[app], app, namespace, port) is False

    @rule(app=st.sampled_from(APP_IDS))
    def list_one(self, app: str) -> None:
        listed = self.client.list_tcp_redirections(OWNER_OF[app], app)
        assert {(r.namespace, r.port) for r in listed} == {
            (ns, port) for (a, ns), port in self.model.items() if a == app
        }
        assert len(listed) == len({r.namespace for r in listed})

    @rule(namespace=st.sampled_from(NAMESPACES))
    def fill(self, namespace: str) -> None:
        """Adds for every app that may until the namespace is full: the next one gets NoPortLeft."""
        for app in APP_IDS:
            if usable(app, namespace) and (app, namespace) not in self.model:
                if self.add_and_check(app, namespace) is None:
                    break

    @precondition(lambda self: bool(self.full_namespaces()))
    @rule(data=st.data())
    def recycle(self, data: st.DataObject) -> None:
        """In a full namespace, a removed port is the one the next add hands out."""
        namespace = data.draw(st.sampled_from(self.full_namespaces()), label="full namespace")
        held = sorted(key for key in self.model if key[1] == namespace)
        app, _ = data.draw(st.sampled_from(held), label="removed")
        port = self.model.pop((app, namespace))
        assert self.client.remove_tcp_redirection(OWNER_OF[app], app, namespace, port) is True
        candidates = [a for a in APP_IDS if usable(a, namespace) and (a, namespace) not in self.model]
        newcomer = data.draw(st.sampled_from(candidates), label="newcomer")
        assert self.add_and_check(newcomer, namespace) == port

    # Invariants, after every step.

    @invariant()
    def emulator_holds_exactly_the_model(self) -> None:
        rows = self.emu.redirections()
        for row in rows:
            assert row["port"] in RANGES[row["namespace"]], row
            assert row["owner_id"] == OWNER_OF[row["app_id"]], row
        ports = Counter((row["namespace"], row["port"]) for row in rows)
        assert [key for key, n in ports.items() if n > 1] == [], "a port is held twice in one namespace"
        pairs = Counter((row["app_id"], row["namespace"]) for row in rows)
        assert [key for key, n in pairs.items() if n > 1] == [], "an app has two redirections in one namespace"
        assert {(row["app_id"], row["namespace"]): row["port"] for row in rows} == self.model

    @invariant()
    def every_listing_matches_the_model(self) -> None:
        for app in APP_IDS:
            listed = self.client.list_tcp_redirections(OWNER_OF[app], app)
            assert sorted((r.namespace, r.port) for r in listed) == sorted(
                (ns, port) for (a, ns), port in self.model.items() if a == app
            )


def test_redirections_state_machine(emu: EmulatorProcess, sm_client: CleverCloudClient) -> None:
    run_state_machine_as_test(
        lambda: RedirectionsMachine(emu, sm_client),
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None),
    )


def test_namespaces_listed_per_owner(emu: EmulatorProcess, sm_client: CleverCloudClient) -> None:
    """The dedicated namespace is listed for its owner only; this is what the machine relies on."""
    for owner in APPS_OF:
        names = {ns.namespace for ns in sm_client.list_namespaces(owner)}
        assert names == {ns for ns in NAMESPACES if DEDICATED.get(ns, owner) == owner}
