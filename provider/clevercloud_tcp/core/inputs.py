"""The TcpRedirection resource's inputs and outputs: names, validation, and the messages users see.

Property names on the wire and in the state are camelCase (as in schema.json); the Python SDK shows
them in snake_case. Each validator names the input as the user wrote it and says what is expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..errors import InputError, named, python_name

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Used with fullmatch only: `$` would let a trailing newline through. ASCII: under IGNORECASE,
# Unicode rules make [a-z] match the Kelvin sign and the long s.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
APP_ID = re.compile(rf"app_{UUID}", re.ASCII)
OWNER_ID = re.compile(rf"(?:orga|user)_{UUID}", re.ASCII)
NAMESPACE = re.compile(_LABEL, re.ASCII)
HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z)(?:{_LABEL}\.)*{_LABEL}", re.ASCII | re.IGNORECASE)

INPUTS = ("appId", "namespace", "ownerId", "host", "adopt")
OUTPUTS = ("appId", "namespace", "ownerId", "host", "adopt", "port", "url", "adopted")
# camelCase property -> the snake_case name a Python user writes.
PYTHON_NAMES = {prop: python_name(prop) for prop in OUTPUTS}
CAMEL_NAMES = {snake: camel for camel, snake in PYTHON_NAMES.items()}
DEFAULT_NAMESPACE = "default"
# `host` as check() leaves it when a host given before is now left out: find the app's domain again.
# (diff sees only the old outputs, which cannot tell a given host from a found one.)
FIND_HOST = ""


def _shown(value: object) -> str:
    return "an empty string" if value == "" else repr(value)


def check_app_id(value: object) -> str:
    if not isinstance(value, str) or not APP_ID.fullmatch(value):
        raise InputError(
            "appId",
            f"expected an application id like app_<uuid> (`clever applications` or the console shows it), "
            f"got {_shown(value)}",
        )
    return value


def check_owner_id(value: object) -> str:
    if not isinstance(value, str) or not OWNER_ID.fullmatch(value):
        raise InputError(
            "ownerId",
            f"expected an organisation id orga_<uuid> or a user id user_<uuid>, got {_shown(value)}; "
            f"or leave {named('ownerId')} out to have it found from the application",
        )
    return value


def check_namespace(value: object) -> str:
    if not isinstance(value, str) or not NAMESPACE.fullmatch(value):
        guess = value.strip().lower() if isinstance(value, str) else ""
        hint = f" (did you mean {guess!r}?)" if NAMESPACE.fullmatch(guess) else ""
        raise InputError(
            "namespace",
            f"expected a lower-case namespace name such as 'default' or 'cleverapps' (letters, digits and "
            f"dashes), got {_shown(value)}{hint}",
        )
    return value


def check_host(value: object) -> str:
    if not isinstance(value, str) or not HOSTNAME.fullmatch(value):
        raise InputError(
            "host",
            f"expected a domain name such as db.example.com (no scheme, no port, no path), got {_shown(value)}; "
            f"or leave {named('host')} out to use the application's domain",
        )
    return value.lower()


def check_adopt(value: object) -> bool:
    if not isinstance(value, bool):
        raise InputError("adopt", f"expected true or false, got {_shown(value)}")
    return value


VALIDATORS: dict[str, Callable[[object], Any]] = {
    "appId": check_app_id,
    "namespace": check_namespace,
    "ownerId": check_owner_id,
    "host": check_host,
    "adopt": check_adopt,
}


def _optional(check: Callable[[object], Any]) -> BeforeValidator:
    return BeforeValidator(lambda value: None if value is None else check(value))


class TcpRedirectionInputs(BaseModel):
    """Validated inputs, as `create` and `update` use them.

    The validators run before pydantic's own type checks and raise `InputError` (not a ValueError),
    which pydantic lets through unchanged, so the message is the same one `check` reports.
    """

    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")
    app_id: Annotated[str, BeforeValidator(check_app_id)] = Field(alias="appId")
    namespace: Annotated[str, BeforeValidator(check_namespace)] = DEFAULT_NAMESPACE
    owner_id: Annotated[str | None, _optional(check_owner_id)] = Field(default=None, alias="ownerId")
    host: Annotated[str | None, _optional(check_host)] = None
    adopt: Annotated[bool, BeforeValidator(check_adopt)] = False

    @classmethod
    def parse(cls, props: Mapping[str, Any]) -> TcpRedirectionInputs:
        if props.get("appId") is None:
            check_app_id(None)
        given = {k: props[k] for k in INPUTS if props.get(k) is not None}
        if given.get("host") == FIND_HOST:
            del given["host"]
        return cls.model_validate(given)

    @property
    def key(self) -> str:
        """The resource id: one redirection per application and namespace."""
        return f"{self.app_id}/{self.namespace}"


def tcp_url(host: str | None, port: int | None) -> str:
    """The address clients dial; empty, not absent, without a host: the Python SDK shows an absent
    output as unknown in every preview, so a stack with no change would show one."""
    return f"tcp://{host}:{port}" if host and port else ""
