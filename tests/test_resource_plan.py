"""The core's plan of a change, as a property: what is replaced, in which order, and when it asks the API."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from clevercloud_tcp.core import resource

APPS = ["app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b", "app_1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c"]
OWNERS = ["orga_3b5a6c1e-6f0a-4c3e-9d7e-1f2a3b4c5d6e", "user_7c9e6679-7425-40de-944b-e07fc1f90ae7"]
value = {
    "appId": st.sampled_from(APPS),
    "namespace": st.sampled_from(["default", "cleverapps"]),
    "ownerId": st.sampled_from(OWNERS),
    "host": st.sampled_from(["a.example.com", "b.example.com"]),
    "adopt": st.booleans(),
}
state = st.fixed_dictionaries(value)
inputs = st.fixed_dictionaries(
    {"appId": value["appId"], "namespace": value["namespace"], "adopt": value["adopt"]},
    optional={"ownerId": value["ownerId"], "host": value["host"] | st.just("")},
)


class RecordingSession:
    """Stands in for the core's session: records the reads a plan makes, answers as a right owner would."""

    def __init__(self) -> None:
        self.reads: list[tuple[str, str]] = []
        self.client = self

    def list_tcp_redirections(self, owner_id: str, app_id: str) -> list[Any]:
        self.reads.append((owner_id, app_id))
        return []


@given(state, inputs)
def test_replaces_and_their_order_follow_the_key(olds: dict[str, Any], news: dict[str, Any]) -> None:
    session = RecordingSession()
    plan = resource.plan(olds, news, lambda: session)  # type: ignore[arg-type, return-value]

    same_key = (news["appId"], news["namespace"]) == (olds["appId"], olds["namespace"])
    owner_changed = "ownerId" in news and news["ownerId"] != olds["ownerId"]
    expected = [n for n in ("appId", "namespace") if news[n] != olds[n]] + (["ownerId"] if owner_changed else [])
    assert plan.replaces == expected
    # One redirection per key: the old one must go first exactly when the new one has the same key.
    assert plan.delete_before_replace == (bool(expected) and same_key)
    assert plan.changes == bool(expected or plan.updates)
    assert set(plan.updates) <= {"host", "adopt"}
    # The API is asked only before a change that deletes first, under the new owner.
    assert session.reads == ([(news["ownerId"], news["appId"])] if owner_changed and same_key else [])


@given(state)
def test_the_inputs_a_state_was_made_from_plan_no_change(olds: dict[str, Any]) -> None:
    news = {k: olds[k] for k in ("appId", "namespace", "ownerId", "host", "adopt")}
    plan = resource.plan(olds, news, lambda: (_ for _ in ()).throw(AssertionError("no session needed")))
    assert (plan.changes, plan.replaces, plan.updates) == (False, [], [])
