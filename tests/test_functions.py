"""The SDK's look-ups, called from a program's process with credentials from the environment."""

from __future__ import annotations

import pytest

from clevercloud_tcp import AppNotFound, CleverCloudClient, InputError
from clevercloud_tcp.dynamic import TcpRedirectionInfo, get_namespaces, get_tcp_redirections
from clevercloud_tcp.emulator.fixture import USER_ID
from clevercloud_tcp.emulator.process import EmulatorProcess
from support import APP, OWNER, SECRET, TOKEN


@pytest.fixture
def credentials_in_env(emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLEVER_API_TOKEN", "CLEVER_ORGANIZATION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLEVER_TOKEN", TOKEN)
    monkeypatch.setenv("CLEVER_SECRET", SECRET)
    monkeypatch.setenv("API_HOST", emulator.url)


@pytest.mark.usefixtures("credentials_in_env")
def test_get_namespaces_of_an_organisation_and_of_the_user() -> None:
    assert get_namespaces(OWNER).namespaces == ["acme-dedicated", "cleverapps", "default"]
    mine = get_namespaces()
    assert (mine.owner_id, mine.namespaces) == (USER_ID, ["cleverapps", "default"])


@pytest.mark.usefixtures("credentials_in_env")
def test_get_tcp_redirections_finds_the_owner_and_sorts_by_namespace(client: CleverCloudClient) -> None:
    cleverapps = client.add_tcp_redirection(OWNER, APP, "cleverapps").port
    default = client.add_tcp_redirection(OWNER, APP, "default").port

    found = get_tcp_redirections(APP)

    assert found.owner_id == OWNER
    assert found.redirections == [TcpRedirectionInfo("cleverapps", cleverapps), TcpRedirectionInfo("default", default)]


@pytest.mark.usefixtures("credentials_in_env")
def test_look_ups_refuse_bad_ids_before_any_request(emulator: EmulatorProcess) -> None:
    with pytest.raises(InputError, match="app_id"):
        get_tcp_redirections("my-app")
    with pytest.raises(InputError, match="owner_id"):
        get_namespaces("acme")
    assert emulator.log() == []


@pytest.mark.usefixtures("credentials_in_env")
def test_an_app_the_credentials_cannot_see_is_not_found() -> None:
    with pytest.raises(AppNotFound, match="app_3a7c9d7b"):
        get_tcp_redirections("app_3a7c9d7b-6f5e-4b4c-8dbe-af9a8b7c6d5e")


@pytest.mark.usefixtures("credentials_in_env")
def test_get_namespaces_of_an_organisations_app_finds_its_owner() -> None:
    # The user of the credentials has no dedicated namespace; the organisation owning APP has one.
    found = get_namespaces(app_id=APP)
    assert (found.owner_id, found.namespaces) == (OWNER, ["acme-dedicated", "cleverapps", "default"])
