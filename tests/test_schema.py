"""schema.json is the one description: the dynamic SDK and the provider must agree with it (the docs: test_docs.py)."""

from __future__ import annotations

import dataclasses
import inspect
import json
import types
import typing
from pathlib import Path
from typing import Any

import pulumi
import pytest

import clevercloud_tcp.dynamic as sdk
from clevercloud_tcp.config import OPTION_KEYS, SETTING_NAMES
from clevercloud_tcp.core.inputs import DEFAULT_NAMESPACE, INPUTS, OUTPUTS, PYTHON_NAMES, TcpRedirectionInputs

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schema.json").read_text())
RESOURCE = SCHEMA["resources"]["clevercloud-tcp:index:TcpRedirection"]
SCALARS = {str: "string", bool: "boolean", int: "integer", float: "number"}


def hints_of(obj: Any) -> dict[str, Any]:
    # pulumi.Input refers to Output by a forward reference: resolve it in pulumi's namespace.
    return typing.get_type_hints(obj, localns={**vars(typing), **vars(pulumi)})


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def schema_type(hint: Any) -> tuple[str, bool]:
    """(schema type, optional) of a Python annotation: Input/Output/Optional unwrapped."""
    optional = False
    while True:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            non_none = [a for a in args if a is not type(None)]
            optional = optional or len(non_none) < len(args)
            # pulumi.Input[T] is Union[T, Awaitable[T], Output[T]]: T comes first.
            hint = non_none[0]
        elif origin is pulumi.Output:
            hint = args[0]
        elif origin is list:
            return "array", optional
        else:
            return SCALARS.get(hint, getattr(hint, "__name__", str(hint))), optional


def test_resource_inputs_match_the_args_class() -> None:
    hints = hints_of(sdk.TcpRedirectionArgs.__init__)
    params = inspect.signature(sdk.TcpRedirectionArgs.__init__).parameters
    sdk_inputs = {camel(name): schema_type(hints[name]) for name in params if name != "self"}

    assert set(sdk_inputs) == set(RESOURCE["inputProperties"]) == set(INPUTS)
    for name, (kind, optional) in sdk_inputs.items():
        assert kind == RESOURCE["inputProperties"][name]["type"], name
        assert optional == (name not in RESOURCE["requiredInputs"]), name
        assert RESOURCE["inputProperties"][name]["description"], name


def test_resource_outputs_match_the_resource_class() -> None:
    hints = hints_of(sdk.TcpRedirection)
    outputs = {camel(name): schema_type(hint) for name, hint in hints.items() if typing.get_origin(hint) is pulumi.Output}

    assert set(outputs) == set(RESOURCE["properties"]) == set(OUTPUTS)
    for name, (kind, optional) in outputs.items():
        assert kind == RESOURCE["properties"][name]["type"], name
        assert optional == (name not in RESOURCE["required"]), name


def test_property_names_translate_both_ways() -> None:
    resource_props = {**RESOURCE["inputProperties"], **RESOURCE["properties"]}
    assert set(PYTHON_NAMES) == set(resource_props)
    for wire_name, python_name in PYTHON_NAMES.items():
        assert camel(python_name) == wire_name


def test_defaults_match_the_provider() -> None:
    props = RESOURCE["inputProperties"]
    assert props["namespace"]["default"] == DEFAULT_NAMESPACE
    assert props["adopt"]["default"] is TcpRedirectionInputs.model_fields["adopt"].default


@pytest.mark.parametrize(
    ("token", "function", "result"),
    [
        ("clevercloud-tcp:index:getNamespaces", sdk.get_namespaces, sdk.GetNamespacesResult),
        ("clevercloud-tcp:index:getTcpRedirections", sdk.get_tcp_redirections, sdk.GetTcpRedirectionsResult),
    ],
)
def test_functions_match(token: str, function: Any, result: type) -> None:
    spec = SCHEMA["functions"][token]
    params = inspect.signature(function).parameters
    hints = hints_of(function)
    assert {camel(p) for p in params} == set(spec["inputs"]["properties"])
    for name, param in params.items():
        required = param.default is inspect.Parameter.empty
        assert required == (camel(name) in spec["inputs"].get("required", [])), name
        assert schema_type(hints[name])[0] == spec["inputs"]["properties"][camel(name)]["type"]

    fields = {camel(f.name): f for f in dataclasses.fields(result)}
    assert set(fields) == set(spec["outputs"]["properties"]) == set(spec["outputs"]["required"])
    result_hints = hints_of(result)
    for name, field in fields.items():
        assert schema_type(result_hints[field.name])[0] == spec["outputs"]["properties"][name]["type"], name


def test_redirection_info_type_matches() -> None:
    spec = SCHEMA["types"]["clevercloud-tcp:index:TcpRedirectionInfo"]
    hints = hints_of(sdk.TcpRedirectionInfo)
    assert {camel(f): schema_type(h)[0] for f, h in hints.items()} == {
        name: prop["type"] for name, prop in spec["properties"].items()
    }


def test_config_variables_are_the_ones_the_provider_reads() -> None:
    variables = set(SCHEMA["config"]["variables"])
    read = set(SETTING_NAMES.values()) | {key.split(":", 1)[1] for key in OPTION_KEYS}
    assert variables == read
    for name in ("token", "secret", "apiToken", "consumerSecret"):
        assert SCHEMA["config"]["variables"][name]["secret"] is True
