"""`CleverCloudClient` against the running emulator: every error a user can meet, retries, secrecy, settings."""

from __future__ import annotations

import http.server
import json
import logging
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from clevercloud_tcp import (
    AlreadyExists,
    ApiTokenCredentials,
    AppNotFound,
    CleverCloudClient,
    CleverCloudError,
    ConfigurationError,
    ConnectionLost,
    Forbidden,
    InvalidCredentials,
    NamespaceNotFound,
    NoPortLeft,
    OAuthCredentials,
    OwnerNotFound,
    RateLimited,
    Redirected,
    RetriesExhausted,
    ServerError,
    UnexpectedResponse,
    Unreachable,
    resolve_settings,
)
from clevercloud_tcp.config import API_TOKEN_ENDPOINT, DEFAULT_ENDPOINT, DYNAMIC_KEYS
from clevercloud_tcp.core.session import Deployment
from clevercloud_tcp.emulator import Answers, App, Fixture, NamespaceSpec, Owner, TokenPair, User
from clevercloud_tcp.emulator.fixture import OTHER_ORG_ID
from clevercloud_tcp.emulator.process import EmulatorProcess
from support import APP, FAST_RETRIES, OWNER, SECRET, TOKEN, oauth

OTHER_ORG_APP = "app_3a7c9d7b-6f5e-4b4c-8dbe-af9a8b7c6d5e"  # owned by OTHER_ORG_ID
UNKNOWN_OWNER = "orga_ffffffff-ffff-4fff-8fff-ffffffffffff"
UNKNOWN_APP = "app_ffffffff-ffff-4fff-8fff-ffffffffffff"
TCP_REDIRS = "*/tcpRedirs"


def post_count(emulator: EmulatorProcess) -> int:
    return sum(1 for entry in emulator.log() if entry["method"] == "POST")


def outcomes(emulator: EmulatorProcess, method: str) -> list[str]:
    return [entry["outcome"] for entry in emulator.log() if entry["method"] == method]


@pytest.fixture
def closed_url() -> str:
    """The URL of a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class _HtmlHandler(http.server.BaseHTTPRequestHandler):
    """Answers every request with an HTML page, as a web server or a proxy's error page would."""

    def _answer(self) -> None:
        status = 404 if "/missing/" in self.path else 502 if "/bad-gateway/" in self.path else 200
        body = b"<html><body><h1>Welcome to nginx!</h1></body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def html_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HtmlHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# A fixture with credentials no other test uses (to look for them in messages), an organisation the
# user is not a member of, and a namespace of a single port.
_IDS = uuid.UUID("5ec2e700-0000-4000-8000-000000000000")
S_USER = f"user_{uuid.uuid5(_IDS, 'user')}"
S_ORG = f"orga_{uuid.uuid5(_IDS, 'org')}"
S_FOREIGN_ORG = f"orga_{uuid.uuid5(_IDS, 'foreign')}"
S_APPS = [f"app_{uuid.uuid5(_IDS, f'app-{i}')}" for i in range(2)]
S_FOREIGN_APP = f"app_{uuid.uuid5(_IDS, 'foreign-app')}"
S_TOKEN = "tok-8d1f5c2a-unique-oauth-token"
S_SECRET = "sec-41b7e9d0-unique-oauth-secret"
S_API_TOKEN = "api-2c6a0f93-unique-api-token"
S_WRONG_SECRET = "wrong-9e3b7a51-unique-bad-secret"
S_WRONG_API_TOKEN = "api-wrong-77f0c1d4-unique"
SECRETS = [S_TOKEN, S_SECRET, S_API_TOKEN, S_WRONG_SECRET, S_WRONG_API_TOKEN]

SECRET_FIXTURE = Fixture(
    users=[
        User(
            id=S_USER,
            name="secretive",
            oauth=[TokenPair(token=S_TOKEN, secret=S_SECRET)],
            api_tokens=[S_API_TOKEN],
            organisations=[S_ORG],
        ),
        User(id=f"user_{uuid.uuid5(_IDS, 'stranger')}", name="stranger", organisations=[S_FOREIGN_ORG]),
    ],
    organisations=[
        Owner(id=S_ORG, name="org", applications=[App(id=app, name=f"app-{i}") for i, app in enumerate(S_APPS)]),
        Owner(id=S_FOREIGN_ORG, name="foreign", applications=[App(id=S_FOREIGN_APP, name="foreign-app")]),
    ],
    namespaces=[
        NamespaceSpec(name="default"),
        NamespaceSpec(name="solo", min_port=5500, max_port=5500),  # one port only
    ],
)


def s_oauth(secret: str = S_SECRET) -> OAuthCredentials:
    return OAuthCredentials(token=SecretStr(S_TOKEN), secret=SecretStr(secret))


@pytest.fixture(scope="module")
def secret_emulator_process() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(SECRET_FIXTURE) as emu:
        yield emu


@pytest.fixture
def secret_emulator(secret_emulator_process: EmulatorProcess) -> EmulatorProcess:
    secret_emulator_process.reset()
    return secret_emulator_process


# Every error class, one by one.


def test_invalid_credentials(emulator: EmulatorProcess) -> None:
    with CleverCloudClient(emulator.url, oauth(secret="not-the-secret"), retry=FAST_RETRIES) as client:
        with pytest.raises(InvalidCredentials) as caught:
            client.list_tcp_redirections(OWNER, APP)
    assert caught.value.status == 401
    # A client built by hand names no config key: it was given its credentials (see test_config_messages).
    assert str(caught.value).endswith("Check the credentials given to the client.")
    assert len(emulator.log()) == 1  # not retried


def test_invalid_api_token(emulator: EmulatorProcess) -> None:
    credentials = ApiTokenCredentials(api_token=SecretStr("not-an-api-token"))
    with CleverCloudClient(emulator.url, credentials, retry=FAST_RETRIES) as client:
        with pytest.raises(InvalidCredentials):
            client.summary()


def test_valid_api_token(emulator: EmulatorProcess) -> None:
    credentials = ApiTokenCredentials(api_token=SecretStr("emulator-api-token"))
    with CleverCloudClient(emulator.url, credentials, retry=FAST_RETRIES) as client:
        assert client.owner_of(APP) == OWNER


def test_forbidden_for_an_organisation_you_are_not_a_member_of(client: CleverCloudClient) -> None:
    with pytest.raises(Forbidden) as caught:
        client.list_namespaces(OTHER_ORG_ID)
    assert caught.value.status == 403
    with pytest.raises(Forbidden):
        client.list_tcp_redirections(OTHER_ORG_ID, OTHER_ORG_APP)


def test_owner_not_found(client: CleverCloudClient) -> None:
    with pytest.raises(OwnerNotFound):
        client.list_namespaces(UNKNOWN_OWNER)
    with pytest.raises(OwnerNotFound):
        client.add_tcp_redirection(UNKNOWN_OWNER, APP, "default")
    # An id that happens to contain "app" is still an owner that is not found.
    with pytest.raises(OwnerNotFound):
        client.list_namespaces("orga_happy")


def test_app_not_found(client: CleverCloudClient, emulator: EmulatorProcess) -> None:
    with pytest.raises(AppNotFound) as unknown:
        client.list_tcp_redirections(OWNER, UNKNOWN_APP)
    assert unknown.value.api_id == 4004
    with pytest.raises(AppNotFound) as foreign:  # an app of another owner
        client.add_tcp_redirection(OWNER, OTHER_ORG_APP, "default")
    assert foreign.value.api_id == 4002
    assert client.owner_of(OTHER_ORG_APP) is None  # not in the summary of these credentials
    assert emulator.redirections() == []


def test_namespace_not_found(client: CleverCloudClient, emulator: EmulatorProcess) -> None:
    with pytest.raises(NamespaceNotFound):
        client.add_tcp_redirection(OWNER, APP, "no-such-namespace")
    personal_app = "app_9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"  # the user's own: acme-dedicated is not theirs
    with pytest.raises(NamespaceNotFound):
        client.add_tcp_redirection(client.owner_of(personal_app), personal_app, "acme-dedicated")
    assert emulator.redirections() == []


def test_already_exists(client: CleverCloudClient, emulator: EmulatorProcess) -> None:
    client.add_tcp_redirection(OWNER, APP, "default")
    emulator.clear_log()
    with pytest.raises(AlreadyExists) as caught:
        client.add_tcp_redirection(OWNER, APP, "default")
    assert caught.value.status == 409
    # A 409 on the first try is someone else's redirection: not taken over, not even looked up.
    assert [entry["method"] for entry in emulator.log()] == ["POST"]
    assert len(emulator.redirections()) == 1


def test_injected_409_on_the_first_post_is_not_taken_over(
    client: CleverCloudClient, emulator: EmulatorProcess
) -> None:
    emulator.inject(method="POST", path=TCP_REDIRS, status=409)
    with pytest.raises(AlreadyExists):
        client.add_tcp_redirection(OWNER, APP, "default")
    assert emulator.redirections() == []


def test_no_port_left(secret_emulator: EmulatorProcess) -> None:
    with CleverCloudClient(secret_emulator.url, s_oauth(), retry=FAST_RETRIES) as client:
        assert client.add_tcp_redirection(S_ORG, S_APPS[0], "solo").port == 5500
        with pytest.raises(NoPortLeft) as caught:
            client.add_tcp_redirection(S_ORG, S_APPS[1], "solo")
        assert "free one" in str(caught.value)  # the hint says what to do
        # Freeing the port makes room again.
        assert client.remove_tcp_redirection(S_ORG, S_APPS[0], "solo", 5500) is True
        assert client.add_tcp_redirection(S_ORG, S_APPS[1], "solo").port == 5500


def test_rate_limited_until_retries_are_exhausted(client: CleverCloudClient, emulator: EmulatorProcess) -> None:
    emulator.inject(method="GET", path=TCP_REDIRS, status=429, retry_after=0.01, count=100)
    with pytest.raises(RetriesExhausted) as caught:
        client.list_tcp_redirections(OWNER, APP)
    assert isinstance(caught.value.last, RateLimited)
    assert caught.value.last.retry_after == pytest.approx(0.01)
    assert caught.value.attempts == FAST_RETRIES.attempts
    assert outcomes(emulator, "GET") == ["fault"] * FAST_RETRIES.attempts


def test_server_error_not_worth_a_retry_is_raised_at_once(
    client: CleverCloudClient, emulator: EmulatorProcess
) -> None:
    emulator.inject(method="GET", path=TCP_REDIRS, status=501, count=100)
    with pytest.raises(ServerError) as caught:
        client.list_tcp_redirections(OWNER, APP)
    assert caught.value.status == 501
    assert len(emulator.log()) == 1


def test_persistent_server_error_exhausts_retries(client: CleverCloudClient, emulator: EmulatorProcess) -> None:
    emulator.inject(method="GET", path=TCP_REDIRS, status=500, count=100)
    with pytest.raises(RetriesExhausted) as caught:
        client.list_tcp_redirections(OWNER, APP)
    assert isinstance(caught.value.last, ServerError)
    assert caught.value.last.status == 500


def test_persistent_dropped_connection_exhausts_retries(
    client: CleverCloudClient, emulator: EmulatorProcess
) -> None:
    emulator.inject(method="GET", path=TCP_REDIRS, drop="before", count=100)
    with pytest.raises(RetriesExhausted) as caught:
        client.list_tcp_redirections(OWNER, APP)
    assert isinstance(caught.value.last, ConnectionLost)


def test_unreachable(closed_url: str) -> None:
    with CleverCloudClient(closed_url, oauth(), timeout=2.0, retry=FAST_RETRIES) as client:
        with pytest.raises(RetriesExhausted) as caught:
            client.list_tcp_redirections(OWNER, APP)
    assert isinstance(caught.value.last, Unreachable)
    assert closed_url in str(caught.value)
    assert caught.value.attempts == FAST_RETRIES.attempts


# A proxy, a captive portal or an http->https hop answering in the API's place: only a 2xx is success.
REDIRECTED_CALLS: dict[str, tuple[str, Callable[[CleverCloudClient, int], object]]] = {
    "delete": ("DELETE", lambda client, port: client.remove_tcp_redirection(OWNER, APP, "default", port)),
    "list": ("GET", lambda client, port: client.list_tcp_redirections(OWNER, APP)),
}


@pytest.mark.parametrize("status", [301, 302, 307])
@pytest.mark.parametrize("call", REDIRECTED_CALLS)
def test_a_redirect_is_an_error_naming_its_status_and_location(
    client: CleverCloudClient, emulator: EmulatorProcess, call: str, status: int
) -> None:
    port = client.add_tcp_redirection(OWNER, APP, "default").port
    method, send = REDIRECTED_CALLS[call]
    emulator.inject(method=method, path="*/tcpRedirs*", status=status, location="https://portal.example/login")
    with pytest.raises(Redirected) as caught:
        send(client, port)
    assert f"HTTP {status}" in str(caught.value) and "https://portal.example/login" in str(caught.value)
    assert [(r.namespace, r.port) for r in client.list_tcp_redirections(OWNER, APP)] == [("default", port)]
    assert outcomes(emulator, method)[0] == "fault"  # one try: a redirect is not retried, nor followed


@pytest.mark.parametrize("prefix", ["", "/missing"], ids=["200 html", "404 html"])
def test_unexpected_response_from_something_that_is_not_the_api(html_url: str, prefix: str) -> None:
    with CleverCloudClient(html_url + prefix, oauth(), timeout=2.0, retry=FAST_RETRIES) as client:
        with pytest.raises(UnexpectedResponse) as caught:
            client.list_tcp_redirections(OWNER, APP)
    assert "text/html" in str(caught.value)
    assert "endpoint" in str(caught.value)


def test_html_bad_gateway_is_a_server_error(html_url: str) -> None:
    with CleverCloudClient(html_url + "/bad-gateway", oauth(), timeout=2.0, retry=FAST_RETRIES) as client:
        with pytest.raises(RetriesExhausted) as caught:
            client.list_tcp_redirections(OWNER, APP)
    assert isinstance(caught.value.last, ServerError)
    assert caught.value.last.status == 502


def test_every_error_is_a_clever_cloud_error() -> None:
    for kind in (
        InvalidCredentials, Forbidden, OwnerNotFound, AppNotFound, NamespaceNotFound, AlreadyExists,
        NoPortLeft, RateLimited, ServerError, Unreachable, ConnectionLost, UnexpectedResponse,
        ConfigurationError, RetriesExhausted,
    ):  # fmt: skip
        assert issubclass(kind, CleverCloudError)


# Retries on injected faults.


@pytest.mark.parametrize(
    "fault",
    [{"status": 500}, {"status": 502}, {"status": 503}, {"status": 504}, {"status": 429}, {"drop": "before"}],
    ids=["500", "502", "503", "504", "429", "drop"],
)
def test_get_is_retried_and_succeeds(
    client: CleverCloudClient, emulator: EmulatorProcess, fault: dict[str, Any]
) -> None:
    port = client.add_tcp_redirection(OWNER, APP, "default").port
    emulator.clear_log()
    emulator.inject(method="GET", path=TCP_REDIRS, count=2, **fault)
    assert [(r.namespace, r.port) for r in client.list_tcp_redirections(OWNER, APP)] == [("default", port)]
    assert len(outcomes(emulator, "GET")) == 3


@pytest.mark.parametrize(
    ("drop", "posts"),
    [
        # After commit: the retry meets "already exists", which is the first try's own redirection.
        ("after", ["dropped after commit", "ok"]),
        ("before", ["dropped before commit", "ok"]),
    ],
)
def test_post_with_a_dropped_connection_creates_exactly_one(
    client: CleverCloudClient, emulator: EmulatorProcess, drop: str, posts: list[str]
) -> None:
    emulator.inject(method="POST", path=TCP_REDIRS, drop=drop)
    added = client.add_tcp_redirection(OWNER, APP, "default")
    rows = emulator.redirections()
    assert [(row["app_id"], row["namespace"], row["port"]) for row in rows] == [(APP, "default", added.port)]
    assert outcomes(emulator, "POST") == posts


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_after_a_server_error_creates_exactly_one(
    client: CleverCloudClient, emulator: EmulatorProcess, status: int
) -> None:
    emulator.inject(method="POST", path=TCP_REDIRS, status=status)
    added = client.add_tcp_redirection(OWNER, APP, "default")
    assert [row["port"] for row in emulator.redirections()] == [added.port]


def test_post_rate_limited_is_retried_after_retry_after(
    client: CleverCloudClient, emulator: EmulatorProcess
) -> None:
    emulator.inject(method="POST", path=TCP_REDIRS, status=429, retry_after=0.2)
    added = client.add_tcp_redirection(OWNER, APP, "default")
    assert [row["port"] for row in emulator.redirections()] == [added.port]
    assert outcomes(emulator, "POST") == ["fault", "ok"]


def test_delete_dropped_after_commit_returns_and_the_port_is_gone(
    client: CleverCloudClient, emulator: EmulatorProcess
) -> None:
    port = client.add_tcp_redirection(OWNER, APP, "default").port
    emulator.inject(method="DELETE", path=f"{TCP_REDIRS}/*", drop="after")
    # The retry finds it gone: this call's own first try removed it.
    assert client.remove_tcp_redirection(OWNER, APP, "default", port) is True
    assert emulator.redirections() == []
    assert client.list_tcp_redirections(OWNER, APP) == []


def test_delete_retried_after_server_error(client: CleverCloudClient, emulator: EmulatorProcess) -> None:
    port = client.add_tcp_redirection(OWNER, APP, "default").port
    emulator.inject(method="DELETE", path=f"{TCP_REDIRS}/*", status=503)
    assert client.remove_tcp_redirection(OWNER, APP, "default", port) is True
    assert emulator.redirections() == []


def test_delete_of_an_absent_port_is_false(client: CleverCloudClient) -> None:
    assert client.remove_tcp_redirection(OWNER, APP, "default", 5999) is False


def test_post_slower_than_the_client_timeout_ends_with_exactly_one(emulator: EmulatorProcess) -> None:
    emulator.inject(method="POST", path=TCP_REDIRS, delay=1.0)
    with CleverCloudClient(emulator.url, oauth(), timeout=0.5, retry=FAST_RETRIES) as client:
        added = client.add_tcp_redirection(OWNER, APP, "default")
    # Let the server finish the slow POST: a probe delayed as long, sent later, is answered after it.
    emulator.inject(method="GET", path="/v2/summary", delay=1.0)
    with CleverCloudClient(emulator.url, oauth(), timeout=10.0, retry=FAST_RETRIES) as patient:
        patient.summary()
    assert [(row["app_id"], row["port"]) for row in emulator.redirections()] == [(APP, added.port)]


# Credentials never show: not in errors, reprs, tracebacks or logs.


def _all_errors(emu: EmulatorProcess, closed_url: str, html_url: str) -> list[BaseException]:
    good = CleverCloudClient(emu.url, s_oauth(), timeout=0.5, retry=FAST_RETRIES)
    bad = CleverCloudClient(emu.url, s_oauth(S_WRONG_SECRET), retry=FAST_RETRIES)
    wrong_api_token = ApiTokenCredentials(api_token=SecretStr(S_WRONG_API_TOKEN))
    bad_api = CleverCloudClient(emu.url, wrong_api_token, retry=FAST_RETRIES)
    unreachable = CleverCloudClient(closed_url, s_oauth(), retry=FAST_RETRIES)
    html = CleverCloudClient(html_url, s_oauth(), retry=FAST_RETRIES)
    app, other = S_APPS
    good.add_tcp_redirection(S_ORG, app, "solo")

    def inject(**rule: Any) -> Callable[[], None]:
        return lambda: emu.inject(**rule)

    attempts: list[tuple[Callable[[], None] | None, Callable[[], object], type[BaseException]]] = [
        (None, lambda: bad.summary(), InvalidCredentials),
        (None, lambda: bad_api.summary(), InvalidCredentials),
        (None, lambda: good.list_namespaces(S_FOREIGN_ORG), Forbidden),
        (None, lambda: good.list_namespaces(UNKNOWN_OWNER), OwnerNotFound),
        (None, lambda: good.list_tcp_redirections(S_ORG, S_FOREIGN_APP), AppNotFound),
        (None, lambda: good.add_tcp_redirection(S_ORG, app, "nope"), NamespaceNotFound),
        (None, lambda: good.add_tcp_redirection(S_ORG, app, "solo"), AlreadyExists),
        (None, lambda: good.add_tcp_redirection(S_ORG, other, "solo"), NoPortLeft),
        (inject(method="GET", status=429, count=100), lambda: good.summary(), RetriesExhausted),
        (inject(method="GET", status=501), lambda: good.summary(), ServerError),
        (inject(method="GET", drop="after", count=100), lambda: good.summary(), RetriesExhausted),
        (inject(method="GET", delay=1.0, count=100), lambda: good.summary(), RetriesExhausted),
        (None, lambda: unreachable.summary(), RetriesExhausted),
        (None, lambda: html.summary(), UnexpectedResponse),
        (None, lambda: resolve_settings({"clevercloud:token": S_TOKEN}, {}), ConfigurationError),
        (None, lambda: resolve_settings({"clevercloud:secret": S_SECRET}, {}), ConfigurationError),
        (
            None,
            lambda: resolve_settings({"clevercloud:apiToken": S_API_TOKEN, "clevercloud:endpoint": "ftp://x"}, {}),
            ConfigurationError,
        ),
    ]
    caught: list[BaseException] = []
    for arm, call, kind in attempts:
        emu.clear_faults()
        if arm is not None:
            arm()
        with pytest.raises(kind) as info:
            call()
        caught.append(info.value)
    emu.clear_faults()
    for c in (good, bad, bad_api, unreachable, html):
        c.close()
    return caught


def test_credentials_never_show(
    secret_emulator: EmulatorProcess, closed_url: str, html_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="clevercloud_tcp")
    caught = _all_errors(secret_emulator, closed_url, html_url)
    lasts = [exc.last for exc in caught if isinstance(exc, RetriesExhausted)]
    assert {type(last) for last in lasts} == {RateLimited, ConnectionLost, Unreachable}

    credentials = [s_oauth(), s_oauth(S_WRONG_SECRET), ApiTokenCredentials(api_token=SecretStr(S_API_TOKEN))]
    settings = resolve_settings({"clevercloud:token": S_TOKEN, "clevercloud:secret": S_SECRET}, {})
    client = CleverCloudClient(secret_emulator.url, credentials[0])
    shown = [
        *(text for exc in [*caught, *lasts] for text in (str(exc), repr(exc), *traceback.format_exception(exc))),
        *(text for c in credentials for text in (str(c), repr(c), c.model_dump_json(), str(c.model_dump()))),
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        repr(client),
        repr(client.transport),
        repr(client.transport._http.auth),
        caplog.text,
        *(str(record.args) for record in caplog.records),
    ]
    client.close()
    assert any("attempt 1 failed" in record.getMessage() for record in caplog.records)  # the logs were captured
    headers = [c.authorization("GET", client.transport.endpoint) for c in credentials]
    for text in shown:
        for secret in [*SECRETS, *headers]:
            assert secret not in text


# resolve_settings: where credentials come from.


def _profile(home: Path, data: object) -> dict[str, str]:
    """Writes a clever-tools profile under an XDG config dir and returns the env that points at it."""
    path = home / "clever-cloud" / "clever-tools.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return {"XDG_CONFIG_HOME": str(home)}


def _pair(settings: Any) -> tuple[str, str]:
    creds = settings.credentials
    assert isinstance(creds, OAuthCredentials)
    return creds.token.get_secret_value(), creds.secret.get_secret_value()


CONFIG_PAIR = {"clevercloud:token": "config-token", "clevercloud:secret": "config-secret"}
ENV_PAIR = {"CLEVER_TOKEN": "env-token", "CLEVER_SECRET": "env-secret"}
PROFILE_PAIR = {"token": "profile-token", "secret": "profile-secret"}


def test_stack_config_wins_over_environment_and_profile(tmp_path: Path) -> None:
    env = {**ENV_PAIR, **_profile(tmp_path, PROFILE_PAIR)}
    settings = resolve_settings(CONFIG_PAIR, env)
    assert _pair(settings) == ("config-token", "config-secret")
    assert settings.source == "stack config"
    assert settings.endpoint == DEFAULT_ENDPOINT


def test_this_packages_config_keys_win_over_the_shared_ones() -> None:
    shared = {**CONFIG_PAIR, "clevercloud:endpoint": "https://shared.example"}
    own = {"clevercloud-tcp:token": "own-token", "clevercloud-tcp:secret": "own-secret"}
    settings = resolve_settings({**shared, **own, "clevercloud-tcp:endpoint": "https://own.example"}, ENV_PAIR)
    assert _pair(settings) == ("own-token", "own-secret")
    assert settings.endpoint == "https://own.example"
    assert _pair(resolve_settings(shared, ENV_PAIR)) == ("config-token", "config-secret")


def test_environment_wins_over_profile(tmp_path: Path) -> None:
    settings = resolve_settings({}, {**ENV_PAIR, **_profile(tmp_path, PROFILE_PAIR)})
    assert _pair(settings) == ("env-token", "env-secret")
    assert settings.source == "environment"


def test_profile_is_the_last_resort(tmp_path: Path) -> None:
    settings = resolve_settings({}, _profile(tmp_path, PROFILE_PAIR))
    assert _pair(settings) == ("profile-token", "profile-secret")
    assert settings.source == "clever-tools profile"
    # The multi-profile layout: its first profile.
    settings = resolve_settings({}, _profile(tmp_path, {"profiles": [PROFILE_PAIR, {"token": "b", "secret": "c"}]}))
    assert _pair(settings) == ("profile-token", "profile-secret")


def test_profile_under_home_when_xdg_is_unset(tmp_path: Path) -> None:
    _profile(tmp_path / ".config", PROFILE_PAIR)
    assert _pair(resolve_settings({}, {"HOME": str(tmp_path)})) == ("profile-token", "profile-secret")


def test_endpoint_and_organization_follow_the_same_order(tmp_path: Path) -> None:
    env = {**ENV_PAIR, "API_HOST": "https://env.example:8080", "CLEVER_ORGANIZATION": OWNER}
    assert resolve_settings({}, env).endpoint == "https://env.example:8080"
    assert resolve_settings({}, env).organization == OWNER
    config = {"clevercloud:endpoint": "https://config.example/", "clevercloud:organization": UNKNOWN_OWNER}
    settings = resolve_settings(config, env)
    assert settings.endpoint == "https://config.example"  # without its trailing slash
    assert settings.organization == UNKNOWN_OWNER


def test_consumer_pair_from_environment() -> None:
    env = {**ENV_PAIR, "OAUTH_CONSUMER_KEY": "my-key", "OAUTH_CONSUMER_SECRET": "my-consumer-secret"}
    creds = resolve_settings({}, env).credentials
    assert isinstance(creds, OAuthCredentials)
    assert creds.consumer_key.get_secret_value() == "my-key"
    assert creds.consumer_secret.get_secret_value() == "my-consumer-secret"


@pytest.mark.parametrize(
    ("config", "env", "missing"),
    [
        ({"clevercloud:token": "t"}, {}, "clevercloud:secret"),
        ({"clevercloud:secret": "s"}, {}, "clevercloud:token"),
        ({}, {"CLEVER_TOKEN": "t"}, "CLEVER_SECRET"),
        ({}, {"CLEVER_SECRET": "s"}, "CLEVER_TOKEN"),
    ],
    ids=["config token", "config secret", "env token", "env secret"],
)
def test_half_an_oauth_pair_is_an_error(
    tmp_path: Path, config: dict[str, str], env: dict[str, str], missing: str
) -> None:
    # Even a complete profile does not make up for a half-given pair.
    with pytest.raises(ConfigurationError, match="needs both halves") as caught:
        resolve_settings(config, {**env, **_profile(tmp_path, PROFILE_PAIR)})
    assert missing in str(caught.value)


def test_no_credentials_lists_the_three_ways(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings({}, {"XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)})
    message = str(caught.value)
    for way in ("pulumi config set", "CLEVER_TOKEN", "CLEVER_API_TOKEN", "clever login", "clever-tools.json"):
        assert way in message
    assert len(message.splitlines()) == 1


def test_unreadable_profile_counts_as_none(tmp_path: Path) -> None:
    path = tmp_path / "clever-cloud" / "clever-tools.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ConfigurationError, match="No Clever Cloud credentials"):
        resolve_settings({}, {"XDG_CONFIG_HOME": str(tmp_path)})


@pytest.mark.parametrize("endpoint", ["ftp://api.example", "api.clever-cloud.com", "http://", "file:///etc"])
def test_endpoint_must_be_http(endpoint: str) -> None:
    with pytest.raises(ConfigurationError, match="clevercloud:endpoint") as caught:
        resolve_settings({**CONFIG_PAIR, "clevercloud:endpoint": endpoint}, {})
    assert "http" in str(caught.value)


def test_api_token_picks_the_bridge_endpoint() -> None:
    settings = resolve_settings({}, {"CLEVER_API_TOKEN": "tok"})
    assert isinstance(settings.credentials, ApiTokenCredentials)
    assert settings.endpoint == API_TOKEN_ENDPOINT
    settings = resolve_settings({"clevercloud:apiToken": "tok"}, {"API_HOST": "https://127.0.0.1:1"})
    assert settings.endpoint == "https://127.0.0.1:1"  # an explicit endpoint still wins
    assert settings.source == "stack config"


def test_oauth_pair_is_preferred_to_an_api_token_from_the_same_source() -> None:
    settings = resolve_settings({**CONFIG_PAIR, "clevercloud:apiToken": "tok"}, {})
    assert isinstance(settings.credentials, OAuthCredentials)
    assert settings.endpoint == DEFAULT_ENDPOINT


def test_stack_config_api_token_wins_over_environment_oauth_pair() -> None:
    settings = resolve_settings({"clevercloud:apiToken": "config-api-token"}, ENV_PAIR)
    assert isinstance(settings.credentials, ApiTokenCredentials)
    assert settings.source == "stack config"


def test_settings_build_a_working_client(emulator: EmulatorProcess) -> None:
    env = {"CLEVER_TOKEN": TOKEN, "CLEVER_SECRET": SECRET}
    deployment = Deployment(DYNAMIC_KEYS, env)
    try:
        client = deployment.session({"clevercloud:endpoint": emulator.url, "clevercloud-tcp:allowHttp": "true"}).client
        assert client.owner_of(APP) == OWNER
        namespaces = {ns.namespace for ns in client.list_namespaces(OWNER)}
    finally:
        deployment.close()
    assert namespaces == {"default", "cleverapps", "acme-dedicated"}


# The lifecycle against each way the real API may answer (see `Answers` in the emulator's fixture):
# an empty list as 200 [] or as 404, DELETE as 200 with a message, 200 {} or 204, POST as 200 or 201.

VARIANTS = {
    "as documented": [],
    "404 for empty": ["--empty-list", "404"],
    "404 for empty, DELETE 204, POST 201": ["--empty-list", "404", "--delete-answer", "204", "--post-status", "201"],
    "404 for empty, DELETE {}": ["--empty-list", "404", "--delete-answer", "empty-json"],
    "DELETE {}, POST 201": ["--delete-answer", "empty-json", "--post-status", "201"],
}


@pytest.fixture(scope="module", params=list(VARIANTS.values()), ids=list(VARIANTS))
def variant_process(request: pytest.FixtureRequest) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(options=request.param) as emu:
        yield emu


@pytest.fixture
def variant(variant_process: EmulatorProcess) -> Iterator[tuple[EmulatorProcess, CleverCloudClient]]:
    """The variant's emulator, emptied, and a client of it."""
    variant_process.reset()
    with CleverCloudClient(variant_process.url, oauth(), timeout=2.0, retry=FAST_RETRIES) as c:
        yield variant_process, c


def _statuses(emulator: EmulatorProcess, method: str, route_end: str) -> set[int]:
    return {e["status"] for e in emulator.log() if e["method"] == method and e["route"].endswith(route_end)}


def test_lifecycle_in_every_answer_variant(variant: tuple[EmulatorProcess, CleverCloudClient]) -> None:
    emu, variant_client = variant
    options = emu.options
    assert variant_client.list_tcp_redirections(OWNER, APP) == []
    assert variant_client.find_tcp_redirection(OWNER, APP, "default") is None
    added = variant_client.add_tcp_redirection(OWNER, APP, "default")
    assert [(r.namespace, r.port) for r in variant_client.list_tcp_redirections(OWNER, APP)] == [("default", added.port)]
    with pytest.raises(AlreadyExists):
        variant_client.add_tcp_redirection(OWNER, APP, "default")
    assert variant_client.remove_tcp_redirection(OWNER, APP, "default", added.port) is True
    assert variant_client.remove_tcp_redirection(OWNER, APP, "default", added.port) is False
    assert variant_client.list_tcp_redirections(OWNER, APP) == []
    assert emu.redirections() == []

    # The emulator did answer the variant's way, and telling "empty" from "no such app" cost one
    # summary read for the whole client, not one per list.
    assert _statuses(emu, "GET", "/tcpRedirs") == ({200, 404} if "404" in options else {200})
    assert _statuses(emu, "POST", "/tcpRedirs") == {201 if "201" in options else 200, 409}
    assert _statuses(emu, "DELETE", "/{port}") == {204 if "204" in options else 200, 404}
    assert emu.counts().get("GET /v2/summary", 0) == (1 if "404" in options else 0)


def test_not_found_stays_an_error_in_every_answer_variant(variant: tuple[EmulatorProcess, CleverCloudClient]) -> None:
    emu, variant_client = variant
    with pytest.raises(AppNotFound):
        variant_client.list_tcp_redirections(OWNER, UNKNOWN_APP)
    with pytest.raises(AppNotFound):
        variant_client.find_tcp_redirection(OWNER, OTHER_ORG_APP, "default")
    with pytest.raises(OwnerNotFound):
        variant_client.list_tcp_redirections(UNKNOWN_OWNER, APP)
    with pytest.raises(OwnerNotFound):
        variant_client.list_namespaces(UNKNOWN_OWNER)
    with pytest.raises(NamespaceNotFound):
        variant_client.add_tcp_redirection(OWNER, APP, "no-such-namespace")
    with pytest.raises(AppNotFound):
        variant_client.add_tcp_redirection(OWNER, UNKNOWN_APP, "default")
    assert emu.redirections() == []


def test_lost_answers_in_every_answer_variant(variant: tuple[EmulatorProcess, CleverCloudClient]) -> None:
    emu, variant_client = variant
    emu.inject(method="POST", path=TCP_REDIRS, drop="after")
    added = variant_client.add_tcp_redirection(OWNER, APP, "default")
    assert [(r["app_id"], r["port"]) for r in emu.redirections()] == [(APP, added.port)]
    emu.inject(method="DELETE", path=f"{TCP_REDIRS}/*", drop="after")
    assert variant_client.remove_tcp_redirection(OWNER, APP, "default", added.port) is True
    assert emu.redirections() == []
    assert variant_client.find_tcp_redirection(OWNER, APP, "default") is None


def test_an_owner_without_namespaces_lists_none_when_the_api_answers_404() -> None:
    # From the fixture's `answers`, not the command line: both ways set the emulator.
    only_theirs = NamespaceSpec(name="theirs", owners=[S_FOREIGN_ORG])
    fixture = SECRET_FIXTURE.model_copy(update={"namespaces": [only_theirs], "answers": Answers(empty_list=404)})
    with EmulatorProcess(fixture) as emu, CleverCloudClient(emu.url, s_oauth(), retry=FAST_RETRIES) as client:
        assert client.list_namespaces(S_ORG) == []
        assert _statuses(emu, "GET", "/namespaces") == {404}
        with pytest.raises(OwnerNotFound):
            client.list_namespaces(UNKNOWN_OWNER)
