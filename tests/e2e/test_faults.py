"""The fault matrix through the real `pulumi` engine: every operation under every kind of API failure.

For each operation (create = `up` of a new resource, read = `refresh`, delete = `destroy`) and each
fault (500, 502, 503, 429, a connection dropped before or after the change is committed, an answer
slower than the request timeout), the fault is armed once on the request that operation depends on,
then the operation runs. With the default retry policy a one-shot fault must end "retried ok": the
operation succeeds. The emulator must then hold exactly the redirections the state says exist (no
orphan, no duplicate, no ghost), and a second run without a fault must converge. Both faces (the
dynamic provider and the plugin) run every cell.

The cells fill `MATRIX`; `test_zz_fault_matrix` runs last (tests run in file order) and prints it.
Nothing here measures time: waits only synchronise with the emulator.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto
from pydantic import SecretStr

from clevercloud_tcp import CleverCloudClient, OAuthCredentials
from clevercloud_tcp.emulator.fixture import ORG_ID
from clevercloud_tcp.emulator.process import EmulatorProcess
from faces import FACES, Face
from support import StackFactory

TOKEN, SECRET = "emulator-token", "emulator-secret"
GAME_APP = "app_2f6b8c6a-5e4d-4a3b-9cad-9e8f7a6b5c4d"  # game-server of ORG_ID: no domain, so few look-ups
NAMESPACE = "default"



@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # glob on the URL path, as the emulator's fault rules take it


@dataclass(frozen=True)
class Fault:
    name: str
    rule: dict[str, Any]
    config: dict[str, str]


OPERATIONS = [
    Operation("create", "POST", "*/tcpRedirs"),
    Operation("read", "GET", "*/tcpRedirs"),
    Operation("delete", "DELETE", "*/tcpRedirs/*"),
]
FAULTS = [
    Fault("500", {"status": 500}, {}),
    Fault("502", {"status": 502}, {}),
    Fault("503", {"status": 503}, {}),
    Fault("429", {"status": 429, "retry_after": 0.2}, {}),
    Fault("drop before commit", {"drop": "before"}, {}),
    Fault("drop after commit", {"drop": "after"}, {}),
    Fault("slow (3s > timeout 1s)", {"delay": 3}, {"clevercloud-tcp:requestTimeout": "1"}),
]

# (operation, fault) -> {"outcome": ..., "orphans": ..., "passed": ...}; filled by the cells, in order.
MATRIX: dict[tuple[str, str], dict[str, Any]] = {}

# What a person can act on: the HTTP status, the retry verdict, or the transport's explanation...
EXPLAINED = re.compile(r"HTTP \d{3}|gave up after \d+ attempt|cannot reach|failed before an answer came")
# ...naming the API operation that failed.
OPERATION_WORDS = {
    "create": "add TCP redirection",
    "read": "list TCP redirections",
    "delete": "remove TCP redirection",
}


def quiet(_: str) -> None:
    pass


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


def held(emu: EmulatorProcess) -> list[tuple[str, str, int]]:
    return [(r["app_id"], r["namespace"], r["port"]) for r in emu.redirections()]


def orphans(stack: auto.Stack, emu: EmulatorProcess) -> set[tuple[str, str, int]]:
    """Redirections the API holds that the state does not know."""
    return set(held(emu)) - set(state_redirections(stack))


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


def wait_for_fault_to_finish(emu: EmulatorProcess, fault: Fault) -> list[dict[str, Any]]:
    """The request log once the injected fault has played out.

    A delayed request is logged only when it ends, which may be after the client gave up on it; it may
    still change something then, so it must be over before the state and the API are compared.
    """
    deadline = time.monotonic() + float(fault.rule.get("delay", 0)) + 10
    while True:
        log = emu.log()
        if "delay" not in fault.rule or any(e["outcome"] == "delayed" for e in log):
            return log
        if time.monotonic() > deadline:
            return log
        time.sleep(0.1)


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


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.name for o in OPERATIONS])
def test_fault_cell(
    operation: Operation, fault: Fault, face: Face, face_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess
) -> None:
    cell = MATRIX.setdefault((face.name, operation.name, fault.name), {})
    cell.update(outcome="?", orphans="?", passed=False)
    stack = face_stack({}, config=fault.config)

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
    log = wait_for_fault_to_finish(e2e_emulator, fault)
    e2e_emulator.clear_faults()

    hits = faulted_entries(log)
    assert hits, f"the fault never met its request, so this cell tested nothing: {log}"
    assert all(e["method"] == operation.method for e in hits), hits
    if error is None:
        cell["outcome"] = "retried ok"
    else:
        message = str(error)
        cell["outcome"] = "failed clearly" if EXPLAINED.search(message) and OPERATION_WORDS[operation.name] in message else "failed"
    assert error is None, f"a one-shot {fault.name} on {operation.name} must be retried, not fail: {error}"

    cell["orphans"] = len(orphans(stack, e2e_emulator))  # recorded before the check, to show in the matrix
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
    cell["passed"] = True


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
    assert "gave up after 2 attempt" in message and OPERATION_WORDS["create"] in message, message
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


def test_zz_fault_matrix() -> None:
    """Prints operation x fault -> outcome (and orphans); every cell that ran must have passed."""
    if not MATRIX:
        pytest.skip("no cell of the fault matrix ran in this session")
    width = max(len(f.name) for f in FAULTS) + 9
    columns = [(face, o) for face in FACES for o in OPERATIONS]
    header = " | ".join(f"{face.name + ' ' + o.name:<22}" for face, o in columns)
    lines = ["", "fault matrix (outcome, orphans):", f"{'fault':<{width}} | {header}"]
    lines.append("-" * len(lines[-1]))
    for fault in FAULTS:
        cells = []
        for face, operation in columns:
            cell = MATRIX.get((face.name, operation.name, fault.name))
            if cell is None:
                cells.append(f"{'not run':<22}")
            else:
                mark = "" if cell["passed"] else " FAIL"
                cells.append(f"{cell['outcome'] + ', ' + str(cell['orphans']) + mark:<22}")
        lines.append(f"{fault.name:<{width}} | " + " | ".join(cells))
    print("\n".join(lines))
    failed = {f"{face} {op} x {fault}": cell for (face, op, fault), cell in MATRIX.items() if not cell["passed"]}
    assert not failed, json.dumps(failed, indent=1)
