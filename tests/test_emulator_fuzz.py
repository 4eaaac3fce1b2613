"""Generated requests against every route of the emulator, in process (httpx's ASGI transport).

Whatever is sent, as long as it is an HTTP request: the answer is a 2xx, or a 4xx JSON error in the
API's shape (`{"id", "message", "type": "error"}`); never a 5xx or a body that is not JSON; and a
refused request, or any read, leaves the redirections as they were.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from clevercloud_tcp.emulator import DEFAULT_FIXTURE, Answers, build_app
from clevercloud_tcp.emulator.fixture import USER_ID

from support import oauth

# How many generated cases each property runs (reported in the closing note).
API_CASES = 1000
CONTROL_CASES = 150
SIGNATURE_CASES = 200

OWNERS = sorted(DEFAULT_FIXTURE.owners())
APPS = sorted(app.id for owner in DEFAULT_FIXTURE.owners().values() for app in owner.applications)
NAMESPACES = sorted(ns.name for ns in DEFAULT_FIXTURE.namespaces)
API_TOKEN = "emulator-api-token"
CONSUMER_KEY = DEFAULT_FIXTURE.consumers[0].key

VARIANTS = {
    "as documented": Answers(),
    "404 for empty, DELETE 204, POST 201": Answers(empty_list=404, delete_answer="204", post_status=201),
    "DELETE {}": Answers(delete_answer="empty-json"),
}


class InProcess:
    """A synchronous client of one emulator app, over one event loop."""

    def __init__(self, answers: Answers) -> None:
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(build_app(DEFAULT_FIXTURE.model_copy(update={"answers": answers})))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def held(self) -> list[dict[str, Any]]:
        return self.request("GET", "/_emulator/redirections").json()

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(scope="module", params=list(VARIANTS.values()), ids=list(VARIANTS))
def emu(request: pytest.FixtureRequest) -> Iterator[InProcess]:
    in_process = InProcess(request.param)
    yield in_process
    in_process.close()


# Strategies: mostly values the emulator knows (to get past authentication and look-ups), mixed
# with odd ones.

odd_text = st.text(max_size=40)
segment = st.one_of(
    st.sampled_from([*OWNERS, *APPS, *NAMESPACES, USER_ID, "", ".", "..", "%", "app_", "orga_"]),
    odd_text,
    st.integers().map(str),
)
port = st.one_of(
    st.integers(min_value=5001, max_value=5010).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["0", "65535", "65536", "99999999999999999999", "1e3", "+5001", " 5001", "5_001", "٥٠٠١"]),
    odd_text,
)
owner = st.one_of(st.sampled_from(OWNERS), segment)
app = st.one_of(st.sampled_from(APPS), segment)


def _path(*parts: str) -> str:
    return "/" + "/".join(quote(part, safe="") if part not in ("", ".", "..") else part for part in parts)


PAIRS = sorted((o.id, a.id) for o in DEFAULT_FIXTURE.owners().values() for a in o.applications)
pair = st.one_of(*[st.sampled_from(PAIRS)] * 3, st.tuples(owner, app))


def _route(template: str, ids: tuple[str, str], port_: str) -> str:
    owner_id, app_id = ids
    apps = ["v2", "organisations", owner_id, "applications", app_id]
    return {
        "summary": _path("v2", "summary"),
        "namespaces": _path("v2", "organisations", owner_id, "namespaces"),
        "tcpRedirs": _path(*apps, "tcpRedirs"),
        "port": _path(*apps, "tcpRedirs", port_),
        "vhosts": _path(*apps, "vhosts"),
        "favourite": _path(*apps, "vhosts", "favourite"),
    }[template]


# A route's own method most of the time, so that requests get past routing to the handlers.
ROUTES = [
    ("GET", "summary"), ("GET", "namespaces"), ("GET", "tcpRedirs"), ("POST", "tcpRedirs"),
    ("DELETE", "port"), ("GET", "vhosts"), ("GET", "favourite"),
]  # fmt: skip
methods = st.one_of(
    st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8),
)
namespace_param = st.one_of(st.sampled_from(NAMESPACES), odd_text)
queries = st.dictionaries(st.one_of(st.just("namespace"), odd_text), namespace_param, max_size=3)
header_value = st.binary(max_size=60).map(lambda raw: bytes(b for b in raw if b >= 0x20 and b != 0x7F))
authorizations = st.one_of(
    st.just(f"Bearer {API_TOKEN}".encode()),
    st.just(oauth().authorization().encode()),
    st.builds(
        lambda sig: f'OAuth oauth_consumer_key="{CONSUMER_KEY}", oauth_token="emulator-token", '
        f'oauth_signature="{sig}"'.encode("utf-8", "surrogatepass"),
        st.text(alphabet=st.characters(blacklist_characters='"\r\n'), max_size=20),
    ),
    header_value,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | odd_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=8,
)
bodies = st.one_of(
    *[st.sampled_from(NAMESPACES).map(lambda ns: json.dumps({"namespace": ns}).encode())] * 3,
    st.none(),
    st.builds(lambda ns: json.dumps({"namespace": ns}).encode(), namespace_param),
    st.builds(lambda ns, extra: json.dumps({"namespace": ns, **extra}).encode(), namespace_param,
              st.dictionaries(st.sampled_from(["minPort", "maxPort", "min_port", "port"]), json_values)),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=80),
)
content_types = st.one_of(
    st.none(),
    st.sampled_from([b"application/json", b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data"]),
    header_value,
)
extra_headers = st.dictionaries(
    st.sampled_from(["Host", "Accept", "Content-Encoding", "Transfer-Encoding", "X-Forwarded-For", "Cookie"]),
    header_value,
    max_size=2,
)


def assert_api_answer(response: httpx.Response, method: str) -> None:
    request = f"{method} {response.request.url}"
    assert 200 <= response.status_code < 500, f"{request} -> {response.status_code} {response.text[:200]}"
    if response.status_code == 204 or method == "HEAD":
        return
    assert response.headers.get("content-type") == "application/json", f"{request} -> {response.headers}"
    body = response.json()
    if response.status_code >= 400:
        assert isinstance(body, dict) and set(body) == {"id", "message", "type"}, f"{request} -> {body}"
        assert body["type"] == "error" and isinstance(body["id"], int) and body["message"], body


@settings(max_examples=API_CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.sampled_from(["route"] * 8 + ["other method", "any path"]),
    route=st.sampled_from(ROUTES),
    wild=st.tuples(methods, st.lists(segment, max_size=4).map(lambda parts: _path(*parts))),
    ids=pair,
    query=st.one_of(namespace_param.map(lambda ns: {"namespace": ns}), queries),
    authorization=st.one_of(*[st.just(f"Bearer {API_TOKEN}".encode())] * 3, st.none(), authorizations),
    content_type=content_types,
    headers=extra_headers,
    body=bodies,
    data=st.data(),
)
def test_every_api_route_answers_2xx_or_a_json_4xx_and_refusals_change_nothing(
    emu: InProcess,
    shape: str,
    route: tuple[str, str],
    wild: tuple[str, str],
    ids: tuple[str, str],
    query: dict[str, str],
    authorization: bytes | None,
    content_type: bytes | None,
    headers: dict[str, bytes],
    body: bytes | None,
    data: st.DataObject,
) -> None:
    before = emu.held()
    port_ = data.draw(port, label="port")
    # Half the time, aim at a redirection that is held, so that removals can succeed.
    target = data.draw(st.none() | st.sampled_from(before), label="held") if before else None
    if target is not None:
        ids, port_ = (target["owner_id"], target["app_id"]), str(target["port"])
        query = {**query, "namespace": target["namespace"]}
    method, path = wild if shape == "any path" else (route[0], _route(route[1], ids, port_))
    if shape == "other method":
        method = wild[0]
    sent: dict[str, bytes] = dict(headers)
    if authorization is not None:
        sent["Authorization"] = authorization
    if content_type is not None:
        sent["Content-Type"] = content_type
    response = emu.request(method, path, params=query, headers=sent, content=body)
    event(f"{method if method in ('GET', 'POST', 'DELETE') else 'other'} {response.status_code}")
    assert_api_answer(response, method)
    after = emu.held()
    if response.status_code >= 400 or method not in ("POST", "DELETE"):
        assert after == before, f"{method} {path} -> {response.status_code} changed the redirections"
    else:  # a successful write made, or removed, exactly one
        assert len(after) == len(before) + (1 if method == "POST" else -1), (method, path, before, after)


control_paths = st.sampled_from(["log", "counts", "redirections", "faults", "reset", "nope"]).map(
    lambda name: f"/_emulator/{name}"
)


@settings(max_examples=CONTROL_CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=methods, path=control_paths, body=bodies)
def test_control_endpoints_answer_json_and_never_5xx(emu: InProcess, method: str, path: str, body: bytes | None) -> None:
    response = emu.request(method, path, content=body)
    emu.request("DELETE", "/_emulator/faults")  # a rule armed here must not answer the next case
    assert_api_answer(response, method)


@settings(max_examples=SIGNATURE_CASES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(signature=st.text(alphabet=st.characters(blacklist_characters='"\r\n', blacklist_categories=["Cs"]), min_size=1))
def test_any_oauth_signature_is_401_unless_it_is_the_right_one(emu: InProcess, signature: str) -> None:
    header = f'OAuth oauth_consumer_key="{CONSUMER_KEY}", oauth_token="emulator-token", oauth_signature="{signature}"'
    response = emu.request("GET", "/v2/summary", headers={"Authorization": header.encode()})
    assert_api_answer(response, "GET")
    assert response.status_code == 401


def test_the_reported_cases_are_refused_cleanly(emu: InProcess) -> None:
    owner_id, app_id = DEFAULT_FIXTURE.organisations[0].id, DEFAULT_FIXTURE.organisations[0].applications[0].id
    redirs = _path("v2", "organisations", owner_id, "applications", app_id, "tcpRedirs")
    bearer = {"Authorization": f"Bearer {API_TOKEN}"}
    huge = emu.request("DELETE", f"{redirs}/99999999999999999999", params={"namespace": "default"}, headers=bearer)
    assert_api_answer(huge, "DELETE")
    assert huge.status_code == 404
    accented = 'OAuth oauth_consumer_key="k", oauth_token="emulator-token", oauth_signature="%C3%A9"'
    assert emu.request("GET", "/v2/summary", headers={"Authorization": accented}).status_code == 401
