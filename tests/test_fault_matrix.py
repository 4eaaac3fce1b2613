"""The fault matrix over gRPC, through both faces: every operation under every kind of API failure.

For each operation (create = check and create of a new redirection, read = read of a recorded one, as a
refresh does, delete = delete of a recorded one) and each fault (500, 502, 503, 429, a connection
dropped before or after the change is committed, an answer slower than the request timeout), the fault
is armed once on the request that operation depends on, then the operation runs in a provider process
driven as the engine drives it. With the default retry policy a one-shot fault must be retried: the
operation succeeds, the emulator then holds exactly what the provider answered (no orphan, no duplicate,
no ghost), and the same operation again converges. tests/e2e/test_faults.py runs one cell of each fault
family through the real engine, per face.
"""

from __future__ import annotations

import pytest

from clevercloud_tcp.emulator.process import EmulatorProcess
from support import GAME_APP, HOST_FACES, Fault, Operation, held, played_out, provider_host

OPERATIONS = [
    Operation("create", "POST", "*/tcpRedirs"),
    Operation("read", "GET", "*/tcpRedirs"),
    Operation("delete", "DELETE", "*/tcpRedirs/*"),
]
FAULTS = [
    Fault("500", {"status": 500}),
    Fault("502", {"status": 502}),
    Fault("503", {"status": 503}),
    Fault("429", {"status": 429, "retry_after": 0.2}),
    Fault("drop before commit", {"drop": "before"}),
    Fault("drop after commit", {"drop": "after"}),
    Fault("slow (3s > timeout 1s)", {"delay": 3}, {"requestTimeout": "1"}),
]
INPUTS = {"appId": GAME_APP, "namespace": "default"}


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.name for o in OPERATIONS])
@pytest.mark.parametrize("face", HOST_FACES)
def test_a_one_shot_fault_is_retried_and_the_api_holds_what_the_provider_answered(
    face: str, operation: Operation, fault: Fault, emulator: EmulatorProcess
) -> None:
    recorded = None
    if operation.name != "create":  # made by an earlier command: its own provider process, as the engine runs it
        with provider_host(face, emulator) as host:
            recorded = host.apply(INPUTS)
    with provider_host(face, emulator, **fault.options) as host:
        emulator.clear_log()
        emulator.inject(method=operation.method, path=operation.path, count=1, **fault.rule)

        if recorded is None:
            id_, outputs = host.apply(INPUTS)
        elif operation.name == "read":
            id_, outputs, _ = host.read(*recorded)
            assert (id_, outputs["port"]) == (recorded[0], recorded[1]["port"]), "a refresh lost or changed the port"
        else:
            host.delete(*recorded)
        hits = [e for e in played_out(emulator, fault) if e["outcome"] != "ok"]
        assert hits, f"the fault never met its request, so this cell tested nothing: {emulator.log()}"
        assert {e["method"] for e in hits} == {operation.method}, hits
        expected = [] if operation.name == "delete" else [(GAME_APP, "default", int(outputs["port"]))]
        assert held(emulator) == expected, "the API does not hold what the provider answered"

        # The same command again, with no fault, converges: nothing made, nothing lost.
        emulator.clear_log()
        if operation.name == "delete":
            host.delete(*recorded)  # already gone: done, by one DELETE that finds nothing
            assert [w["method"] for w in emulator.writes()] == ["DELETE"]
        elif operation.name == "read":
            assert host.read(id_, outputs)[1]["port"] == outputs["port"]
            assert emulator.writes() == []
        else:
            assert not host.diff(id_, outputs, host.check(INPUTS, olds=outputs).inputs).changes
            assert emulator.writes() == []
        assert held(emulator) == expected
