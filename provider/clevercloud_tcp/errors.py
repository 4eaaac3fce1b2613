"""The one exception hierarchy of the package.

Every error a user can meet is a `CleverCloudError`. API errors carry the HTTP status and the API's own
error id and message; none of them ever carries a credential (they are built from response bodies and
our own words, never from request headers).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# An input named in a message, by its schema name (`appId`): each face spells it as its programs do.
_NAMED = re.compile("\x1f([A-Za-z]+)\x1f")


def named(prop: str) -> str:
    """`prop` (a schema name) marked in a message, to be spelled by `spell`."""
    return f"\x1f{prop}\x1f"


def python_name(prop: str) -> str:
    """How a Python program writes the input `prop`: `appId` is `app_id`."""
    return re.sub(r"(?<=[a-z])([A-Z])", r"_\1", prop).lower()


def schema_name(prop: str) -> str:
    """How TypeScript, Go and YAML programs write it: as the schema does."""
    return prop


def spell(text: str, spelling: Callable[[str], str]) -> str:
    """`text` with every input marked by `named` written in `spelling`."""
    return _NAMED.sub(lambda match: spelling(match[1]), text)


class CleverCloudError(Exception):
    """Base of every error raised by this package.

    Its text names inputs with `named`; `str()` spells them as Python does (the dynamic face, the
    functions run in a Python program), the plugin with `spelled(schema_name)`.
    """

    @property
    def marked(self) -> str:
        """The text with its inputs still marked: for a message that quotes this error."""
        return super().__str__()

    def spelled(self, spelling: Callable[[str], str]) -> str:
        return spell(self.marked, spelling)

    def __str__(self) -> str:
        return self.spelled(python_name)


class ConfigurationError(CleverCloudError):
    """Credentials or endpoint are missing or malformed: nothing was sent."""


class MissingCredentials(ConfigurationError):
    """No credentials in any of the places they are looked for."""


class InputError(CleverCloudError):
    """A resource input is invalid: nothing was sent. `field` is the input's schema name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{named(field)}: {message}")
        self.field = field
        self.reason = message


class TransportError(CleverCloudError):
    """No usable answer came back from the API."""


class Unreachable(TransportError):
    """The endpoint could not be reached (connection refused, DNS, TLS)."""


class ConnectionLost(TransportError):
    """The connection broke or timed out after the request was sent: the outcome is unknown."""


class UnexpectedResponse(TransportError):
    """The endpoint answered something that is not the Clever Cloud API (HTML, garbage)."""


class Redirected(UnexpectedResponse):
    """The endpoint answered a 3xx: a proxy, a captive portal or an http→https hop, not the API; the
    request is not followed (its credentials would go along), so nothing is known to have happened."""


class ApiError(CleverCloudError):
    """The API answered with an error status."""

    hint = ""

    def __init__(
        self,
        status: int,
        message: str,
        api_id: int | str | None = None,
        *,
        operation: str = "",
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.api_message = message
        self.api_id = api_id
        self.operation = operation
        if hint is not None:  # a caller that knows the situation better than the class's general hint
            self.hint = hint
        where = f"{operation}: " if operation else ""
        ident = f", id {api_id}" if api_id is not None else ""
        hint = f" {self.hint}" if self.hint else ""
        super().__init__(f"{where}HTTP {status}{ident}: {message}.{hint}")


class InvalidCredentials(ApiError):
    hint = "Check the credentials in use."


class Forbidden(ApiError):
    hint = "The credentials in use have no right on this owner or application."


class NotFound(ApiError):
    pass


class OwnerNotFound(NotFound):
    hint = f"Check {named('ownerId')} (orga_<uuid> or user_<uuid>)."


class AppNotFound(NotFound):
    hint = f"Check {named('appId')} (app_<uuid>) and that it belongs to the owner used."


class NamespaceNotFound(NotFound):
    hint = "Check namespace: `get_namespaces()` lists the ones this owner can use."


class RedirectionNotFound(NotFound):
    pass


class AlreadyExists(ApiError):
    """The application already has a redirection in that namespace (one per app and namespace)."""


class Unrecorded(AlreadyExists):
    """That redirection is not in the stack's state: an interrupted `up` may have made it. Each face
    adds the recovery its users run (`with_recovery`)."""

    def with_recovery(self, how: str) -> Unrecorded:
        self.args = (f"{self.marked}. If an interrupted `pulumi up` made it, recover without editing the program: {how}",)
        return self


class NoPortLeft(ApiError):
    hint = "Every port of this namespace is taken: free one, or use another namespace."


class RateLimited(ApiError):
    def __init__(
        self,
        status: int,
        message: str,
        api_id: int | str | None = None,
        *,
        operation: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, message, api_id, operation=operation)
        self.retry_after = retry_after


class ServerError(ApiError):
    pass


class LookupFailed(CleverCloudError):
    """A look-up that a create or refresh needed before its write failed: nothing was written."""


class RetriesExhausted(CleverCloudError):
    """A retried call still failed; `last` is the final error, `attempts` how many were made."""

    def __init__(self, operation: str, attempts: int, elapsed: float, last: CleverCloudError) -> None:
        super().__init__(
            f"{operation}: gave up after {attempts} attempt(s) over {elapsed:.1f}s; last error: {last.marked}"
        )
        self.operation = operation
        self.attempts = attempts
        self.elapsed = elapsed
        self.last = last


class OutcomeUnknown(RetriesExhausted):
    """A write whose first attempt lost its answer, and whose retries all failed: it may have landed."""

    def __init__(self, exhausted: RetriesExhausted) -> None:
        super().__init__(exhausted.operation, exhausted.attempts, exhausted.elapsed, exhausted.last)
        self.args = (
            f"{self.marked}. The first attempt may have landed (its answer was lost) although no redirection "
            "was found after it: run `pulumi up` again, which finds it if it did and says how to take it over",
        )
