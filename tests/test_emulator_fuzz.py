"""Generated requests against every route of the emulator, in process (httpx's ASGI transport).

Whatever is sent, as long as it is an HTTP request: the answer is a 2xx, or a 4xx JSON error in the
API's shape (`{"id", "message", "type": "error"}`); never a 5xx or a body that is not JSON; and a
refused request, or any read, leaves the redirections as they were.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from clevercloud_tcp.emulator import DEFAULT_FIXTURE, Answers, build_app
from clevercloud_tcp.emulator.fixture import USER_ID
from support import oauth, plaintext

# How many generated cases each property runs (reported in the closing note).
API_CASES = 1000
CONTROL_CASES = 150
SIGNATURE_CASES = 200

OWNERS = sorted(DEFAULT_FIXTURE.owners())
APPS = sorted(app.id for owner in DEFAULT_FIXTURE.owners().values() for app in owner.applications)
NAMESPACES = sorted(ns.name for ns in DEFAULT_FIXTURE.namespaces)
API_TOKEN = "emulator-api-token"
CONSUMER_KEY = DEFAULT_FIXTURE.consumers[0].key
RIGHT_SIGNATURE = unquote(re.findall(r'oauth_signature="([^"]*)"', plaintext(oauth()))[0])

VARIANTS = {
    "as documented": Answers(),
    "404 for empty, DELETE 204, POST 201": Answers(empty_list=404, delete_answer="204", post_status=201),
    "DELETE {}": Answers(delete_answer="empty-json"),
}


class InProcess:
    """A synchronous client of a new emulator app, over its own event loop.

    Every example gets its own, with seeded ports: what the emulator holds when a case starts is then
    a function of the drawn data alone, so Hypothesis can replay and shrink any case it finds.
    """

    def __init__(self, answers: Answers) -> None:
        self.loop = asyncio.new_event_loop()
        app = build_app(DEFAULT_FIXTURE.model_copy(update={"answers": answers}), seed=0)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1:8000")

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def held(self) -> list[dict[str, Any]]:
        return self.request("GET", "/_emulator/redirections").json()


answer_variants = pytest.mark.parametrize("answers", list(VARIANTS.values()), ids=list(VARIANTS))


# Strategies: mostly values the emulator knows (to get past authentication and look-ups), mixed
# with odd ones. Every path is one a client sends as it is written: no empty segment (a path that
# starts with "//" is not a relative URL at all) and no bare dot segments (a client resolves "." and
# ".." away before sending). The odd paths a client does send come as their own cases below.

odd_text = st.text(max_size=40)
segment = st.one_of(
    st.sampled_from([*OWNERS, *APPS, *NAMESPACES, USER_ID, ".", "..", "%", "app_", "orga_"]),
    st.text(min_size=1, max_size=40),
    st.integers().map(str),
)
port = st.one_of(
    st.integers(min_value=5001, max_value=5010).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["0", "65535", "65536", "99999999999999999999", "1e3", "+5001", " 5001", "5_001", "٥٠٠١", ".", ".."]),
    st.text(min_size=1, max_size=40),
)
owner = st.one_of(st.sampled_from(OWNERS), segment)
app = st.one_of(st.sampled_from(APPS), segment)


def _encode(part: str) -> str:
    encoded = quote(part, safe="")
    # "." and ".." would be resolved away by the client: percent-encoded, they reach the server as written.
    return encoded.replace(".", "%2E") if set(encoded) == {"."} else encoded


def _path(*parts: str) -> str:
    return "/" + "/".join(_encode(part) for part in parts)


# The odd paths a client can send, each on purpose: a doubled slash inside, a trailing slash, and
# segments percent-encoded character by character (which the server decodes before routing).
PATH_FORMS = ["as built"] * 7 + ["doubled slash", "trailing slash", "fully encoded"]


def _shaped(path: str, form: str, at: int) -> str:
    parts = path.split("/")[1:]
    if form == "doubled slash" and len(parts) > 1:
        cut = 1 + at % (len(parts) - 1)
        return "/" + "/".join(parts[:cut]) + "//" + "/".join(parts[cut:])
    if form == "trailing slash" and path != "/":
        return path + "/"
    if form == "fully encoded" and parts:
        plain = parts[at % len(parts)]
        spelled = "".join(f"%{byte:02X}" for byte in plain.encode()) if "%" not in plain else plain
        return "/" + "/".join([*parts[: at % len(parts)], spelled, *parts[at % len(parts) + 1 :]])
    return path


PAIRS = sorted((o.id, a.id) for o in DEFAULT_FIXTURE.owners().values() for a in o.applications)
pair = st.one_of(*[st.sampled_from(PAIRS)] * 3, st.tuples(owner, app))
# What the emulator holds when a case starts: redirections made through the API itself.
starting_redirections = st.lists(st.tuples(st.sampled_from(PAIRS), st.sampled_from(NAMESPACES)), max_size=4)


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
    st.just(plaintext(oauth()).encode()),
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


def _make(emu: InProcess, starting: list[tuple[tuple[str, str], str]]) -> None:
    for (owner_id, app_id), namespace in starting:
        emu.request(
            "POST",
            _route("tcpRedirs", (owner_id, app_id), ""),
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            json={"namespace": namespace},
        )


@answer_variants
@settings(max_examples=API_CASES, deadline=None)
@given(
    starting=starting_redirections,
    shape=st.sampled_from(["route"] * 8 + ["other method", "any path"]),
    route=st.sampled_from(ROUTES),
    wild=st.tuples(methods, st.lists(segment, max_size=4).map(lambda parts: _path(*parts))),
    form=st.sampled_from(PATH_FORMS),
    form_at=st.integers(min_value=0, max_value=7),
    ids=pair,
    query=st.one_of(namespace_param.map(lambda ns: {"namespace": ns}), queries),
    authorization=st.one_of(*[st.just(f"Bearer {API_TOKEN}".encode())] * 3, st.none(), authorizations),
    content_type=content_types,
    headers=extra_headers,
    body=bodies,
    data=st.data(),
)
def test_every_api_route_answers_2xx_or_a_json_4xx_and_refusals_change_nothing(
    answers: Answers,
    starting: list[tuple[tuple[str, str], str]],
    shape: str,
    route: tuple[str, str],
    wild: tuple[str, str],
    form: str,
    form_at: int,
    ids: tuple[str, str],
    query: dict[str, str],
    authorization: bytes | None,
    content_type: bytes | None,
    headers: dict[str, bytes],
    body: bytes | None,
    data: st.DataObject,
) -> None:
    with InProcess(answers) as emu:
        _make(emu, starting)
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
        path = _shaped(path, form, form_at)
        sent: dict[str, bytes] = dict(headers)
        if authorization is not None:
            sent["Authorization"] = authorization
        if content_type is not None:
            sent["Content-Type"] = content_type
        response = emu.request(method, path, params=query, headers=sent, content=body)
        # The case is the one the test describes: the client sent the path exactly as it was built.
        assert response.request.url.raw_path.split(b"?")[0] == path.encode(), (path, response.request.url)
        event(f"{form}: {method if method in ('GET', 'POST', 'DELETE') else 'other'} {response.status_code}")
        assert_api_answer(response, method)
        after = emu.held()
    if response.status_code >= 400 or method not in ("POST", "DELETE"):
        assert after == before, f"{method} {path} -> {response.status_code} changed the redirections"
    else:  # a successful write made, or removed, exactly one
        assert len(after) == len(before) + (1 if method == "POST" else -1), (method, path, before, after)


control_paths = st.sampled_from(["log", "counts", "redirections", "faults", "reset", "nope"]).map(
    lambda name: f"/_emulator/{name}"
)


@answer_variants
@settings(max_examples=CONTROL_CASES, deadline=None)
@given(method=methods, path=control_paths, body=bodies)
def test_control_endpoints_answer_json_and_never_5xx(answers: Answers, method: str, path: str, body: bytes | None) -> None:
    with InProcess(answers) as emu:
        response = emu.request(method, path, content=body)
    assert_api_answer(response, method)


@answer_variants
@settings(max_examples=SIGNATURE_CASES, deadline=None)
@given(signature=st.text(alphabet=st.characters(blacklist_characters='"\r\n', blacklist_categories=["Cs"]), min_size=1))
def test_any_oauth_signature_is_401_unless_it_is_the_right_one(answers: Answers, signature: str) -> None:
    assume(unquote(signature) != RIGHT_SIGNATURE)  # the one right key, however it is percent-encoded
    header = f'OAuth oauth_consumer_key="{CONSUMER_KEY}", oauth_token="emulator-token", oauth_signature="{signature}"'
    with InProcess(answers) as emu:
        response = emu.request("GET", "/v2/summary", headers={"Authorization": header.encode()})
    assert_api_answer(response, "GET")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("form", "path", "status"),
    [
        ("as built", "/v2/summary", 200),
        ("doubled slash", "/v2//summary", 404),
        ("trailing slash", "/v2/summary/", 404),
        ("fully encoded", "/%76%32/summary", 200),
        ("encoded dot segments", "/v2/%2E%2E/v2/summary", 404),
    ],
)
def test_odd_paths_a_client_sends_are_routed_as_written(form: str, path: str, status: int) -> None:
    with InProcess(Answers()) as emu:
        response = emu.request("GET", path, headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert response.request.url.raw_path == path.encode(), form
    assert_api_answer(response, "GET")
    assert response.status_code == status, (form, response.text)


def test_every_generated_path_is_one_a_client_sends_as_written() -> None:
    for parts in [("",), (".",), ("..",), ("v2", "..", "x"), ("a/b", "%", " ")]:
        path = _path(*parts)
        assert httpx.Request("GET", "http://127.0.0.1" + path).url.raw_path == path.encode(), parts


def test_the_reported_cases_are_refused_cleanly() -> None:
    owner_id, app_id = DEFAULT_FIXTURE.organisations[0].id, DEFAULT_FIXTURE.organisations[0].applications[0].id
    redirs = _path("v2", "organisations", owner_id, "applications", app_id, "tcpRedirs")
    bearer = {"Authorization": f"Bearer {API_TOKEN}"}
    with InProcess(Answers()) as emu:
        huge = emu.request("DELETE", f"{redirs}/99999999999999999999", params={"namespace": "default"}, headers=bearer)
        accented = 'OAuth oauth_consumer_key="k", oauth_token="emulator-token", oauth_signature="%C3%A9"'
        refused = emu.request("GET", "/v2/summary", headers={"Authorization": accented})
    assert_api_answer(huge, "DELETE")
    assert huge.status_code == 404
    assert refused.status_code == 401


def test_the_right_oauth_signature_is_accepted_however_it_is_encoded() -> None:
    header = 'OAuth oauth_consumer_key="{}", oauth_token="emulator-token", oauth_signature="{}"'
    with InProcess(Answers()) as emu:
        for signature in (quote(RIGHT_SIGNATURE, safe=""), RIGHT_SIGNATURE):
            response = emu.request("GET", "/v2/summary", headers={"Authorization": header.format(CONSUMER_KEY, signature)})
            assert response.status_code == 200, signature
