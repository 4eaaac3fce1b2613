"""Pulumi's `PropertyValue` maps to the core's plain dicts, and back.

Secrets are unwrapped on the way in (the core never sees the marking) and re-applied on the way out
to outputs of the same name; numbers cross the protocol as floats; an unknown value is the core's
`UNKNOWN` inside and Pulumi's unknown sentinel on the wire.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime.rpc import UNKNOWN as WIRE_UNKNOWN

from ...core import resource


def _python_value(value: PropertyValue) -> Any:
    inner = value.value
    if isinstance(inner, Computed) or inner == WIRE_UNKNOWN:
        return resource.UNKNOWN
    if isinstance(inner, Mapping):
        return {k: _python_value(v) for k, v in inner.items()}
    if isinstance(inner, tuple):
        return [_python_value(v) for v in inner]
    return inner


def plain(props: Mapping[str, PropertyValue]) -> dict[str, Any]:
    return {k: _python_value(v) for k, v in props.items()}


def secret_names(*maps: Mapping[str, PropertyValue]) -> set[str]:
    return {k for props in maps for k, v in props.items() if v.contains_secret()}


def _wire(value: Any, secret: bool) -> PropertyValue:
    if value is resource.UNKNOWN:
        # PropertyValue.computed() does not marshal in this SDK; the sentinel string does.
        return PropertyValue(WIRE_UNKNOWN, is_secret=secret)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return PropertyValue(value, is_secret=secret)
    if isinstance(value, (int, float)):
        return PropertyValue(float(value), is_secret=secret)
    if isinstance(value, Mapping):
        return PropertyValue({k: _wire(v, False) for k, v in value.items()}, is_secret=secret)
    if isinstance(value, list):
        return PropertyValue([_wire(v, False) for v in value], is_secret=secret)
    raise TypeError(f"no property value for {type(value).__name__}")


def wire(props: Mapping[str, Any], secrets: Iterable[str] = ()) -> dict[str, PropertyValue]:
    """`props` as property values; those named in `secrets` stay secret."""
    hidden = set(secrets)
    return {k: _wire(v, k in hidden) for k, v in props.items()}
