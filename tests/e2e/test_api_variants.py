"""The life cycle through the real `pulumi` engine against the API's oddest way of answering, both faces.

Every variant (an empty list as `200 []` or `404`, a DELETE answered with a message, `{}` or `204`, a
POST with 200 or 201) runs over gRPC in tests/test_api_answer_variants.py; here the one furthest from the
documentation (404 for empty, DELETE 204, POST 201) goes through the engine: create, refresh after a
removal and after a re-creation outside Pulumi, destroy of a redirection already gone, adoption, and a
create whose answer was lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto
from pydantic import SecretStr

from clevercloud_tcp import CleverCloudClient, OAuthCredentials
from clevercloud_tcp.emulator import Answers, Fixture
from clevercloud_tcp.emulator.fixture import DEFAULT_FIXTURE, ORG_ID
from clevercloud_tcp.emulator.process import EmulatorProcess
from faces import FACES, Face
from support import GAME_APP, SECRET, TOKEN, StackFactory, held_ports, quiet, recorded_ports

ODDEST = Answers(empty_list=404, delete_answer="204", post_status=201)


@pytest.fixture
def fixture_data() -> Fixture:
    """Overrides conftest's: the default fixture, answering the oddest way."""
    return DEFAULT_FIXTURE.model_copy(update={"answers": ODDEST})


@pytest.fixture(params=FACES, ids=[f.name for f in FACES])
def face_stack(request: pytest.FixtureRequest, make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> Callable[..., auto.Stack]:
    """`face_stack(settings)`: a one-redirection stack through the dynamic provider, or the plugin."""
    face: Face = request.param

    def build(settings: dict[str, Any]) -> auto.Stack:
        return make_stack(
            program_of(settings, face),
            config=face.keys({"clevercloud:endpoint": e2e_emulator.url}),
            secrets=face.keys({"clevercloud:token": TOKEN, "clevercloud:secret": SECRET}),
        )

    return build


def program_of(settings: dict[str, Any], face: Face) -> Callable[[], None]:
    def program() -> None:
        redirection = face.redirection("tcp", app_id=GAME_APP, adopt=settings.get("adopt"))
        pulumi.export("port", redirection.port)
        pulumi.export("adopted", redirection.adopted)

    return program


def api(emu: EmulatorProcess) -> CleverCloudClient:
    return CleverCloudClient(emu.url, OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(SECRET)))


def test_create_refresh_and_destroy_of_one_already_gone(face_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess) -> None:
    stack = face_stack({})
    port = int(stack.up(color="never", on_output=quiet).outputs["port"].value)
    assert held_ports(e2e_emulator) == recorded_ports(stack.export_stack().deployment) == {"default": port}

    with api(e2e_emulator) as client:  # removed outside Pulumi: refresh drops it from the state
        assert client.remove_tcp_redirection(ORG_ID, GAME_APP, "default", port)
    assert stack.refresh(color="never", on_output=quiet).summary.result == "succeeded"
    assert recorded_ports(stack.export_stack().deployment) == {}

    port = int(stack.up(color="never", on_output=quiet).outputs["port"].value)
    with api(e2e_emulator) as client:  # re-made outside on another port: refresh reads the new one
        new_port = port
        while new_port == port:
            client.remove_tcp_redirection(ORG_ID, GAME_APP, "default", new_port)
            new_port = client.add_tcp_redirection(ORG_ID, GAME_APP, "default").port
    stack.refresh(color="never", on_output=quiet)
    assert recorded_ports(stack.export_stack().deployment) == held_ports(e2e_emulator) == {"default": new_port}

    with api(e2e_emulator) as client:  # gone before destroy: destroy still succeeds
        assert client.remove_tcp_redirection(ORG_ID, GAME_APP, "default", new_port)
    e2e_emulator.clear_log()
    assert stack.destroy(color="never", on_output=quiet).summary.result == "succeeded"
    assert recorded_ports(stack.export_stack().deployment) == {} and held_ports(e2e_emulator) == {}
    assert [w["method"] for w in e2e_emulator.writes()] == ["DELETE"]


def test_adoption_and_a_create_whose_answer_was_lost(face_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess) -> None:
    with api(e2e_emulator) as client:
        existing = client.add_tcp_redirection(ORG_ID, GAME_APP, "default").port
    settings: dict[str, Any] = {"adopt": True}
    stack = face_stack(settings)
    result = stack.up(color="never", on_output=quiet)
    assert (result.outputs["port"].value, result.outputs["adopted"].value) == (existing, True)
    assert held_ports(e2e_emulator) == recorded_ports(stack.export_stack().deployment) == {"default": existing}
    stack.destroy(color="never", on_output=quiet)
    assert held_ports(e2e_emulator) == {}

    # The POST lands but its answer is lost: the retry meets "already exists", which is its own.
    settings["adopt"] = False
    e2e_emulator.clear_log()
    e2e_emulator.inject(method="POST", path="*/tcpRedirs", drop="after")
    result = stack.up(color="never", on_output=quiet)
    port = int(result.outputs["port"].value)
    assert result.outputs["adopted"].value is False
    assert held_ports(e2e_emulator) == recorded_ports(stack.export_stack().deployment) == {"default": port}
    assert [e["outcome"] for e in e2e_emulator.log() if e["method"] == "POST"] == ["dropped after commit", "ok"]
