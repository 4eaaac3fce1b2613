"""API failures through the real `pulumi` engine, both faces.

The whole matrix (every operation under every fault) runs over gRPC in tests/test_fault_matrix.py; here
one cell of each fault family runs through the engine per face (an HTTP status on `up`, a connection
dropped after the change on `destroy`, an answer slower than the request timeout on `refresh`): the
operation succeeds, the emulator holds exactly what the state says exists (no orphan, no duplicate, no
ghost), and a second run without a fault converges. Then what only the engine shows: bounded retries,
a create whose outcome is unknown, adoption. Nothing here measures time: waits only synchronise with
the emulator.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto
from pydantic import SecretStr

from clevercloud_tcp import CleverCloudClient, OAuthCredentials
from clevercloud_tcp.emulator.fixture import ORG_ID
from clevercloud_tcp.emulator.process import EmulatorProcess
from faces import FACES, Face
from support import GAME_APP, SECRET, TOKEN, Fault, Operation, StackFactory, held, played_out, quiet

NAMESPACE = "default"



# One cell per fault family: a status, a dropped connection, a slow answer.
CELLS = [
    (Operation("create", "POST", "*/tcpRedirs"), Fault("503", {"status": 503})),
    (Operation("delete", "DELETE", "*/tcpRedirs/*"), Fault("drop after commit", {"drop": "after"})),
    (Operation("read", "GET", "*/tcpRedirs"), Fault("slow (3s > timeout 1s)", {"delay": 3}, {"requestTimeout": "1"})),
]

CREATE_WORDS = "add TCP redirection"  # how an error names the API operation that failed


def single_redirection(settings: dict[str, Any], face: Face) -> Callable[[], None]:
    def program() -> None:
        redirection = face.redirection(
            "tcp",
            app_id=settings.get("app_id", GAME_APP),
            namespace=settings.get("namespace", NAMESPACE),
            adopt=settings.get("adopt"),
        )
        pulumi.export("port", redirection.port)
        pulumi.export("adopted", redirection.adopted)

    return program


def state_redirections(stack: auto.Stack) -> list[tuple[str, str, int]]:
    """(appId, namespace, port) of every TcpRedirection the state holds, duplicates kept."""
    resources = stack.export_stack().deployment.get("resources", [])
    found = []
    for resource in resources:
        if "TcpRedirection" not in resource["type"]:
            continue
        outs = resource.get("outputs", {})
        found.append((outs.get("appId"), outs.get("namespace"), int(outs.get("port"))))
    return found


def assert_consistent(stack: auto.Stack, emu: EmulatorProcess) -> int:
    """The emulator holds exactly what the state says exists; returns the number of orphans (0)."""
    in_state, in_api = state_redirections(stack), held(emu)
    duplicates_state = [k for k, n in Counter((a, ns) for a, ns, _ in in_state).items() if n > 1]
    duplicates_api = [k for k, n in Counter((a, ns) for a, ns, _ in in_api).items() if n > 1]
    unknown = set(in_api) - set(in_state)
    ghosts = set(in_state) - set(in_api)
    assert not duplicates_state, f"the state holds one key twice: {in_state}"
    assert not duplicates_api, f"the API holds one key twice: {in_api}"
    assert not unknown, f"redirections in the API that no state knows (orphans): {sorted(unknown)}; state {in_state}"
    assert not ghosts, f"redirections in the state that the API lacks: {sorted(ghosts)}; API {in_api}"
    return len(unknown)


def faulted_entries(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in log if e["outcome"] != "ok"]


def run(operation: str, stack: auto.Stack) -> Any:
    if operation == "create":
        return stack.up(color="never", on_output=quiet)
    if operation == "read":
        return stack.refresh(color="never", on_output=quiet)
    return stack.destroy(color="never", on_output=quiet)


def api_client(emu: EmulatorProcess) -> CleverCloudClient:
    return CleverCloudClient(emu.url, OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(SECRET)))


@pytest.fixture(params=FACES, ids=[f.name for f in FACES])
def face(request: pytest.FixtureRequest) -> Face:
    return request.param


@pytest.fixture
def face_stack(face: Face, make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> Callable[..., auto.Stack]:
    """`face_stack(settings, config={...})`: a one-redirection stack through the face under test."""

    def build(settings: dict[str, Any], config: dict[str, str] | None = None) -> auto.Stack:
        return make_stack(
            single_redirection(settings, face),
            config={**face.keys({"clevercloud:endpoint": e2e_emulator.url}), **(config or {})},
            secrets=face.keys({"clevercloud:token": TOKEN, "clevercloud:secret": SECRET}),
        )

    return build


@pytest.mark.parametrize(("operation", "fault"), CELLS, ids=[f"{o.name}-{f.name}" for o, f in CELLS])
def test_a_one_shot_fault_is_retried_through_the_engine(
    operation: Operation, fault: Fault, face_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess
) -> None:
    stack = face_stack({}, config={f"clevercloud-tcp:{k}": v for k, v in fault.options.items()})

    if operation.name != "create":  # read and delete need a redirection to act on
        stack.up(color="never", on_output=quiet)
        assert len(held(e2e_emulator)) == 1
    e2e_emulator.clear_log()
    e2e_emulator.inject(method=operation.method, path=operation.path, count=1, **fault.rule)

    error: auto.errors.CommandError | None = None
    try:
        result = run(operation.name, stack)
        assert result.summary.result == "succeeded", result.summary
    except auto.errors.CommandError as exc:
        error = exc
    log = played_out(e2e_emulator, fault)
    e2e_emulator.clear_faults()

    hits = faulted_entries(log)
    assert hits, f"the fault never met its request, so this cell tested nothing: {log}"
    assert all(e["method"] == operation.method for e in hits), hits
    assert error is None, f"a one-shot {fault.name} on {operation.name} must be retried, not fail: {error}"
    assert_consistent(stack, e2e_emulator)

    # Converge: the same command again, with no fault, leaves the API and the state in agreement.
    if operation.name == "delete":
        again = stack.destroy(color="never", on_output=quiet)
        assert again.summary.result == "succeeded"
        assert state_redirections(stack) == []
        assert held(e2e_emulator) == []
    else:
        again = stack.up(color="never", on_output=quiet)
        assert again.summary.result == "succeeded"
        assert_consistent(stack, e2e_emulator)
        [(app_id, namespace, port)] = state_redirections(stack)
        assert (app_id, namespace) == (GAME_APP, NAMESPACE)
        assert int(again.outputs["port"].value) == port


def test_retries_are_bounded_by_retry_attempts(face_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess) -> None:
    stack = face_stack({}, config={"clevercloud-tcp:retryAttempts": "3"})
    e2e_emulator.inject(method="POST", path="*/tcpRedirs", count=50, status=503)

    with pytest.raises(auto.errors.CommandError) as failure:
        stack.up(color="never", on_output=quiet)

    message = str(failure.value)
    assert "gave up after 3 attempt" in message, message
    assert "HTTP 503" in message, message
    posts = [e for e in e2e_emulator.log() if e["method"] == "POST"]
    assert len(posts) == 3, posts
    assert held(e2e_emulator) == []
    assert state_redirections(stack) == []

    e2e_emulator.clear_faults()
    stack.up(color="never", on_output=quiet)
    assert_consistent(stack, e2e_emulator)
    assert len(held(e2e_emulator)) == 1


def test_a_create_that_landed_unanswered_then_ran_out_of_retries_leaves_no_orphan(
    face_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess
) -> None:
    # The first POST commits but its answer is lost; every retry then meets a 503 until the retries run
    # out. The redirection exists: it must end up in the state, not as an orphan that the next `up`
    # would refuse as "made outside this stack".
    stack = face_stack({}, config={"clevercloud-tcp:retryAttempts": "3"})
    e2e_emulator.inject(method="POST", path="*/tcpRedirs", count=1, drop="after")
    e2e_emulator.inject(method="POST", path="*/tcpRedirs", count=10, status=503)

    result = stack.up(color="never", on_output=quiet)

    assert result.summary.result == "succeeded"
    posts = [e["outcome"] for e in e2e_emulator.log() if e["method"] == "POST"]
    assert posts == ["dropped after commit", "fault", "fault"], posts
    assert_consistent(stack, e2e_emulator)
    [(_, _, port)] = state_redirections(stack)
    assert int(result.outputs["port"].value) == port

    e2e_emulator.clear_faults()
    again = stack.up(color="never", on_output=quiet)
    assert set((again.summary.resource_changes or {}).keys()) == {"same"}
    assert_consistent(stack, e2e_emulator)


def test_a_create_that_lands_after_every_try_timed_out_is_recovered_by_adopt(
    face_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess
) -> None:
    # The worst case of an unknown outcome: every try times out, the retries run out, the look-up
    # that follows finds nothing yet, and only then does the first POST land. No provider can tell
    # that redirection from one made by hand: the next `up` must refuse it clearly (naming its port
    # and adopt=True), and adopt=True must then converge with no orphan.
    settings: dict[str, Any] = {}
    config = {"clevercloud-tcp:requestTimeout": "1", "clevercloud-tcp:retryAttempts": "2"}
    stack = face_stack(settings, config=config)
    e2e_emulator.inject(method="POST", path="*/tcpRedirs", count=2, delay=3)

    with pytest.raises(auto.errors.CommandError) as gave_up:
        stack.up(color="never", on_output=quiet)
    message = str(gave_up.value)
    assert "gave up after 2 attempt" in message and CREATE_WORDS in message, message
    assert "The first attempt may have landed" in message, message  # says the outcome is unknown
    deadline = time.monotonic() + 30
    while len([e for e in e2e_emulator.log() if e["outcome"] == "delayed"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    [(_, _, port)] = held(e2e_emulator)  # the late POST landed; the state does not know it
    assert state_redirections(stack) == []

    with pytest.raises(auto.errors.CommandError) as refused:
        stack.up(color="never", on_output=quiet)
    assert f"port {port}" in str(refused.value) and "set `adopt` to true" in str(refused.value), str(refused.value)

    settings["adopt"] = True
    adopted = stack.up(color="never", on_output=quiet)
    assert adopted.outputs["adopted"].value is True and int(adopted.outputs["port"].value) == port
    assert assert_consistent(stack, e2e_emulator) == 0


def test_adoption_of_a_redirection_made_outside(face_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess) -> None:
    with api_client(e2e_emulator) as client:
        existing = client.add_tcp_redirection(ORG_ID, GAME_APP, NAMESPACE)
    settings: dict[str, Any] = {}
    stack = face_stack(settings)

    with pytest.raises(auto.errors.CommandError) as refused:
        stack.up(color="never", on_output=quiet)
    message = str(refused.value)
    assert f"port {existing.port}" in message, message
    assert "set `adopt` to true" in message, message
    assert state_redirections(stack) == []
    assert held(e2e_emulator) == [(GAME_APP, NAMESPACE, existing.port)]

    settings["adopt"] = True
    result = stack.up(color="never", on_output=quiet)
    assert result.summary.result == "succeeded"
    assert result.outputs["adopted"].value is True
    assert int(result.outputs["port"].value) == existing.port
    assert held(e2e_emulator) == [(GAME_APP, NAMESPACE, existing.port)]
    assert state_redirections(stack) == [(GAME_APP, NAMESPACE, existing.port)]

    destroyed = stack.destroy(color="never", on_output=quiet)
    assert destroyed.summary.result == "succeeded"
    assert held(e2e_emulator) == []
    assert state_redirections(stack) == []


def test_a_redirect_answered_to_delete_fails_destroy_and_keeps_the_redirection(
    face_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess
) -> None:
    # A proxy's 302 to the DELETE removed nothing: destroy must fail, and the stack keep the port it holds.
    stack = face_stack({})
    stack.up(color="never", on_output=quiet)
    e2e_emulator.inject(method="DELETE", path="*/tcpRedirs/*", count=1, status=302, location="https://portal.example/")

    with pytest.raises(auto.errors.CommandError) as failed:
        stack.destroy(color="never", on_output=quiet)

    assert "HTTP 302" in str(failed.value) and "https://portal.example/" in str(failed.value), failed.value
    assert len(state_redirections(stack)) == 1
    assert_consistent(stack, e2e_emulator)
