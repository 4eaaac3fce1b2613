"""HTTP transport: one connection pool, timeouts, retries, and the mapping of answers to errors.

The API calls themselves live in `client.py`; this module knows nothing of TCP redirections.
"""

from __future__ import annotations

import email.utils
import http.cookiejar
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import tenacity
from pydantic import ValidationError

from .. import errors
from .auth import Credentials, CredentialsAuth
from .models import ErrorBody

log = logging.getLogger("clevercloud_tcp")
T = TypeVar("T")


@dataclass(frozen=True)
class Origin:
    """Where the endpoint, credentials and owner came from, in the words of whoever built the client.

    Only error messages use it ("check …"): this layer knows nothing of where settings live.
    """

    endpoint: str = "the endpoint given to the client"
    credentials: str = "the credentials given to the client"
    owner: str = "the owner given"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: bounded both in attempts and in total time."""

    attempts: int = 5
    total_seconds: float = 60.0
    first_backoff: float = 0.25
    max_backoff: float = 8.0
    max_retry_after: float = 30.0


DEFAULT_RETRY = RetryPolicy()
UNSAID = Origin()  # a client built by hand: messages say "the endpoint given to the client"


def _retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds, from either of its two forms (seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_for(response: httpx.Response, operation: str, origin: Origin = UNSAID) -> errors.CleverCloudError:
    """The error that an error answer means, from its status alone; the API's id and message are kept.

    What a 400 or a 404 means depends on the route: `client.py` decides (its assumptions: docs/failure-handling.md).
    """
    status = response.status_code
    if 300 <= status < 400:
        # Only a 2xx is success: a DELETE answered by a proxy's 302 removed nothing.
        location = response.headers.get("location", "")[:200] or "no Location"
        return errors.Redirected(
            f"{operation}: the endpoint answered HTTP {status} {response.reason_phrase} towards {location}, "
            f"not the Clever Cloud API, and the redirect is not followed; check {origin.endpoint}"
        )
    try:
        body = ErrorBody.model_validate(response.json())
    except (ValueError, ValidationError):
        if status < 500:
            return errors.UnexpectedResponse(
                f"{operation}: the endpoint answered HTTP {status} with "
                f"{response.headers.get('content-type', 'no content type')}, not the Clever Cloud API; "
                f"check {origin.endpoint}"
            )
        body = ErrorBody(message=response.reason_phrase or "server error")
    if status == 401:
        return errors.InvalidCredentials(status, body.text, body.ident, operation=operation, hint=f"Check {origin.credentials}.")
    if status == 403:
        return errors.Forbidden(status, body.text, body.ident, operation=operation)
    if status == 404:
        return errors.NotFound(status, body.text, body.ident, operation=operation)
    if status == 409:
        return errors.AlreadyExists(status, body.text, body.ident, operation=operation)
    if status == 429:
        return errors.RateLimited(
            status,
            body.text,
            body.ident,
            operation=operation,
            retry_after=_retry_after(response.headers.get("retry-after")),
        )
    if status >= 500:
        return errors.ServerError(status, body.text, body.ident, operation=operation)
    return errors.ApiError(status, body.text, body.ident, operation=operation)


class _NoCookies(http.cookiejar.CookieJar):
    """The API sets no cookies worth keeping; parsing every answer for them costs ~12% of a request."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        pass


def is_transient(exc: BaseException) -> bool:
    """Worth another try for a call that is safe to repeat (GET, DELETE)."""
    if isinstance(exc, (errors.RateLimited, errors.Unreachable, errors.ConnectionLost)):
        return True
    return isinstance(exc, errors.ServerError) and exc.status in (500, 502, 503, 504)


class Transport:
    """Sends requests to one endpoint with one set of credentials, over one connection pool."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        *,
        timeout: float = 15.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        http_transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        origin: Origin = UNSAID,
    ) -> None:
        self.endpoint = endpoint
        self.origin = origin
        self.retry_policy = retry
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=endpoint,
            auth=CredentialsAuth(credentials),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=16),
            headers={"Accept": "application/json", "User-Agent": "pulumi-clevercloud-tcp"},
            cookies=httpx.Cookies(_NoCookies()),
            transport=http_transport,
        )

    def __repr__(self) -> str:
        return f"Transport({self.endpoint!r})"

    def close(self) -> None:
        self._http.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """One attempt: the decoded JSON body (None when empty), or a `CleverCloudError`."""
        started = time.perf_counter()
        try:
            response = self._http.request(method, path, json=json, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise errors.Unreachable(
                f"{operation}: cannot reach {self.endpoint} ({type(exc).__name__}: {exc}); "
                f"check {self.origin.endpoint} and the network"
            ) from None
        except httpx.TransportError as exc:
            raise errors.ConnectionLost(
                f"{operation}: the connection to {self.endpoint} failed before an answer came "
                f"({type(exc).__name__}: {exc or 'no detail'})"
            ) from None
        log.debug(
            "%s %s -> %s (%.0f ms)", method, path, response.status_code, (time.perf_counter() - started) * 1e3
        )
        if not response.is_success:
            raise error_for(response, operation, self.origin)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise errors.UnexpectedResponse(
                f"{operation}: the endpoint answered {response.headers.get('content-type', 'no content type')} "
                f"that is not JSON, so it is not the Clever Cloud API; check {self.origin.endpoint}"
            ) from None

    def _wait(self, state: tenacity.RetryCallState) -> float:
        policy = self.retry_policy
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, errors.RateLimited) and exc.retry_after is not None:
            return min(exc.retry_after, policy.max_retry_after)
        backoff: float = min(policy.max_backoff, policy.first_backoff * 2 ** (state.attempt_number - 1))
        return backoff * random.uniform(0.5, 1.0)  # jitter: parallel callers do not retry in step

    def with_retries(
        self,
        attempt: Callable[[], T],
        *,
        operation: str,
        retry_if: Callable[[BaseException], bool] = is_transient,
    ) -> T:
        """Runs `attempt` until it succeeds, fails for good, or the policy's bounds are reached."""
        policy = self.retry_policy
        started = time.monotonic()
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.attempts) | tenacity.stop_before_delay(policy.total_seconds),
            wait=self._wait,
            retry=tenacity.retry_if_exception(retry_if),
            sleep=self._sleep,
            before_sleep=lambda state: log.info(
                "%s: attempt %d failed (%s); retrying in %.2fs",
                operation,
                state.attempt_number,
                state.outcome.exception() if state.outcome else "?",
                state.upcoming_sleep,
            ),
        )
        try:
            return retrying(attempt)
        except tenacity.RetryError as exc:
            last = exc.last_attempt.exception()
            assert isinstance(last, errors.CleverCloudError)
            raise errors.RetriesExhausted(
                operation, exc.last_attempt.attempt_number, time.monotonic() - started, last
            ) from None

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """An idempotent call (GET, DELETE), retried on transient failures."""
        return self.with_retries(
            lambda: self.send(method, path, operation=operation, params=params), operation=operation
        )
