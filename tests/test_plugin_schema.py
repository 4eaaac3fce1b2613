"""schema.json, the plugin's behaviour and the dynamic SDK's names agree.

The plugin is driven in-process through its provider class (the same object its gRPC server serves),
against a real emulator, so each answer is compared with what the schema promises.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue

from clevercloud_tcp.config import OPTION_NAMES, SETTING_NAMES
from clevercloud_tcp.core.inputs import INPUTS, OUTPUTS, PYTHON_NAMES
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.faces.plugin import TYPE, TcpRedirectionPlugin, schema_text
from clevercloud_tcp.faces.plugin.values import plain
from support import APP, OWNER, SECRET, TOKEN

T = TypeVar("T")
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
RESOURCE = SCHEMA["resources"][TYPE]
URN = f"urn:pulumi:dev::p::{TYPE}::r"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Awaits one of the plugin's methods on a private loop: asyncio.run would leave the main thread with
    no current event loop, which later tests (pulumi's mocks) expect to find."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def wire(props: dict[str, Any]) -> dict[str, PropertyValue]:
    return {k: PropertyValue(float(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in props.items()}


@pytest.fixture
def plugin(emulator: EmulatorProcess) -> TcpRedirectionPlugin:
    provider = TcpRedirectionPlugin()
    args = {"endpoint": emulator.url, "token": TOKEN, "secret": SECRET}
    run(provider.configure(p.ConfigureRequest({}, wire(args), True, False)))
    return provider


def test_get_schema_serves_the_repository_schema_byte_for_byte() -> None:
    served = run(TcpRedirectionPlugin().get_schema(p.GetSchemaRequest(0))).schema
    assert served == schema_text() == SCHEMA_FILE.read_text()


def test_create_answers_exactly_the_schema_outputs(plugin: TcpRedirectionPlugin) -> None:
    checked = run(plugin.check(p.CheckRequest(URN, {}, wire({"appId": APP}), b"")))
    assert not checked.failures
    created = run(plugin.create(p.CreateRequest(URN, checked.inputs or {}, 60, False)))
    outputs = plain(created.properties)

    assert set(outputs) == set(RESOURCE["properties"]) == set(OUTPUTS)
    assert all(outputs[name] is not None for name in RESOURCE["required"])
    assert created.resource_id == f"{APP}/default"


def test_preview_marks_exactly_what_only_the_api_knows_as_unknown(plugin: TcpRedirectionPlugin, emulator: EmulatorProcess) -> None:
    created = run(plugin.create(p.CreateRequest(URN, wire({"appId": APP, "namespace": "cleverapps", "adopt": False}), 60, True)))
    outputs = plain(created.properties)
    unknown = {name for name, value in outputs.items() if repr(value) == "UNKNOWN"}
    assert set(outputs) == set(RESOURCE["properties"])
    assert unknown == {"ownerId", "host", "port", "url", "adopted"}
    assert emulator.log() == []


def test_check_takes_the_schema_inputs_and_names_them_in_failures(plugin: TcpRedirectionPlugin) -> None:
    assert set(INPUTS) == set(RESOURCE["inputProperties"])
    assert RESOURCE["requiredInputs"] == ["appId"]
    bad = {"appId": "my-app", "namespace": "Not OK", "ownerId": "acme", "host": "db.example.com/x", "adopt": "yes"}
    checked = run(plugin.check(p.CheckRequest(URN, {}, wire(bad), b"")))
    failures = {f.property: f.reason for f in checked.failures or []}
    assert set(failures) == set(RESOURCE["inputProperties"])
    assert not [reason for name, reason in failures.items() if reason.startswith(f"{name}:")], "the engine prints the name already"
    for name, spec in RESOURCE["inputProperties"].items():
        if "default" in spec:
            assert plain(run(plugin.check(p.CheckRequest(URN, {}, wire({"appId": APP}), b""))).inputs or {})[name] == spec["default"]


def test_functions_answer_the_schema_outputs(plugin: TcpRedirectionPlugin) -> None:
    for token, args in (
        ("clevercloud-tcp:index:getNamespaces", {"appId": APP}),
        ("clevercloud-tcp:index:getTcpRedirections", {"appId": APP}),
    ):
        spec = SCHEMA["functions"][token]
        assert set(args) <= set(spec["inputs"]["properties"])
        answer = run(plugin.invoke(p.InvokeRequest(token, wire(args))))
        assert not answer.failures, [f.reason for f in answer.failures]
        assert set(plain(answer.return_value or {})) == set(spec["outputs"]["properties"]), token


def test_config_variables_are_the_ones_check_config_accepts(plugin: TcpRedirectionPlugin) -> None:
    variables = SCHEMA["config"]["variables"]
    assert set(variables) == set(SETTING_NAMES.values()) | set(OPTION_NAMES)
    of_their_type = {"string": "x", "number": 5.0, "integer": 3.0, "boolean": False}
    values = {n: of_their_type[v["type"]] for n, v in variables.items()} | {"endpoint": "https://api.clever-cloud.com", "organization": OWNER}
    accepted = run(plugin.check_config(p.CheckRequest("", {}, wire(values), b"")))
    assert not accepted.failures, [f.reason for f in accepted.failures or []]
    refused = run(plugin.check_config(p.CheckRequest("", {}, wire({**values, "endpiont": "x", "requestTimout": "1"}), b"")))
    reasons = sorted(f.reason for f in refused.failures or [])
    assert reasons == [
        "clevercloud-tcp:endpiont is not a setting of this provider; did you mean clevercloud-tcp:endpoint?",
        "clevercloud-tcp:requestTimout is not a setting of this provider; did you mean clevercloud-tcp:requestTimeout?",
    ]
    assert {n for n, v in variables.items() if v.get("secret")} == {"token", "secret", "apiToken", "consumerSecret"}


def test_the_dynamic_sdk_names_every_schema_property() -> None:
    assert set(PYTHON_NAMES) == set(RESOURCE["properties"]) | set(RESOURCE["inputProperties"])


def test_functions_refuse_a_bad_id_naming_the_schema_input_before_any_request(plugin: TcpRedirectionPlugin, emulator: EmulatorProcess) -> None:
    for token, args, prop in (
        ("clevercloud-tcp:index:getTcpRedirections", {"appId": "my-app"}, "appId"),
        ("clevercloud-tcp:index:getNamespaces", {"ownerId": "acme"}, "ownerId"),
    ):
        answer = run(plugin.invoke(p.InvokeRequest(token, wire(args))))
        assert [f.property for f in answer.failures] == [prop]
        assert answer.failures[0].reason.startswith(f"{prop}: expected")
    assert emulator.log() == []


@pytest.mark.parametrize(
    ("urn", "named", "how"),
    [
        ("urn:pulumi:dev::p::pulumi:providers:clevercloud-tcp::default", "clevercloud-tcp:token", "pulumi config set --secret clevercloud-tcp:token"),
        ("urn:pulumi:dev::p::pulumi:providers:clevercloud-tcp::eu", "token of provider eu", "pass it as a secret"),
    ],
    ids=["stack-config", "explicit-provider"],
)
def test_credentials_given_in_clear_are_made_secret_with_a_warning_saying_how(
    urn: str, named: str, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    given = {"endpoint": PropertyValue("https://api.clever-cloud.com"), "token": PropertyValue(TOKEN), "secret": PropertyValue(SECRET, is_secret=True)}
    checked = run(TcpRedirectionPlugin().check_config(p.CheckRequest(urn, {}, given, b"")))
    assert not checked.failures
    assert checked.inputs is not None
    assert {k for k, v in checked.inputs.items() if v.contains_secret()} == {"token", "secret"}
    assert plain(checked.inputs) == {"endpoint": "https://api.clever-cloud.com", "token": TOKEN, "secret": SECRET}
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]  # the secret one is not named
    assert warning.startswith(f"{named} was given in clear") and how in warning
    assert TOKEN not in warning
