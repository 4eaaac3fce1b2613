"""The emulator as a user of it sees it: concurrency, persistence, its CLI, `/_emulator/`, HTTP answers."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from oauthlib import oauth1
from pydantic import SecretStr

from clevercloud_tcp import (
    AlreadyExists,
    ApiTokenCredentials,
    CleverCloudClient,
    NoPortLeft,
    OAuthCredentials,
)
from clevercloud_tcp.api.auth import CLEVER_TOOLS_CONSUMER_KEY, CLEVER_TOOLS_CONSUMER_SECRET, CredentialsAuth
from clevercloud_tcp.emulator import App, Fixture, NamespaceSpec, organisation_fixture
from clevercloud_tcp.emulator.fixture import DEFAULT_FIXTURE, OTHER_ORG_ID, USER_ID
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.emulator.store import PoolExhausted, PortPool, Store
from support import APP, FAST_RETRIES, OWNER, SECRET, TOKEN, held, oauth, plaintext

OTHER_ORG_APP = "app_3a7c9d7b-6f5e-4b4c-8dbe-af9a8b7c6d5e"  # globex-db, owned by OTHER_ORG_ID
API_TOKEN = "emulator-api-token"
REDIRS = f"/v2/organisations/{OWNER}/applications/{APP}/tcpRedirs"
REDIRS_ROUTE = "/v2/organisations/{owner_id}/applications/{app_id}/tcpRedirs"

def _request(emulator: EmulatorProcess, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A raw API request signed with the default fixture's OAuth pair."""
    return httpx.request(method, emulator.url + path, headers={"Authorization": plaintext(oauth())}, **kwargs)


# A crowd of apps in one organisation, for concurrency and persistence.
THREADS = 64
_IDS = uuid.UUID("0c0ffee0-0000-4000-8000-000000000000")
CROWD_USER = f"user_{uuid.uuid5(_IDS, 'crowd-user')}"
CROWD_ORG = f"orga_{uuid.uuid5(_IDS, 'crowd-org')}"
CROWD_APPS = [f"app_{uuid.uuid5(_IDS, f'crowd-app-{i}')}" for i in range(THREADS)]
CROWD_TOKEN, CROWD_SECRET = "crowd-token", "crowd-secret"
CROWD_RANGES = {
    "wide": range(5001, 5201),  # 200 ports: room for every thread
    "narrow": range(5001, 5011),  # 10 ports for 64 threads
    "tiny": range(5001, 5004),  # 3 ports
}
CROWD_FIXTURE = organisation_fixture(
    user_id=CROWD_USER,
    org_id=CROWD_ORG,
    token=CROWD_TOKEN,
    secret=CROWD_SECRET,
    apps=[App(id=app, name=f"app-{i}") for i, app in enumerate(CROWD_APPS)],
    namespaces=[
        NamespaceSpec(name=name, min_port=ports.start, max_port=ports.stop - 1)
        for name, ports in CROWD_RANGES.items()
    ],
)


def crowd_client(emu: EmulatorProcess) -> CleverCloudClient:
    credentials = OAuthCredentials(token=SecretStr(CROWD_TOKEN), secret=SecretStr(CROWD_SECRET))
    return CleverCloudClient(emu.url, credentials, timeout=30.0, retry=FAST_RETRIES)


@pytest.fixture(scope="module")
def crowd() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(CROWD_FIXTURE) as emu:
        yield emu


# (a) Parallel adds.


@pytest.mark.parametrize("namespace", ["wide", "narrow"])
def test_concurrent_adds_over_http_never_hand_out_a_port_twice(crowd: EmulatorProcess, namespace: str) -> None:
    # Every request is answered, a full namespace as NoPortLeft. The handlers run one at a time on
    # one event loop, so this cannot race the store itself: the test below does.
    crowd.reset()
    ports = CROWD_RANGES[namespace]
    start = threading.Barrier(THREADS)

    def add(app: str) -> int | NoPortLeft:
        with crowd_client(crowd) as client:  # one connection per thread: truly parallel requests
            start.wait()
            try:
                return client.add_tcp_redirection(CROWD_ORG, app, namespace).port
            except NoPortLeft as exc:
                return exc

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = dict(zip(CROWD_APPS, pool.map(add, CROWD_APPS), strict=True))

    won = {app: port for app, port in outcomes.items() if isinstance(port, int)}
    lost = [app for app, outcome in outcomes.items() if isinstance(outcome, NoPortLeft)]
    assert len(won) == min(THREADS, len(ports))
    assert len(set(won.values())) == len(won), "a port was handed out twice"
    assert set(won.values()) <= set(ports)
    assert len(lost) == THREADS - len(won)
    if len(ports) < THREADS:
        assert set(won.values()) == set(ports)  # every port went to someone
    held = {row["app_id"]: row["port"] for row in crowd.redirections()}
    assert held == won


@pytest.fixture
def quick_switches() -> Iterator[None]:
    """Threads switch every microsecond, so that unguarded steps of an allocation would interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.parametrize("namespace", ["wide", "narrow"])
@pytest.mark.usefixtures("quick_switches")
def test_threads_adding_and_removing_in_the_store_never_share_a_port(namespace: str) -> None:
    """Threads call the store directly, as a threaded server would, each adding and removing its own app's."""
    ports = CROWD_RANGES[namespace]
    store = Store([NamespaceSpec(name=namespace, min_port=ports.start, max_port=ports.stop - 1)])
    start = threading.Barrier(THREADS)
    guard = threading.Lock()
    holders: dict[int, str] = {}  # port -> the app the store gave it to, and has not taken back
    clashes: list[tuple[int, str, str]] = []

    def churn(app: str) -> int:
        refused = 0
        start.wait()
        for round_ in range(20):
            try:
                port = store.add(CROWD_ORG, app, namespace).port
            except PoolExhausted:
                refused += 1
                continue
            with guard:
                if port in holders:
                    clashes.append((port, holders[port], app))
                holders[port] = app
            if round_ < 19:  # the last one stays, for the final count
                with guard:
                    del holders[port]  # before the store frees it: another thread may get it next
                store.remove(app, namespace, port)
        return refused

    with ThreadPoolExecutor(THREADS) as pool:
        refused = sum(pool.map(churn, CROWD_APPS))

    assert clashes == [], "a port was handed out twice"
    held = {r.port: r.app_id for r in store.list()}
    assert held == holders
    assert set(held) <= set(ports)
    if len(ports) >= THREADS:
        assert refused == 0  # "no port left" only when the namespace is full
    else:  # every port comes back, once each
        for port, app in held.items():
            store.remove(app, namespace, port)
        assert sorted(store.add(CROWD_ORG, app, namespace).port for app in CROWD_APPS[: len(ports)]) == list(ports)
        with pytest.raises(PoolExhausted):
            store.add(CROWD_ORG, CROWD_APPS[len(ports)], namespace)


# (b) Restart with --state.


def test_state_file_keeps_redirections_across_a_restart(tmp_path: Path) -> None:
    with EmulatorProcess(CROWD_FIXTURE, state=tmp_path / "state.sqlite") as emu:
        with crowd_client(emu) as client:
            wide = {app: client.add_tcp_redirection(CROWD_ORG, app, "wide").port for app in CROWD_APPS[:5]}
            tiny = {app: client.add_tcp_redirection(CROWD_ORG, app, "tiny").port for app in CROWD_APPS[:2]}

        emu.restart()

        with crowd_client(emu) as client:
            for app in CROWD_APPS[:5]:
                listed = {(r.namespace, r.port) for r in client.list_tcp_redirections(CROWD_ORG, app)}
                expected = {("wide", wide[app])} | ({("tiny", tiny[app])} if app in tiny else set())
                assert listed == expected
            with pytest.raises(AlreadyExists):
                client.add_tcp_redirection(CROWD_ORG, CROWD_APPS[0], "wide")
            # The held ports are still taken: the only port left of `tiny` is handed out, then none.
            third = client.add_tcp_redirection(CROWD_ORG, CROWD_APPS[2], "tiny").port
            assert third == (set(CROWD_RANGES["tiny"]) - set(tiny.values())).pop()
            with pytest.raises(NoPortLeft):
                client.add_tcp_redirection(CROWD_ORG, CROWD_APPS[3], "tiny")
            fresh = client.add_tcp_redirection(CROWD_ORG, CROWD_APPS[5], "wide").port
            assert fresh not in wide.values()
            # A port freed after the restart can be handed out again.
            assert client.remove_tcp_redirection(CROWD_ORG, CROWD_APPS[0], "tiny", tiny[CROWD_APPS[0]])
            assert client.add_tcp_redirection(CROWD_ORG, CROWD_APPS[4], "tiny").port == tiny[CROWD_APPS[0]]


def test_without_state_file_a_restart_forgets(tmp_path: Path) -> None:
    with EmulatorProcess(CROWD_FIXTURE) as emu:
        with crowd_client(emu) as client:
            client.add_tcp_redirection(CROWD_ORG, CROWD_APPS[0], "wide")
        emu.restart()
        assert emu.redirections() == []


# (c) The command line.


def test_print_fixture_prints_the_default_fixture_as_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clevercloud_tcp.emulator", "--print-fixture"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert Fixture.model_validate_json(result.stdout) == DEFAULT_FIXTURE


def test_first_stdout_line_is_the_url_it_listens_on(tmp_path: Path) -> None:
    fixture = tmp_path / "fixture.json"
    fixture.write_text(CROWD_FIXTURE.model_dump_json())
    proc = subprocess.Popen(
        [sys.executable, "-m", "clevercloud_tcp.emulator", "--fixture", str(fixture), "--seed", "7"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match, line
        assert 0 < int(match.group(2)) < 65536
        # The URL already accepts connections, and serves the fixture given on the command line.
        with crowd_client_at(match.group(1)) as client:
            assert client.summary().organisations[0].id == CROWD_ORG
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def crowd_client_at(url: str) -> CleverCloudClient:
    credentials = OAuthCredentials(token=SecretStr(CROWD_TOKEN), secret=SecretStr(CROWD_SECRET))
    return CleverCloudClient(url, credentials, timeout=10.0, retry=FAST_RETRIES)


# (d) /_emulator/.


def test_counts_are_per_route(emulator: EmulatorProcess, client: CleverCloudClient) -> None:
    client.list_tcp_redirections(OWNER, APP)
    port = client.add_tcp_redirection(OWNER, APP, "default").port
    client.list_tcp_redirections(OWNER, APP)
    client.list_tcp_redirections(OWNER, "app_1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c")
    client.remove_tcp_redirection(OWNER, APP, "default", port)
    client.list_namespaces(OWNER)
    client.summary()
    assert emulator.counts() == {
        f"GET {REDIRS_ROUTE}": 3,
        f"POST {REDIRS_ROUTE}": 1,
        f"DELETE {REDIRS_ROUTE}/{{port}}": 1,
        "GET /v2/organisations/{owner_id}/namespaces": 1,
        "GET /v2/summary": 1,
    }


def test_faulted_requests_are_counted_under_their_route(emulator: EmulatorProcess) -> None:
    emulator.inject(method="GET", path="*/tcpRedirs", status=503)
    httpx.get(emulator.url + REDIRS, headers={"Authorization": plaintext(oauth())})
    assert emulator.counts() == {f"GET {REDIRS_ROUTE}": 1}


def test_log_never_holds_a_credential(emulator: EmulatorProcess) -> None:
    oauth_header = plaintext(oauth())
    wrong_header = plaintext(oauth(TOKEN, "wrong-secret-value"))
    with httpx.Client(base_url=emulator.url) as http:
        http.get(REDIRS, headers={"Authorization": oauth_header})
        http.post(REDIRS, json={"namespace": "default"}, headers={"Authorization": oauth_header})
        http.get(REDIRS, headers={"Authorization": f"Bearer {API_TOKEN}"})
        http.get(REDIRS, headers={"Authorization": wrong_header})
    log = emulator.log()
    assert [entry["status"] for entry in log] == [200, 200, 200, 401]
    assert all(set(entry) == {"seq", "time", "method", "path", "route", "status", "outcome"} for entry in log)
    dumped = json.dumps([log, emulator.counts(), emulator.writes()])
    for secret in (oauth_header, wrong_header, TOKEN, SECRET, API_TOKEN, "wrong-secret-value", "oauth_"):
        assert secret not in dumped


def test_injected_429_answers_with_retry_after_then_stops(emulator: EmulatorProcess) -> None:
    emulator.inject(method="GET", path="*/tcpRedirs", status=429, retry_after=3, count=2)
    headers = {"Authorization": plaintext(oauth())}
    with httpx.Client(base_url=emulator.url, headers=headers) as http:
        first, second, third = (http.get(REDIRS) for _ in range(3))
    for refused in (first, second):
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "3"
        assert refused.headers["content-type"] == "application/json"
        assert refused.json()["type"] == "error"
    assert third.status_code == 200
    assert [entry["outcome"] for entry in emulator.log()] == ["fault", "fault", "ok"]


def test_injected_status_changes_nothing(emulator: EmulatorProcess) -> None:
    emulator.inject(method="POST", status=500)
    response = httpx.post(
        emulator.url + REDIRS, json={"namespace": "default"}, headers={"Authorization": plaintext(oauth())}
    )
    assert response.status_code == 500
    assert emulator.redirections() == []


def test_fault_matches_method_and_path_only(emulator: EmulatorProcess) -> None:
    emulator.inject(method="POST", path="*/namespaces", status=503)
    headers = {"Authorization": plaintext(oauth())}
    with httpx.Client(base_url=emulator.url, headers=headers) as http:
        assert http.get(f"/v2/organisations/{OWNER}/namespaces").status_code == 200
        assert http.get(REDIRS).status_code == 200
    assert len(httpx.get(emulator.url + "/_emulator/faults").json()) == 1  # still armed


@pytest.mark.parametrize(("drop", "created"), [("before", 0), ("after", 1)])
def test_dropped_connection_before_or_after_the_change(emulator: EmulatorProcess, drop: str, created: int) -> None:
    emulator.inject(method="POST", path="*/tcpRedirs", drop=drop)
    with pytest.raises(httpx.TransportError):
        httpx.post(
            emulator.url + REDIRS, json={"namespace": "default"}, headers={"Authorization": plaintext(oauth())}
        )
    rows = emulator.redirections()
    assert len(rows) == created
    assert all((row["app_id"], row["namespace"]) == (APP, "default") for row in rows)
    assert [entry["outcome"] for entry in emulator.log()] == [f"dropped {drop} commit"]


def _wait_for_delayed_requests(emulator: EmulatorProcess, delay: float) -> None:
    """Returns once the server has finished the requests delayed so far by at most `delay` seconds:
    a probe sent now and delayed as long wakes up after them, on the server's own clock."""
    emulator.inject(method="GET", path="/v2/summary", delay=delay)
    httpx.get(emulator.url + "/v2/summary", headers={"Authorization": plaintext(oauth())}, timeout=30)


def test_delayed_request_is_answered_normally(emulator: EmulatorProcess) -> None:
    emulator.inject(method="POST", path="*/tcpRedirs", delay=0.2)
    response = _request(emulator, "POST", REDIRS, json={"namespace": "default"})
    assert response.status_code == 200
    assert [row["port"] for row in emulator.redirections()] == [response.json()["port"]]
    assert [entry["outcome"] for entry in emulator.log()] == ["delayed"]


def test_delayed_post_is_carried_out_after_the_client_gave_up(emulator: EmulatorProcess) -> None:
    emulator.inject(method="POST", path="*/tcpRedirs", delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            emulator.url + REDIRS,
            json={"namespace": "default"},
            headers={"Authorization": plaintext(oauth())},
            timeout=0.3,
        )
    _wait_for_delayed_requests(emulator, 1.0)
    assert [entry["outcome"] for entry in emulator.log()] == ["delayed", "delayed"]
    assert len(emulator.redirections()) == 1


def test_invalid_fault_rule_is_refused(emulator: EmulatorProcess) -> None:
    response = httpx.post(emulator.url + "/_emulator/faults", json={"status": 503, "drop": "after"})
    assert response.status_code == 400
    assert httpx.get(emulator.url + "/_emulator/faults").json() == []


def test_reset_empties_everything(emulator: EmulatorProcess, client: CleverCloudClient) -> None:
    client.add_tcp_redirection(OWNER, APP, "default")
    emulator.inject(method="GET", status=503, count=5)
    assert emulator.redirections() and emulator.log()
    emulator.reset()
    assert emulator.redirections() == []
    assert emulator.log() == []
    assert emulator.counts() == {}
    assert httpx.get(emulator.url + "/_emulator/faults").json() == []
    assert client.list_tcp_redirections(OWNER, APP) == []  # the fault is gone too


# (e) HTTP answers: statuses, bodies, content type.


def _headers(authorization: str | None) -> dict[str, str]:
    return {"Authorization": authorization} if authorization is not None else {}


BAD_AUTHORIZATIONS = {
    "missing": None,
    "empty": "",
    "oauth wrong secret": plaintext(oauth(TOKEN, "not-the-secret")),
    "oauth unknown token": plaintext(oauth("not-a-token", SECRET)),
    "oauth unknown consumer": plaintext(OAuthCredentials(
        token=SecretStr(TOKEN), secret=SecretStr(SECRET), consumer_key=SecretStr("someone-else")
    )),
    "bearer wrong": "Bearer not-an-api-token",
    "bearer without token": "Bearer",
    "unknown scheme": f"Basic {API_TOKEN}",
}


def assert_api_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"id", "message", "type"}
    assert body["type"] == "error"
    assert isinstance(body["id"], int) and body["message"]
    return body


@pytest.mark.parametrize("authorization", list(BAD_AUTHORIZATIONS.values()), ids=list(BAD_AUTHORIZATIONS))
def test_bad_credentials_are_401(emulator: EmulatorProcess, authorization: str | None) -> None:
    response = httpx.get(emulator.url + REDIRS, headers=_headers(authorization))
    assert_api_error(response, 401)


@pytest.mark.parametrize(
    "credentials",
    [oauth(), ApiTokenCredentials(api_token=SecretStr(API_TOKEN))],
    ids=["oauth", "bearer"],
)
def test_good_credentials_of_both_schemes(
    emulator: EmulatorProcess, credentials: OAuthCredentials | ApiTokenCredentials
) -> None:
    with httpx.Client(base_url=emulator.url, auth=CredentialsAuth(credentials)) as http:
        response = http.get(REDIRS)
        summary = http.get("/v2/summary")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == []
    assert summary.json()["user"]["id"] == USER_ID


def _signed(method: str, url: str, credentials: OAuthCredentials | None = None) -> str:
    return (credentials or oauth()).authorization(method, url)


def _stale(url: str) -> str:
    """A GET of `url` rightly signed, ten minutes ago."""
    signer = oauth1.Client(
        CLEVER_TOOLS_CONSUMER_KEY, client_secret=CLEVER_TOOLS_CONSUMER_SECRET, resource_owner_key=TOKEN,
        resource_owner_secret=SECRET, signature_method=oauth1.SIGNATURE_HMAC_SHA512, timestamp=str(int(time.time()) - 600),
    )
    return str(signer.sign(url, http_method="GET")[1]["Authorization"])


def test_hmac_signed_requests_carry_no_secret_and_a_signature_fits_one_request(emulator: EmulatorProcess) -> None:
    url = emulator.url + REDIRS
    header = _signed("GET", url)
    assert "HMAC-SHA512" in header
    assert SECRET not in header and CLEVER_TOOLS_CONSUMER_SECRET not in header  # the signature, not the secrets
    assert httpx.get(url, headers={"Authorization": header}).status_code == 200
    refused = {
        "the same request again": httpx.get(url, headers={"Authorization": header}),
        "a stale one": httpx.get(url, headers={"Authorization": _stale(url)}),
        "another method": httpx.post(url, json={"namespace": "default"}, headers={"Authorization": header}),
        "another path": httpx.get(emulator.url + "/v2/summary", headers={"Authorization": header}),
        "another query": httpx.get(url, params={"namespace": "x"}, headers={"Authorization": header}),
        "a wrong secret": httpx.get(url, headers={"Authorization": _signed("GET", url, oauth(TOKEN, "not-the-secret"))}),
        "a tampered signature": httpx.get(url, headers={"Authorization": re.sub(r'oauth_signature="[^"]{4}', 'oauth_signature="AAAA', header)}),
    }
    assert {name: answer.status_code for name, answer in refused.items()} == dict.fromkeys(refused, 401)
    assert held(emulator) == []


def test_unknown_owner_is_404(emulator: EmulatorProcess) -> None:
    path = f"/v2/organisations/orga_ffffffff-ffff-4fff-8fff-ffffffffffff/applications/{APP}/tcpRedirs"
    assert_api_error(_request(emulator, "GET", path), 404)
    assert_api_error(_request(emulator, "GET", "/v2/organisations/orga_nope/namespaces"), 404)


def test_owner_the_user_is_not_a_member_of_is_403(emulator: EmulatorProcess) -> None:
    path = f"/v2/organisations/{OTHER_ORG_ID}/applications/{OTHER_ORG_APP}/tcpRedirs"
    assert_api_error(_request(emulator, "GET", path), 403)


def test_app_of_another_owner_is_404(emulator: EmulatorProcess) -> None:
    path = f"/v2/organisations/{OWNER}/applications/{OTHER_ORG_APP}/tcpRedirs"
    body = assert_api_error(_request(emulator, "GET", path), 404)
    assert body["id"] == 4002
    assert_api_error(_request(emulator, "POST", path, json={"namespace": "default"}), 404)
    assert emulator.redirections() == []


def test_unknown_app_is_404(emulator: EmulatorProcess) -> None:
    path = f"/v2/organisations/{OWNER}/applications/app_ffffffff-ffff-4fff-8fff-ffffffffffff/tcpRedirs"
    assert assert_api_error(_request(emulator, "GET", path), 404)["id"] == 4004


def test_unknown_namespace_is_404(emulator: EmulatorProcess) -> None:
    assert_api_error(_request(emulator, "POST", REDIRS, json={"namespace": "no-such-namespace"}), 404)
    # A namespace dedicated to another owner does not exist for this one.
    personal = f"/v2/organisations/{USER_ID}/applications/app_9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f/tcpRedirs"
    assert_api_error(_request(emulator, "POST", personal, json={"namespace": "acme-dedicated"}), 404)
    assert emulator.redirections() == []


def test_duplicate_add_is_409(emulator: EmulatorProcess) -> None:
    first = _request(emulator, "POST", REDIRS, json={"namespace": "default"})
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.json() == {"namespace": "default", "port": first.json()["port"]}
    body = assert_api_error(_request(emulator, "POST", REDIRS, json={"namespace": "default"}), 409)
    assert "already has a TCP redirection" in str(body["message"])
    assert len(emulator.redirections()) == 1


def test_malformed_add_body_is_400(emulator: EmulatorProcess) -> None:
    assert_api_error(_request(emulator, "POST", REDIRS, content=b"not json"), 400)


def test_delete_of_an_absent_port_is_404_with_a_json_body(emulator: EmulatorProcess) -> None:
    body = assert_api_error(_request(emulator, "DELETE", f"{REDIRS}/5555", params={"namespace": "default"}), 404)
    assert "5555" in str(body["message"])


def test_delete_of_a_held_port_succeeds(emulator: EmulatorProcess) -> None:
    port = _request(emulator, "POST", REDIRS, json={"namespace": "default"}).json()["port"]
    response = _request(emulator, "DELETE", f"{REDIRS}/{port}", params={"namespace": "default"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert emulator.redirections() == []


def test_unknown_route_is_a_json_404(emulator: EmulatorProcess) -> None:
    assert_api_error(_request(emulator, "GET", "/v2/no/such/route"), 404)


# (f) Port pool: correct, and one random draw per allocation however full the range is.


class CountingRandom(random.Random):
    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.draws = 0

    def randrange(self, *args: int) -> int:  # type: ignore[override]
        self.draws += 1
        return super().randrange(*args)


def test_port_pool_hands_out_exactly_its_range_then_refuses() -> None:
    spec = NamespaceSpec(name="pool", min_port=5000, max_port=5999)
    rng = CountingRandom(1)
    pool = PortPool(spec, set(), rng)
    taken = [pool.take() for _ in range(1000)]
    assert sorted(taken) == list(range(5000, 6000))
    assert len(pool) == 0
    with pytest.raises(PoolExhausted):
        pool.take()
    # No retry-until-free: one draw per port, even for the last ones of a nearly full range.
    assert rng.draws == 1000


def test_port_pool_skips_ports_already_taken() -> None:
    spec = NamespaceSpec(name="pool", min_port=1, max_port=10)
    pool = PortPool(spec, {2, 4, 6, 8, 10}, random.Random(2))
    assert sorted(pool.take() for _ in range(5)) == [1, 3, 5, 7, 9]
    with pytest.raises(PoolExhausted):
        pool.take()


def test_port_pool_gives_a_returned_port_out_again() -> None:
    spec = NamespaceSpec(name="pool", min_port=7000, max_port=7009)
    pool = PortPool(spec, set(), random.Random(3))
    taken = [pool.take() for _ in range(10)]
    pool.give_back(taken[4])
    pool.give_back(taken[4])  # twice: still one free port, not two
    assert len(pool) == 1
    assert pool.take() == taken[4]
    with pytest.raises(PoolExhausted):
        pool.take()


def test_port_pool_single_port_range() -> None:
    pool = PortPool(NamespaceSpec(name="one", min_port=6000, max_port=6000), set(), random.Random(4))
    assert pool.take() == 6000
    with pytest.raises(PoolExhausted):
        pool.take()
