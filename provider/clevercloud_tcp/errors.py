"""The one exception hierarchy of the package.

Every error a user can meet is a `CleverCloudError`. API errors carry the HTTP status and the API's own
error id and message; none of them ever carries a credential (they are built from response bodies and
our own words, never from request headers).
"""

from __future__ import annotations


class CleverCloudError(Exception):
    """Base of every error raised by this package."""


class ConfigurationError(CleverCloudError):
    """Credentials or endpoint are missing or malformed: nothing was sent."""


class MissingCredentials(ConfigurationError):
    """No credentials in any of the places they are looked for."""


class InputError(CleverCloudError):
    """A resource input is invalid: nothing was sent. `field` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
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
    hint = "Check owner_id (orga_<uuid> or user_<uuid>)."


class AppNotFound(NotFound):
    hint = "Check app_id (app_<uuid>) and that it belongs to the owner used."


class NamespaceNotFound(NotFound):
    hint = "Check namespace: `get_namespaces()` lists the ones this owner can use."


class RedirectionNotFound(NotFound):
    pass


class AlreadyExists(ApiError):
    """The application already has a redirection in that namespace (one per app and namespace)."""


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
            f"{operation}: gave up after {attempts} attempt(s) over {elapsed:.1f}s; last error: {last}"
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
            f"{self}. The first attempt may have landed (its answer was lost) although no redirection "
            "was found after it: run `pulumi up` again, which finds it if it did and says how to take it over",
        )

    def __str__(self) -> str:
        return str(self.args[0])
