"""Bad input of every kind, through the provider host over gRPC as the engine drives it.

Each case says what goes wrong, where the provider must notice (`configure` for settings that are wrong
whatever the API says, which the engine's first check then reports at `pulumi preview`; `check` for
resource inputs; else the `create`/`update`/`delete` that needs the API), which words the message must
hold (naming the field and the fix), and whether the API may have been written to. Input and credential mistakes must be
caught before any write reaches the emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import grpc
import pytest

from clevercloud_tcp.core.inputs import PYTHON_NAMES
from clevercloud_tcp.emulator.fixture import ORG_ID, OTHER_ORG_ID, USER_ID
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.testing.harness import ProviderHost
from support import APP, HOST_FACES, SECRET, TOKEN, bare_env, closed_endpoint, html_endpoint, provider_host

GLOBEX_APP = "app_3a7c9d7b-6f5e-4b4c-8dbe-af9a8b7c6d5e"  # belongs to another organisation
UNKNOWN_APP = "app_deadbeef-0000-4000-8000-000000000000"
UNKNOWN_ORG = "orga_deadbeef-0000-4000-8000-000000000000"
UUID_PART = APP.removeprefix("app_")

# Placeholders in a case's config, filled in by the test.
EMULATOR, CLOSED, HTML, HTML_404 = "<emulator>", "<closed-port>", "<html>", "<html-404>"
GOOD = {"clevercloud:token": TOKEN, "clevercloud:secret": SECRET, "clevercloud:endpoint": EMULATOR, "clevercloud-tcp:allowHttp": "true"}
NO_OPT_IN = {k: v for k, v in GOOD.items() if k != "clevercloud-tcp:allowHttp"}


@dataclass(frozen=True)
class Case:
    id: str
    call: Literal["configure", "check", "create", "update", "delete"]
    inputs: dict[str, Any]
    expect: tuple[str, ...]
    config: dict[str, str] = field(default_factory=lambda: dict(GOOD))
    field: str | None = None  # the input a check failure must name
    writes: bool = False  # whether the API may have been written to (input and credential cases: never)
    ok: bool = False  # the call must succeed (state tampering that counts as done)
    state_port: Any = None  # delete/update: the port the (tampered) state records


CASES = [
    # Resource inputs: check refuses them, naming the input and what it expects; create refuses
    # them too (in depth), with the same words.
    Case("app_id-empty", "check", {"appId": ""}, ("app_id", "app_<uuid>", "an empty string"), field="appId"),
    Case("app_id-wrong-prefix", "check", {"appId": f"orga_{UUID_PART}"}, ("app_id", "app_<uuid>", "orga_"), field="appId"),
    Case("app_id-a-name", "check", {"appId": "my-app"}, ("app_id", "app_<uuid>", "'my-app'"), field="appId"),
    Case("app_id-malformed-uuid", "check", {"appId": "app_1234-abcd"}, ("app_id", "app_<uuid>", "app_1234-abcd"), field="appId"),
    Case("app_id-upper-case", "check", {"appId": APP.upper()}, ("app_id", "app_<uuid>"), field="appId"),
    # Fails today in create (check is fine): a non-string appId trips pydantic's str type check before
    # check_app_id runs, so create reports "appId: Input should be a valid string" (inputs.py).
    Case("app_id-a-number", "check", {"appId": 42}, ("app_id", "app_<uuid>", "42"), field="appId"),
    Case("app_id-missing", "check", {"namespace": "default"}, ("app_id", "app_<uuid>"), field="appId"),
    Case("owner_id-empty", "check", {"appId": APP, "ownerId": ""}, ("owner_id", "orga_<uuid>", "user_<uuid>"), field="ownerId"),
    Case("owner_id-wrong-prefix", "check", {"appId": APP, "ownerId": APP}, ("owner_id", "orga_<uuid>", "leave owner_id out"), field="ownerId"),
    Case("owner_id-malformed", "check", {"appId": APP, "ownerId": "orga_acme"}, ("owner_id", "orga_<uuid>", "'orga_acme'"), field="ownerId"),
    Case("namespace-empty", "check", {"appId": APP, "namespace": ""}, ("namespace", "'default'", "an empty string"), field="namespace"),
    Case("namespace-upper-case", "check", {"appId": APP, "namespace": "Default"}, ("namespace", "lower-case", "did you mean 'default'"), field="namespace"),
    Case("namespace-spaced", "check", {"appId": APP, "namespace": "clever apps"}, ("namespace", "lower-case", "'clever apps'"), field="namespace"),
    Case("namespace-padded", "check", {"appId": APP, "namespace": " default "}, ("namespace", "did you mean 'default'"), field="namespace"),
    Case("host-with-scheme", "check", {"appId": APP, "host": "tcp://x.example.com"}, ("host", "no scheme", "tcp://x.example.com"), field="host"),
    Case("host-with-port", "check", {"appId": APP, "host": "x.example.com:5000"}, ("host", "no port"), field="host"),
    Case("adopt-a-string", "check", {"appId": APP, "adopt": "true"}, ("adopt", "expected true or false", "'true'"), field="adopt"),
    # Inputs only the API can judge: the message names what to check, and no write is left behind.
    Case("namespace-unknown", "create", {"appId": APP, "namespace": "nope"},
         ("'nope'", "its namespaces are: acme-dedicated, cleverapps, default"), writes=True),
    Case("app-of-another-owner", "create", {"appId": GLOBEX_APP},
         (GLOBEX_APP, "not among the applications these credentials can see", "app_id")),
    Case("app-of-another-owner-given-its-owner", "create", {"appId": GLOBEX_APP, "ownerId": OTHER_ORG_ID},
         ("HTTP 403", OTHER_ORG_ID, "no right on this owner")),
    Case("app-of-another-owner-given-ours", "create", {"appId": GLOBEX_APP, "ownerId": ORG_ID},
         ("HTTP 404", "doesn't belong to you", "Check app_id")),
    Case("app-unknown", "create", {"appId": UNKNOWN_APP}, (UNKNOWN_APP, "not among the applications")),
    Case("owner-unknown", "create", {"appId": APP, "ownerId": UNKNOWN_ORG}, ("HTTP 404", UNKNOWN_ORG, "Check owner_id")),
    Case("owner-is-the-user-not-the-org", "create", {"appId": APP, "ownerId": USER_ID}, ("HTTP 404", "Check app_id")),
    # Credentials and endpoint: what is missing or wrong, and where to set it.
    Case("no-credentials", "configure", {"appId": APP}, ("No Clever Cloud credentials found", "clevercloud:token", "CLEVER_TOKEN", "clever login"),
         config={"clevercloud:endpoint": EMULATOR}),
    Case("wrong-secret", "create", {"appId": APP}, ("HTTP 401", "clevercloud:token", "clevercloud:secret"),
         config={**GOOD, "clevercloud:secret": "not-the-secret"}),
    Case("wrong-api-token", "create", {"appId": APP}, ("HTTP 401", "Check clevercloud:apiToken."),
         config={"clevercloud:apiToken": "not-a-token", "clevercloud:endpoint": EMULATOR, "clevercloud-tcp:allowHttp": "true"}),
    Case("token-without-secret", "configure", {"appId": APP}, ("clevercloud:token is set but clevercloud:secret is not", "CLEVER_SECRET"),
         config={"clevercloud:token": TOKEN, "clevercloud:endpoint": EMULATOR}),
    Case("secret-without-token", "configure", {"appId": APP}, ("clevercloud:secret is set but clevercloud:token is not",),
         config={"clevercloud:secret": SECRET, "clevercloud:endpoint": EMULATOR}),
    Case("api-token-and-half-an-oauth-pair", "configure", {"appId": APP}, ("clevercloud:token is set but clevercloud:secret is not",),
         config={"clevercloud:apiToken": "emulator-api-token", "clevercloud:token": TOKEN, "clevercloud:endpoint": EMULATOR}),
    Case("empty-api-token-and-half-an-oauth-pair", "configure", {"appId": APP}, ("clevercloud:secret is set but clevercloud:token is not",),
         config={"clevercloud:apiToken": "", "clevercloud:secret": SECRET, "clevercloud:endpoint": EMULATOR}),
    Case("endpoint-unreachable", "create", {"appId": APP}, ("cannot reach", "clevercloud:endpoint", "gave up after 2 attempt"),
         config={**GOOD, "clevercloud:endpoint": CLOSED, "clevercloud-tcp:retryAttempts": "2"}),
    Case("endpoint-not-http", "configure", {"appId": APP}, ("clevercloud:endpoint must be an http(s) URL", "'ftp://x'"),
         config={**GOOD, "clevercloud:endpoint": "ftp://x"}),
    Case("endpoint-without-scheme", "configure", {"appId": APP}, ("clevercloud:endpoint must be an http(s) URL", "api.clever-cloud.com"),
         config={**GOOD, "clevercloud:endpoint": "api.clever-cloud.com"}),
    Case("endpoint-answers-html", "create", {"appId": APP}, ("text/html", "not the Clever Cloud API", "clevercloud:endpoint"),
         config={**GOOD, "clevercloud:endpoint": HTML}),
    Case("endpoint-answers-html-404", "create", {"appId": APP}, ("HTTP 404", "text/html", "not the Clever Cloud API", "clevercloud:endpoint"),
         config={**GOOD, "clevercloud:endpoint": HTML_404}),
    Case("request-timeout-not-a-number", "configure", {"appId": APP}, ("clevercloud-tcp:requestTimeout", "number"),
         config={**GOOD, "clevercloud-tcp:requestTimeout": "abc"}),
    Case("retry-attempts-zero", "configure", {"appId": APP}, ("clevercloud-tcp:retryAttempts", "greater than or equal to 1"),
         config={**GOOD, "clevercloud-tcp:retryAttempts": "0"}),
    Case("endpoint-with-a-path", "configure", {"appId": APP}, ("clevercloud:endpoint is", "/v2", "base URL alone", "https://api.clever-cloud.com"),
         config={**GOOD, "clevercloud:endpoint": "https://api.clever-cloud.com/v2"}),
    # Typos of config keys: refused when the provider is configured, before any request.
    Case("config-typo-of-a-shared-key", "configure", {"appId": APP}, ("clevercloud:endpiont is not a setting", "did you mean clevercloud:endpoint?"),
         config={**GOOD, "clevercloud:endpiont": "https://api.example.com"}),
    Case("config-typo-of-an-option", "configure", {"appId": APP}, ("clevercloud-tcp:requestTimout", "did you mean clevercloud-tcp:requestTimeout?"),
         config={**GOOD, "clevercloud-tcp:requestTimout": "5"}),
    Case("config-organisation-spelled-british", "configure", {"appId": APP}, ("did you mean clevercloud:organization?",),
         config={**GOOD, "clevercloud:organisation": ORG_ID}),
    Case("config-endpoint-plain-http", "configure", {"appId": APP}, ("plain http", "unencrypted", "clevercloud-tcp:allowHttp", "CLEVERCLOUD_TCP_ALLOW_HTTP=true"),
         config={**NO_OPT_IN, "clevercloud:endpoint": "http://api.example.com"}),
    Case("config-endpoint-plain-http-to-this-machine", "configure", {"appId": APP}, ("clevercloud:endpoint is", "plain http", "this machine", "clevercloud-tcp:allowHttp"),
         config=NO_OPT_IN),
    Case("config-organization-dot-dot", "configure", {"appId": APP}, ("clevercloud:organization is '..'", "orga_<uuid>"),
         config={**GOOD, "clevercloud:organization": ".."}),
    Case("config-endpoint-with-a-password", "configure", {"appId": APP}, ("clevercloud:endpoint holds a user name or password", "remove it"),
         config={**GOOD, "clevercloud:endpoint": "https://ada:hunter2@api.example.com"}),
    # A damaged state: the port recorded for a redirection that does exist. Delete removes only the
    # port the state records, so an unreadable one is refused (nothing removed) and a stale one is
    # already gone (the redirection now there is someone else's: it stays).
    Case("delete-with-port-not-a-number", "delete", {"appId": APP}, ("port", "no valid port", "pulumi refresh"),
         state_port="abc"),
    Case("delete-with-port-out-of-range", "delete", {"appId": APP}, ("port", "no valid port", "pulumi refresh"),
         state_port=99999),
    Case("delete-with-no-port", "delete", {"appId": APP}, ("port", "no valid port", "pulumi refresh"), state_port=None),
    Case("delete-with-a-stale-port", "delete", {"appId": APP}, (), state_port=5000, ok=True, writes=True),
    Case("update-with-port-not-a-number", "update", {"appId": APP, "host": "db.example.com"},
         ("port", "no valid port", "pulumi refresh"), state_port="abc"),
    Case("update-with-port-out-of-range", "update", {"appId": APP, "host": "db.example.com"},
         ("port", "no valid port", "pulumi refresh"), state_port=99999),
]


@pytest.fixture(scope="module")
def html() -> Iterator[dict[str, str]]:
    with html_endpoint() as ok, html_endpoint(404) as not_found:
        yield {HTML: ok, HTML_404: not_found}


@pytest.fixture
def closed() -> str:
    return closed_endpoint()


@pytest.fixture
def bare(tmp_path: Path) -> dict[str, str]:
    return bare_env(tmp_path)


def _config(case: Case, emulator: EmulatorProcess, closed: str, html: dict[str, str]) -> dict[str, str]:
    fill = {EMULATOR: emulator.url, CLOSED: closed, **html}
    config = {}
    for key, value in case.config.items():
        for placeholder, actual in fill.items():
            value = value.replace(placeholder, actual)
        config[key] = value
    return config


def _held(emulator: EmulatorProcess) -> list[tuple[str, str, int]]:
    return [(r["app_id"], r["namespace"], r["port"]) for r in emulator.redirections()]


def _assert_says(message: str, expect: tuple[str, ...]) -> None:
    missing = [words for words in expect if words not in message]
    assert not missing, f"the message lacks {missing}: {message}"


def _state_with_port(outs: dict[str, Any], port: Any) -> dict[str, Any]:
    tampered = dict(outs)
    if port is None:
        tampered.pop("port", None)
    else:
        tampered["port"] = port
    return tampered


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 20
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(
    case: Case, emulator: EmulatorProcess, html: dict[str, str], closed: str, bare: dict[str, str]
) -> None:
    config = _config(case, emulator, closed, html)
    with ProviderHost(config, env=bare) as host:
        if case.call == "configure":
            # The engine's first check reports it (at `pulumi preview`), and nothing further goes on.
            [(prop, reason)] = host.check(case.inputs).failures
            assert prop == "" and len(reason.strip().splitlines()) == 1  # one line, no traceback
            _assert_says(reason, case.expect)
            with pytest.raises(grpc.RpcError) as refused:
                host.create(case.inputs)
            assert refused.value.details().strip().endswith(reason)
            assert emulator.log() == [], "a request went out before the settings were refused"
        elif case.call == "check":
            checked = host.check(case.inputs)
            # No property: the engine prints the reason alone, which names the field as Python spells it.
            reasons = {reason.split(": ", 1)[0]: reason for name, reason in checked.failures if not name}
            assert PYTHON_NAMES[case.field] in reasons, f"no failure for {case.field}: {checked.failures}"
            _assert_says(reasons[PYTHON_NAMES[case.field]], case.expect)
            # In depth: create refuses the same input in the same words, should it ever get it unchecked.
            with pytest.raises(grpc.RpcError) as refused:
                host.create(case.inputs)
            _assert_says(refused.value.details(), case.expect[:2])
        elif case.call == "create":
            checked = host.check(case.inputs)
            assert checked.failures == [], checked.failures
            with pytest.raises(grpc.RpcError) as refused:
                host.create(checked.inputs)
            details = refused.value.details()
            _assert_says(details, case.expect)
            assert "Traceback" not in details.strip().splitlines()[-1]  # the last line is the explanation
        else:
            id_, outs = host.apply({"appId": APP})
            emulator.clear_log()
            tampered = _state_with_port(outs, case.state_port)
            if case.call == "delete" and case.ok:
                host.delete(id_, tampered)
            elif case.call == "delete":
                with pytest.raises(grpc.RpcError) as refused:
                    host.delete(id_, tampered)
                _assert_says(refused.value.details(), case.expect)
            else:
                news = host.check(case.inputs).inputs
                with pytest.raises(grpc.RpcError) as refused:
                    host.update(id_, tampered, news)
                _assert_says(refused.value.details(), case.expect)
    if case.call in ("update", "delete"):
        assert len(_held(emulator)) == 1  # a refused call, or a delete of a stale port, touched nothing
    else:
        assert _held(emulator) == []
    if not case.writes:
        assert emulator.writes() == [], emulator.writes()


@pytest.mark.parametrize("owner", ["..", "../../v2/applications", f"orga_{UUID_PART}/.."])
@pytest.mark.parametrize("call", ["delete", "update"])
def test_an_owner_the_state_records_is_checked_before_it_enters_a_url_path(
    call: str, owner: str, emulator: EmulatorProcess, bare: dict[str, str]
) -> None:
    with ProviderHost({**GOOD, "clevercloud:endpoint": emulator.url}, env=bare) as host:
        id_, outs = host.apply({"appId": APP})
        emulator.clear_log()
        tampered = {**outs, "ownerId": owner}
        with pytest.raises(grpc.RpcError) as refused:
            if call == "delete":
                host.delete(id_, tampered)
            else:
                host.update(id_, tampered, host.check({"appId": APP, "host": "db.example.com"}).inputs)
        _assert_says(refused.value.details(), ("owner_id", repr(owner)))
        assert emulator.log() == [], "a request went out with the recorded owner"
        # `pulumi refresh` finds the owner again, and the state heals.
        _, refreshed, _ = host.read(id_, tampered)
    assert refreshed["ownerId"] == outs["ownerId"]
    assert len(_held(emulator)) == 1
# How the programs of each face write the inputs an error names: Python for the dynamic face; the
# plugin's programs are TypeScript, Go and YAML as much as Python, and the schema's names are theirs.
SPELLED = {"dynamic": ("ownerId", "owner_id", "appId", "app_id"), "plugin": ("owner_id", "ownerId", "app_id", "appId")}


@pytest.mark.parametrize("face", HOST_FACES)
def test_errors_after_check_name_inputs_as_the_faces_programs_write_them(face: str, emulator: EmulatorProcess) -> None:
    other_owner, owner, other_app, app = SPELLED[face]
    with provider_host(face, emulator) as host:
        id_, outputs = host.apply({"appId": APP})
        news = host.check({"appId": APP, "ownerId": USER_ID}).inputs
        with pytest.raises(grpc.RpcError) as wrong_owner:  # an owner change is checked with the API, at diff
            host.diff(id_, outputs, news)
        with pytest.raises(grpc.RpcError) as bad_id:  # an import's id
            host.read("not-an-id", {})
    assert f"{owner}: {USER_ID} is not an owner of application {APP}" in wrong_owner.value.details()
    assert f"id: expected <{app}>/<namespace>" in bad_id.value.details()
    for said in (wrong_owner.value.details(), bad_id.value.details()):
        assert other_owner not in said and other_app not in said, said
