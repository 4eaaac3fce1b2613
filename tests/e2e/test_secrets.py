"""Credentials leak nowhere: state, engine logs, provider logs, error messages, reprs, the API's request log.

Unique strings are planted as the credentials of a custom fixture, then looked for everywhere a run
leaves text: the exported state (`__provider` included), the engine's output at the highest
verbosity (stdout and stderr), the log files the engine writes (PULUMI_HOME and its temp dir, both
inside the test's own directory), the error of a failing run, Python-level reprs and tracebacks of
the package's objects and errors, and the emulator's request log. Both kinds of credentials are
covered: an OAuth token pair and an API token (Bearer).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto
from pydantic import SecretStr

from clevercloud_tcp import (
    ApiTokenCredentials,
    CleverCloudClient,
    CleverCloudError,
    OAuthCredentials,
    RetryPolicy,
    resolve_settings,
)
from clevercloud_tcp.api.auth import CredentialsAuth
from clevercloud_tcp.config import DYNAMIC_KEYS
from clevercloud_tcp.core.session import Deployment
from clevercloud_tcp.emulator import Fixture
from clevercloud_tcp.emulator.fixture import App, NamespaceSpec, Owner, TokenPair, User
from clevercloud_tcp.emulator.process import EmulatorProcess
from faces import DYNAMIC, FACES, Face
from support import StackFactory, plain_export

TOKEN = "tok-PLANTED-7f3a"
SECRET = "sec-PLANTED-91bc"
API_TOKEN = "api-PLANTED-c0de"
WRONG_SECRET = "sec-WRONG-5e11"
WRONG_API_TOKEN = "api-WRONG-d00d"
PLANTED = (TOKEN, SECRET, API_TOKEN)
EVERY_SECRET = (*PLANTED, WRONG_SECRET, WRONG_API_TOKEN)

ORG = "orga_0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
USER = "user_0a1b2c3d-4e5f-4a6b-8c7d-000000000001"
APP = "app_0a1b2c3d-4e5f-4a6b-8c7d-000000000002"

PLANTED_FIXTURE = Fixture(
    users=[
        User(
            id=USER,
            name="planted",
            oauth=[TokenPair(token=TOKEN, secret=SECRET)],
            api_tokens=[API_TOKEN],
            organisations=[ORG],
        )
    ],
    organisations=[Owner(id=ORG, name="Planted", applications=[App(id=APP, name="db", vhosts=["db.planted.example"])])],
    namespaces=[NamespaceSpec(name="default"), NamespaceSpec(name="cleverapps")],
)
OAUTH_SECRETS = {"clevercloud:token": TOKEN, "clevercloud:secret": SECRET}
API_TOKEN_SECRETS = {"clevercloud:apiToken": API_TOKEN}



@pytest.fixture
def fixture_data() -> Fixture:
    return PLANTED_FIXTURE


def program_of(face: Face) -> Callable[[], None]:
    def program() -> None:
        redirection = face.redirection("db", app_id=APP, namespace="default")
        pulumi.export("port", redirection.port)
        pulumi.export("url", redirection.url)

    return program


class Transcript:
    """Every line the engine printed, on stdout and stderr."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def verbose(transcript: Transcript, *, to_stderr: bool = True) -> dict[str, Any]:
    """The loudest the engine can be; without `to_stderr` it writes its log files instead."""
    return {
        "color": "never",
        "log_verbosity": 9,
        "log_to_std_err": to_stderr,
        "debug": True,
        "log_flow": True,
        "on_output": transcript,
        "on_error": transcript,
    }


def leaks(text: str, secrets: Iterable[str] = EVERY_SECRET) -> list[str]:
    return [s for s in secrets if s in text]


def make_planted_stack(
    make_stack: StackFactory,
    tmp_path: Path,
    secrets: dict[str, str],
    env: dict[str, str],
    endpoint: str,
    face: Face = DYNAMIC,
) -> auto.Stack:
    # The engine and every process it starts write their temporary files (glog's log files included)
    # inside the test's directory, so that all of them can be searched.
    temp = tmp_path / "engine-tmp"
    temp.mkdir(exist_ok=True)
    return make_stack(
        program_of(face),
        config=face.keys({"clevercloud:endpoint": endpoint}),
        secrets=face.keys(secrets),
        env={"TMPDIR": str(temp), "TMP": str(temp), "TEMP": str(temp), **env},
    )


# The one place a credential given as stack config does show: the engine itself, at -v=9, logs every
# property it marshals for a provider RPC, the decrypted config sent to Configure included
# (pulumi/pulumi sdk/go/common/resource/plugin/rpc.go, MarshalProperties: `logging.V(9).Infof(
# "Marshaling property for RPC[%s]: %s=%v", ...)`), and for a plugin the config it sends to and gets
# back from CheckConfig too. That is upstream code, which this project cannot change; credentials from
# the environment never cross those RPCs (see the `*-env` cases).
ENGINE_CONFIGURE_LOG = re.compile(
    r"[Mm]arshaling property for RPC\[Provider\[[\w-]+(, 0x[0-9a-f]+)?\]\.(Configure|CheckConfig)\([^)]*\)\.(inputs|news|olds)\]"
)


def leaking_lines(lines: Iterable[str], *, config_secrets: bool) -> list[str]:
    """Lines that show a credential, but for the engine's own Configure logging when `config_secrets`."""
    return [
        line for line in lines if leaks(line) and not (config_secrets and ENGINE_CONFIGURE_LOG.search(line))
    ]


def assert_nothing_leaked(
    stack: auto.Stack,
    transcript: Transcript,
    emu: EmulatorProcess,
    tmp_path: Path,
    pulumi_cli: Path,
    *,
    config_secrets: bool,
) -> None:
    # The state as stored and exported: no credential at all; config secrets stay ciphertext.
    plain = plain_export(pulumi_cli, tmp_path / "pulumi")
    assert not leaks(plain), f"`pulumi stack export` shows {leaks(plain)}"
    for resource in json.loads(plain)["deployment"].get("resources", []):
        if resource["type"] == DYNAMIC.type_token:
            assert "ciphertext" in resource["inputs"]["__provider"]  # a secret, as the engine stores it
        elif "TcpRedirection" in resource["type"]:
            assert "__provider" not in resource["inputs"]  # the plugin's state holds no provider object
    # The state decrypted (export_stack passes --show-secrets): the resources, the pickled provider
    # included, hold no credential; only the engine's record of the stack config (the default
    # provider's inputs) holds the ones given as secret config, which the plain export showed encrypted.
    for resource in stack.export_stack().deployment.get("resources", []):
        if resource["type"].startswith("pulumi:providers:") and config_secrets:
            # The default provider's inputs are the stack config (keys bare for the plugin's own namespace).
            allowed = {name for key in (*OAUTH_SECRETS, *API_TOKEN_SECRETS) for name in (key, key.partition(":")[2])}
            for key in ("inputs", "outputs"):
                shown = {k for k, v in resource.get(key, {}).items() if leaks(json.dumps(v))}
                assert shown <= allowed, shown
            continue
        assert not leaks(json.dumps(resource)), (resource["type"], leaks(json.dumps(resource)))
        pickled = resource.get("inputs", {}).get("__provider")
        if isinstance(pickled, dict):  # a secret, shown: {<sig>: ..., "plaintext": "<JSON string>"}
            pickled = json.loads(pickled["plaintext"])
        if pickled:
            assert not leaks(base64.b64decode(pickled).decode("latin-1")), "the pickled provider holds a credential"
    # What the engine printed (its logs at -v=9 and debug, the provider's stderr), and every file the
    # run wrote under the test's directory: the backend, PULUMI_HOME (logs/), the engine's temp dir.
    assert not (shown := leaking_lines(transcript.lines, config_secrets=config_secrets)), shown[:3]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
            assert not (shown := leaking_lines(lines, config_secrets=config_secrets)), (str(path), shown[:3])
    assert not leaks(json.dumps(emu.log())), "the emulator's request log holds a credential"


def assert_verbose(transcript: Transcript, emu: EmulatorProcess) -> None:
    """The transcript really is the engine at high verbosity, config values sent to the provider included.

    So a credential that went the same way would have been seen: the search is not vacuous.
    """
    text = transcript.text
    assert len(transcript.lines) > 200, len(transcript.lines)
    assert "Configure" in text, "no trace of the provider's Configure in the logs"
    assert emu.url in text, "the (plain) endpoint config does not show in the logs"


def engine_log_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "engine-tmp").rglob("*") if p.is_file() and "pulumi" in p.name]


CASES = {
    "oauth-config": ({**OAUTH_SECRETS}, {}),
    "api-token-config": ({**API_TOKEN_SECRETS}, {}),
    "oauth-env": ({}, {"CLEVER_TOKEN": TOKEN, "CLEVER_SECRET": SECRET}),
    "api-token-env": ({}, {"CLEVER_API_TOKEN": API_TOKEN}),
}


@pytest.mark.parametrize("face", FACES, ids=[f.name for f in FACES])
@pytest.mark.parametrize("case", list(CASES))
def test_a_whole_life_cycle_at_full_verbosity_leaks_no_credential(
    case: str, face: Face, make_stack: StackFactory, e2e_emulator: EmulatorProcess, tmp_path: Path, pulumi_cli: Path
) -> None:
    secrets, env = CASES[case]
    stack = make_planted_stack(make_stack, tmp_path, secrets, env, e2e_emulator.url, face)
    secrets = face.keys(secrets)
    assert all(value.secret for key, value in stack.get_all_config().items() if key in secrets)
    transcript = Transcript()

    up = stack.up(**verbose(transcript))
    assert up.summary.result == "succeeded"
    assert len(e2e_emulator.redirections()) == 1  # the credentials were used, and they worked
    assert_verbose(transcript, e2e_emulator)
    # Logs to files this time (glog writes them into the engine's temp dir).
    stack.refresh(**verbose(transcript, to_stderr=False))
    assert engine_log_files(tmp_path), "the engine wrote no log file to search"
    assert_nothing_leaked(stack, transcript, e2e_emulator, tmp_path, pulumi_cli, config_secrets=bool(secrets))

    stack.destroy(**verbose(transcript))
    assert e2e_emulator.redirections() == []
    assert_nothing_leaked(stack, transcript, e2e_emulator, tmp_path, pulumi_cli, config_secrets=bool(secrets))


@pytest.mark.parametrize(
    "secrets,wrong,fix",
    [
        ({"clevercloud:token": TOKEN, "clevercloud:secret": WRONG_SECRET}, WRONG_SECRET, "Check clevercloud:token and clevercloud:secret."),
        ({"clevercloud:apiToken": WRONG_API_TOKEN}, WRONG_API_TOKEN, "Check clevercloud:apiToken."),
    ],
    ids=["oauth-wrong-secret", "wrong-api-token"],
)
def test_a_refused_credential_fails_clearly_without_showing_it(
    secrets: dict[str, str],
    wrong: str,
    fix: str,
    make_stack: StackFactory,
    e2e_emulator: EmulatorProcess,
    tmp_path: Path,
    pulumi_cli: Path,
) -> None:
    stack = make_planted_stack(make_stack, tmp_path, secrets, {}, e2e_emulator.url)

    # As a user meets it: the error of a plain `up`.
    with pytest.raises(auto.errors.CommandError) as failure:
        stack.up(color="never", on_output=Transcript())
    message = str(failure.value)
    assert "HTTP 401" in message, message
    assert fix in message, message  # names the keys the refused credentials came from
    assert not leaks(message), f"the error shows {leaks(message)}"
    assert wrong not in message

    # At full verbosity: the error (which carries the whole transcript) and the logs.
    transcript = Transcript()
    with pytest.raises(auto.errors.CommandError) as loud:
        stack.up(**verbose(transcript))
    assert "HTTP 401" in str(loud.value)
    assert not (shown := leaking_lines(str(loud.value).splitlines(), config_secrets=True)), shown[:3]
    assert e2e_emulator.writes() == []
    assert any(e["status"] == 401 for e in e2e_emulator.log())  # the wrong credential did reach the API
    assert_nothing_leaked(stack, transcript, e2e_emulator, tmp_path, pulumi_cli, config_secrets=True)


def _everything_about(exc: BaseException) -> str:
    return "\n".join(
        [
            str(exc),
            repr(exc),
            repr(exc.args),
            repr(vars(exc)),
            "".join(traceback.format_exception(exc)),
        ]
    )


def test_python_objects_and_errors_never_show_a_credential(
    e2e_emulator: EmulatorProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx, httpcore and this package, at their most talkative
    quick = RetryPolicy(attempts=2, total_seconds=5, first_backoff=0.01, max_backoff=0.02)
    oauth = OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(SECRET))
    api = ApiTokenCredentials(api_token=SecretStr(API_TOKEN))
    local = {"clevercloud:endpoint": e2e_emulator.url, "clevercloud-tcp:allowHttp": "true"}  # the emulator: plain http
    settings = resolve_settings({**OAUTH_SECRETS, **local}, env={})
    api_settings = resolve_settings({**API_TOKEN_SECRETS, **local}, env={})
    session = Deployment(DYNAMIC_KEYS, env={}).session({**OAUTH_SECRETS, **local})
    shown: list[str] = []
    for value in (oauth, api, settings, api_settings, CredentialsAuth(oauth), session.settings, session.options):
        shown += [str(value), repr(value)]
    for model in (oauth, api, settings, api_settings):
        shown += [model.model_dump_json(), repr(model.model_dump())]

    errors: list[CleverCloudError] = []
    with CleverCloudClient(e2e_emulator.url, oauth, retry=quick) as good:
        shown += [repr(good), repr(good.transport)]
        good.add_tcp_redirection(ORG, APP, "default")
    with CleverCloudClient(e2e_emulator.url, api, retry=quick) as good_api:
        assert len(good_api.list_tcp_redirections(ORG, APP)) == 1
    bad_pair = OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(WRONG_SECRET))
    bad_api = ApiTokenCredentials(api_token=SecretStr(WRONG_API_TOKEN))
    for credentials in (bad_pair, bad_api):
        with CleverCloudClient(e2e_emulator.url, credentials, retry=quick) as bad:
            for call in (bad.summary, lambda: bad.add_tcp_redirection(ORG, APP, "cleverapps")):
                with pytest.raises(CleverCloudError) as refused:
                    call()
                errors.append(refused.value)
    # An unreachable endpoint (retried, then given up) and an endpoint that drops the connection.
    with CleverCloudClient("http://127.0.0.1:9", oauth, timeout=1, retry=quick) as nowhere:
        with pytest.raises(CleverCloudError) as unreachable:
            nowhere.list_tcp_redirections(ORG, APP)
        errors.append(unreachable.value)
    e2e_emulator.inject(method="GET", path="*", count=5, drop="before")
    with CleverCloudClient(e2e_emulator.url, api, retry=quick) as dropped:
        with pytest.raises(CleverCloudError) as lost:
            dropped.summary()
        errors.append(lost.value)
    e2e_emulator.clear_faults()
    # Half an OAuth pair: the message names the missing half, never the given one.
    for half in ({"clevercloud:token": TOKEN}, {"clevercloud:secret": SECRET}):
        with pytest.raises(CleverCloudError) as half_given:
            resolve_settings(half, env={})
        errors.append(half_given.value)

    assert {type(e).__name__ for e in errors} >= {"InvalidCredentials", "RetriesExhausted", "ConfigurationError"}
    assert any("HTTP 401" in str(e) for e in errors)
    for exc in errors:
        assert not leaks(_everything_about(exc)), (type(exc).__name__, leaks(_everything_about(exc)))
    for text in shown:
        assert not leaks(text), text
    assert caplog.records, "nothing was logged: the check below would prove nothing"
    assert not leaks(caplog.text), [r.getMessage() for r in caplog.records if leaks(r.getMessage())][:3]
    assert not leaks(json.dumps(e2e_emulator.log()))


def test_credentials_given_as_plain_stack_config_are_kept_secret_in_the_plugins_state(
    make_stack: StackFactory, e2e_emulator: EmulatorProcess, tmp_path: Path, pulumi_cli: Path
) -> None:
    plugin = FACES[1]
    stack = make_stack(program_of(plugin), config=plugin.keys({"clevercloud:endpoint": e2e_emulator.url, **OAUTH_SECRETS}), secrets={})
    assert not any(value.secret for value in stack.get_all_config().values())  # given in clear, by mistake

    assert stack.up(color="never").summary.result == "succeeded"

    # The default provider's inputs, the one place the state records the stack config, hold them encrypted.
    plain = plain_export(pulumi_cli, tmp_path / "pulumi")
    assert not leaks(plain), f"`pulumi stack export` shows {leaks(plain)}"
    [provider] = [r for r in json.loads(plain)["deployment"]["resources"] if r["type"].startswith("pulumi:providers:")]
    assert all("ciphertext" in provider["inputs"][name] for name in ("token", "secret")), provider["inputs"]
