"""Every configuration message, through both faces, names the key the user must set, as that face reads it.

The engine hands the plugin its own namespace only (`clevercloud-tcp:*`): its messages never send a user
to a `clevercloud:*` key. The dynamic provider reads both namespaces: its messages name the key where a
value was found, or both when nothing was. A value from the environment is named by its variable.

A mistake that shows without the API is refused at `pulumi preview`, before any request: by the plugin's
CheckConfig, and by the dynamic provider's first check. The others are refused by the first API call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import grpc
import pytest

from clevercloud_tcp.config import ALLOW_HTTP
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.testing.harness import ProviderHost, StartupError
from clevercloud_tcp.testing.plugin_harness import PluginHost
from support import APP, SECRET, TOKEN, bare_env, closed_endpoint, html_endpoint

Stage = Literal["preview", "create"]
UNKNOWN_ORG = "orga_99999999-9999-4999-8999-999999999999"
EMULATOR, CLOSED, HTML = "<emulator>", "<closed>", "<html>"


@dataclass(frozen=True)
class Case:
    """One mistake: the settings by name (`token`, `endpoint`…) and where each lives, per face."""

    name: str
    settings: dict[str, str]  # name -> value, set in the face's own namespace
    plugin_says: tuple[str, ...]
    dynamic_says: tuple[str, ...]
    shared: dict[str, str] = field(default_factory=dict)  # for the dynamic face: in `clevercloud:*` instead
    # The endpoints here are the test's own, on 127.0.0.1: plain http opted into, in the environment.
    env: dict[str, str] = field(default_factory=lambda: {ALLOW_HTTP: "true"})
    inputs: dict[str, Any] = field(default_factory=lambda: {"appId": APP})
    at: Stage = "preview"  # where it is refused
    dynamic_at: Stage | None = None  # where the dynamic face refuses it, when that differs


GOOD = {"token": TOKEN, "secret": SECRET, "endpoint": EMULATOR}
CASES = [
    Case("no credentials", {"endpoint": EMULATOR},
         plugin_says=("set clevercloud-tcp:token and clevercloud-tcp:secret", "CLEVER_TOKEN", "clever login",
                      "clevercloud:* keys do not reach this plugin"),
         dynamic_says=("set clevercloud-tcp:token and clevercloud-tcp:secret", "clevercloud:token", "CLEVER_TOKEN")),
    Case("half a pair in the face's namespace", {"token": TOKEN, "endpoint": EMULATOR},
         plugin_says=("clevercloud-tcp:token is set but clevercloud-tcp:secret is not (nor CLEVER_SECRET)",),
         dynamic_says=("clevercloud-tcp:token is set but clevercloud-tcp:secret is not (nor CLEVER_SECRET)",)),
    Case("half a pair in pulumi-clevercloud's namespace", {"endpoint": EMULATOR}, shared={"secret": SECRET},
         plugin_says=("set clevercloud-tcp:token and clevercloud-tcp:secret", "do not reach this plugin"),
         dynamic_says=("clevercloud:secret is set but clevercloud:token is not (nor CLEVER_TOKEN)",)),
    Case("half a pair in the environment", {"endpoint": EMULATOR}, env={"CLEVER_TOKEN": TOKEN, ALLOW_HTTP: "true"},
         plugin_says=("CLEVER_TOKEN is set but clevercloud-tcp:secret is not (nor CLEVER_SECRET)",),
         dynamic_says=("CLEVER_TOKEN is set but clevercloud-tcp:secret is not (nor CLEVER_SECRET)",)),
    Case("a wrong secret in config", {**GOOD, "secret": "not-the-secret"},
         plugin_says=("HTTP 401", "Check clevercloud-tcp:token and clevercloud-tcp:secret."),
         dynamic_says=("HTTP 401", "Check clevercloud-tcp:token and clevercloud-tcp:secret."), at="create"),
    Case("a wrong secret in pulumi-clevercloud's keys", {"endpoint": EMULATOR}, shared={"token": TOKEN, "secret": "nope"},
         plugin_says=("set clevercloud-tcp:token and clevercloud-tcp:secret", "do not reach this plugin"),
         dynamic_says=("HTTP 401", "Check clevercloud:token and clevercloud:secret."), dynamic_at="create"),
    Case("a wrong pair in the environment", {"endpoint": EMULATOR}, env={"CLEVER_TOKEN": TOKEN, "CLEVER_SECRET": "nope", ALLOW_HTTP: "true"},
         plugin_says=("HTTP 401", "Check CLEVER_TOKEN and CLEVER_SECRET."),
         dynamic_says=("HTTP 401", "Check CLEVER_TOKEN and CLEVER_SECRET."), at="create"),
    Case("a wrong API token", {"apiToken": "not-a-token", "endpoint": EMULATOR},
         plugin_says=("HTTP 401", "Check clevercloud-tcp:apiToken."),
         dynamic_says=("HTTP 401", "Check clevercloud-tcp:apiToken."), at="create"),
    Case("an endpoint that is no URL", {**GOOD, "endpoint": "ftp://example.com"},
         plugin_says=("clevercloud-tcp:endpoint must be an http(s) URL",),
         dynamic_says=("clevercloud-tcp:endpoint must be an http(s) URL",)),
    Case("an endpoint in pulumi-clevercloud's key in clear http", {},
         shared={"token": TOKEN, "secret": SECRET, "endpoint": "http://api.example.com"}, env={},
         plugin_says=("set clevercloud-tcp:token and clevercloud-tcp:secret",),
         dynamic_says=("clevercloud:endpoint is 'http://api.example.com': plain http",)),
    Case("plain http to this machine without the opt-in", GOOD, env={},
         plugin_says=("clevercloud-tcp:endpoint is 'http://127.0.0.1:", "plain http", "clevercloud-tcp:allowHttp set to true", "CLEVERCLOUD_TCP_ALLOW_HTTP=true"),
         dynamic_says=("clevercloud-tcp:endpoint is 'http://127.0.0.1:", "plain http", "clevercloud-tcp:allowHttp set to true", "CLEVERCLOUD_TCP_ALLOW_HTTP=true")),
    Case("an endpoint in the environment that is no URL", {"token": TOKEN, "secret": SECRET}, env={"API_HOST": "nope", ALLOW_HTTP: "true"},
         plugin_says=("API_HOST must be an http(s) URL",),
         dynamic_says=("API_HOST must be an http(s) URL",)),
    Case("an endpoint nothing listens on", {**GOOD, "endpoint": CLOSED},
         plugin_says=("cannot reach", "check clevercloud-tcp:endpoint and the network"),
         dynamic_says=("cannot reach", "check clevercloud-tcp:endpoint and the network"), at="create"),
    Case("an endpoint that is not the API", {**GOOD, "endpoint": HTML},
         plugin_says=("not the Clever Cloud API", "check clevercloud-tcp:endpoint"),
         dynamic_says=("not the Clever Cloud API", "check clevercloud-tcp:endpoint"), at="create"),
    Case("a default organization that does not exist", {**GOOD, "organization": UNKNOWN_ORG},
         plugin_says=("HTTP 404", "or clevercloud-tcp:organization when ownerId is left out"),
         dynamic_says=("HTTP 404", "or clevercloud-tcp:organization (or clevercloud:organization) when owner_id"), at="create"),
    Case("a request timeout that is no duration", {**GOOD, "requestTimeout": "-1"},
         plugin_says=("clevercloud-tcp:requestTimeout",),
         dynamic_says=("clevercloud-tcp:requestTimeout",)),
]  # fmt: skip


@pytest.fixture(scope="module")
def endpoints(shared_emulator: EmulatorProcess) -> Iterator[dict[str, str]]:
    with html_endpoint() as html:
        yield {EMULATOR: shared_emulator.url, CLOSED: closed_endpoint(), HTML: html}


def _filled(values: dict[str, str], endpoints: dict[str, str]) -> dict[str, str]:
    return {k: endpoints.get(v, v) for k, v in values.items()}


def _refused_at_create(host: ProviderHost, inputs: dict[str, Any]) -> str:
    checked = host.check(inputs)
    assert checked.failures == []
    with pytest.raises(grpc.RpcError) as refused:
        host.create(checked.inputs)
    return str(refused.value.details())


def _assert_says(message: str, words: tuple[str, ...]) -> None:
    missing = [w for w in words if w not in message]
    assert not missing, f"the message lacks {missing}: {message}"
    assert len(message.strip().splitlines()) == 1, f"not one line: {message}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_plugin_names_only_keys_it_can_read(case: Case, endpoints: dict[str, str], emulator: EmulatorProcess, tmp_path: Path) -> None:
    # The engine would hand `clevercloud:*` keys to nobody: the plugin never sees them.
    settings, env = _filled(case.settings, endpoints), bare_env(tmp_path, **case.env)
    with PluginHost(settings, env=env, configure=False) as unconfigured:
        reasons = unconfigured.check_config(settings)
    if case.at == "preview":
        assert len(reasons) == 1, reasons
        message = reasons[0]
        with pytest.raises(StartupError) as configure:  # and Configure, should it come without CheckConfig
            PluginHost(settings, env=env).__enter__()
        assert message in str(configure.value)
        assert emulator.log() == [], "a request went out before the settings were refused"
    else:
        assert reasons == []
        with PluginHost(settings, env=env) as host:
            message = _refused_at_create(host, case.inputs)
    _assert_says(message, case.plugin_says)
    for shared_key in ("clevercloud:token", "clevercloud:secret", "clevercloud:apiToken", "clevercloud:endpoint", "clevercloud:organization"):
        assert shared_key not in message, f"the plugin sends the user to {shared_key}, which it cannot read: {message}"
    assert emulator.writes() == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_dynamic_provider_names_the_key_where_the_value_was(
    case: Case, endpoints: dict[str, str], emulator: EmulatorProcess, tmp_path: Path
) -> None:
    config = {f"clevercloud-tcp:{k}": v for k, v in _filled(case.settings, endpoints).items()}
    config |= {f"clevercloud:{k}": v for k, v in _filled(case.shared, endpoints).items()}
    with ProviderHost(config, env=bare_env(tmp_path, **case.env)) as host:
        if (case.dynamic_at or case.at) == "preview":  # the provider is configured at the first check
            [(prop, message)] = host.check(case.inputs).failures
            assert emulator.log() == [], "a request went out before the settings were refused"
        else:
            message = _refused_at_create(host, case.inputs)
    _assert_says(message, case.dynamic_says)
    assert emulator.writes() == []


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"endpoint": EMULATOR}, ("No Clever Cloud credentials found: give provider eu token and secret (or apiToken)", "CLEVER_TOKEN")),
        ({"token": TOKEN, "endpoint": EMULATOR}, ("token of provider eu is set but secret of provider eu is not (nor CLEVER_SECRET)",)),
        ({**GOOD, "requestTimeout": "fast"}, ("requestTimeout of provider eu: ", "got 'fast'")),
        ({**GOOD, "endpoint": "https://api.clever-cloud.com/v2"}, ("endpoint of provider eu is 'https://api.clever-cloud.com/v2'", "base URL alone")),
        ({**GOOD, "endpiont": "https://api.clever-cloud.com"}, ("endpiont of provider eu is not a setting", "did you mean endpoint of provider eu?")),
    ],
    ids=["no credentials", "half a pair", "an option of the wrong kind", "an endpoint with a path", "a typo"],
)
def test_an_explicit_provider_names_its_arguments(
    settings: dict[str, str], says: tuple[str, ...], endpoints: dict[str, str], emulator: EmulatorProcess, tmp_path: Path
) -> None:
    filled = _filled(settings, endpoints)
    with PluginHost(filled, env=bare_env(tmp_path, **{ALLOW_HTTP: "true"}), provider="eu", configure=False) as unconfigured:
        [message] = unconfigured.check_config(filled)
    _assert_says(message, says)
    assert "clevercloud-tcp:" not in message, "an explicit provider reads no stack config"
    assert emulator.log() == []
