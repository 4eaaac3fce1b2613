"""The resource's life cycle over gRPC, through both faces, against each way the real API may answer.

The emulator answers an empty list with `200 []` or with `404` (as the official JS client expects),
a DELETE with a message, `{}` or `204`, a POST with 200 or 201 (`Answers` in its fixture). Under each:
create, a refresh after a removal and after a re-creation outside Pulumi, the delete of a redirection
already gone, adoption, and a create whose answer was lost. Each command runs in its own provider
process, as the engine runs it. tests/e2e/test_api_variants.py runs the oddest variant through the engine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clevercloud_tcp import CleverCloudClient
from clevercloud_tcp.emulator import Answers
from clevercloud_tcp.emulator.fixture import DEFAULT_FIXTURE
from clevercloud_tcp.emulator.process import EmulatorProcess
from support import FAST_RETRIES, GAME_APP, HOST_FACES, OWNER, held, oauth, provider_host

VARIANTS = {
    "200 [] for empty, DELETE message, POST 200": Answers(),
    "404 for empty, DELETE 204, POST 201": Answers(empty_list=404, delete_answer="204", post_status=201),
    "404 for empty, DELETE {}, POST 200": Answers(empty_list=404, delete_answer="empty-json"),
}
INPUTS = {"appId": GAME_APP, "namespace": "default"}


@pytest.fixture(scope="module", params=list(VARIANTS.values()), ids=list(VARIANTS))
def variant_emulator(request: pytest.FixtureRequest) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(DEFAULT_FIXTURE.model_copy(update={"answers": request.param})) as emulator:
        yield emulator


@pytest.fixture
def api(variant_emulator: EmulatorProcess) -> Iterator[CleverCloudClient]:
    variant_emulator.reset()
    with CleverCloudClient(variant_emulator.url, oauth(), retry=FAST_RETRIES) as client:
        yield client


@pytest.mark.parametrize("face", HOST_FACES)
def test_create_refresh_after_changes_outside_and_delete_of_one_already_gone(
    face: str, variant_emulator: EmulatorProcess, api: CleverCloudClient
) -> None:
    with provider_host(face, variant_emulator) as host:
        id_, outputs = host.apply(INPUTS)
    port = int(outputs["port"])
    assert held(variant_emulator) == [(GAME_APP, "default", port)]

    assert api.remove_tcp_redirection(OWNER, GAME_APP, "default", port)  # removed outside Pulumi
    with provider_host(face, variant_emulator) as host:
        assert host.read(id_, outputs)[0] == "", "a refresh kept a redirection the API no longer holds"
    with provider_host(face, variant_emulator) as host:
        id_, outputs = host.apply(INPUTS)  # the next up makes it again

    new_port = port = int(outputs["port"])
    while new_port == port:  # re-made outside on another port: a refresh reads the new one
        api.remove_tcp_redirection(OWNER, GAME_APP, "default", new_port)
        new_port = api.add_tcp_redirection(OWNER, GAME_APP, "default").port
    with provider_host(face, variant_emulator) as host:
        read_id, refreshed, _ = host.read(id_, outputs)
    assert (read_id, refreshed["port"]) == (id_, new_port)

    assert api.remove_tcp_redirection(OWNER, GAME_APP, "default", new_port)  # gone before the destroy
    variant_emulator.clear_log()
    with provider_host(face, variant_emulator) as host:
        host.delete(id_, refreshed)
    assert held(variant_emulator) == []
    assert [w["method"] for w in variant_emulator.writes()] == ["DELETE"]


@pytest.mark.parametrize("face", HOST_FACES)
def test_adoption_and_a_create_whose_answer_was_lost(face: str, variant_emulator: EmulatorProcess, api: CleverCloudClient) -> None:
    existing = api.add_tcp_redirection(OWNER, GAME_APP, "default").port
    with provider_host(face, variant_emulator) as host:
        id_, outputs = host.apply({**INPUTS, "adopt": True})
    assert (outputs["port"], outputs["adopted"]) == (existing, True)
    with provider_host(face, variant_emulator) as host:
        host.delete(id_, outputs)
    assert held(variant_emulator) == []

    # The POST lands but its answer is lost: the retry meets "already exists", which is its own.
    variant_emulator.clear_log()
    variant_emulator.inject(method="POST", path="*/tcpRedirs", drop="after")
    with provider_host(face, variant_emulator) as host:
        _, outputs = host.apply(INPUTS)
    assert outputs["adopted"] is False
    assert held(variant_emulator) == [(GAME_APP, "default", int(outputs["port"]))]
    assert [e["outcome"] for e in variant_emulator.log() if e["method"] == "POST"] == ["dropped after commit", "ok"]
