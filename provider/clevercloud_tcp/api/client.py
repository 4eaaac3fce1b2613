"""The Clever Cloud API calls that TCP redirections need, over a `Transport`.

What this client assumes of the API's answers (no public document gives the error answers of these
routes) is listed once, route by route, in docs/failure-handling.md ("What is assumed of the API").
Answers are read by route and status, never by the words of a message, and a wrong guess costs at
most one more read, never an orphan, a duplicate or a false "deleted". Keep that list in step with
`_get_list`, `add_tcp_redirection`, `_add_refused` and `remove_tcp_redirection`.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from .. import errors
from .auth import Credentials
from .models import Namespace, Summary, TcpRedirection, Vhost
from .transport import DEFAULT_RETRY, UNSAID, Origin, RetryPolicy, Transport, is_transient

_redirections = TypeAdapter(list[TcpRedirection])
_namespaces = TypeAdapter(list[Namespace])
_vhosts = TypeAdapter(list[Vhost])
E = TypeVar("E", bound=errors.ApiError)


def _as(kind: type[E], exc: errors.ApiError, hint: str | None = None) -> E:
    """`exc` re-classified: the API's status, id and message, and the operation, kept."""
    return kind(exc.status, exc.api_message, exc.api_id, operation=exc.operation, hint=hint)


def _app_path(owner_id: str, app_id: str) -> str:
    return f"/v2/organisations/{quote(owner_id, safe='')}/applications/{quote(app_id, safe='')}"


class CleverCloudClient:
    """A small client of the Clever Cloud API. Safe to share between threads; close it when done."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        *,
        timeout: float = 15.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        http_transport: httpx.BaseTransport | None = None,
        origin: Origin = UNSAID,
    ) -> None:
        self.transport = Transport(
            endpoint, credentials, timeout=timeout, retry=retry, http_transport=http_transport, origin=origin
        )
        # Who owns what, as one summary shows it to these credentials: it finds an application's owner,
        # and tells a 404 meaning "empty" from one meaning "no such owner or app". Read when first
        # needed, and again only for an owner or application not seen yet.
        self._owner_ids: set[str] = set()
        self._owners: dict[str, str] = {}  # application -> owner
        self._known_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CleverCloudClient({self.transport.endpoint!r})"

    def __enter__(self) -> CleverCloudClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    # Reads: idempotent, retried on transient failures.

    def summary(self) -> Summary:
        return Summary.model_validate(self.transport.request("GET", "/v2/summary", operation="read summary"))

    def _learn_owners(self) -> None:
        """Reads the summary into who owns what (the caller holds `_known_lock`)."""
        summary = self.summary()
        for owner in [summary.user, *summary.organisations]:
            self._owner_ids.add(owner.id)
            self._owners.update({app.id: owner.id for app in owner.applications})

    def owner_of(self, app_id: str) -> str | None:
        """The owner (organisation or user) of `app_id` among what these credentials can see, or None."""
        with self._known_lock:
            if app_id not in self._owners:
                self._learn_owners()
            return self._owners.get(app_id)

    def _require_exists(self, exc: errors.NotFound, owner_id: str, app_id: str | None = None) -> None:
        """Returns when the owner (and app) exist for these credentials; else raises what `exc` means.

        `exc` is a 404 from a route under that owner (or app): when they exist, the 404 is about
        the route's own subject (an empty list, no favourite, an unknown namespace).
        """
        def known() -> bool:
            return owner_id in self._owner_ids and (app_id is None or self._owners.get(app_id) == owner_id)

        with self._known_lock:
            if known():
                return
            self._learn_owners()
            owner = self.transport.origin.owner
            if owner_id not in self._owner_ids:
                raise _as(errors.OwnerNotFound, exc, f"Check {owner}.") from None
            if not known():
                hint = f"Check {errors.named('appId')} (app_<uuid>) and that it belongs to the owner used: {owner}, or the one found for the credentials."
                raise _as(errors.AppNotFound, exc, hint) from None

    def _get_list(self, path: str, operation: str, owner_id: str, app_id: str | None = None) -> Any:
        try:
            return self.transport.request("GET", path, operation=operation)
        except errors.NotFound as exc:
            self._require_exists(exc, owner_id, app_id)
            return []  # the API's way of saying "none", as the official JS client reads it

    def list_namespaces(self, owner_id: str) -> list[Namespace]:
        path = f"/v2/organisations/{quote(owner_id, safe='')}/namespaces"
        return _namespaces.validate_python(self._get_list(path, "list namespaces", owner_id))

    def list_tcp_redirections(self, owner_id: str, app_id: str) -> list[TcpRedirection]:
        path = f"{_app_path(owner_id, app_id)}/tcpRedirs"
        body = self._get_list(path, f"list TCP redirections of {app_id}", owner_id, app_id)
        return _redirections.validate_python(body)

    def find_tcp_redirection(self, owner_id: str, app_id: str, namespace: str) -> TcpRedirection | None:
        return next(
            (r for r in self.list_tcp_redirections(owner_id, app_id) if r.namespace == namespace), None
        )

    def list_vhosts(self, owner_id: str, app_id: str) -> list[Vhost]:
        body = self._get_list(f"{_app_path(owner_id, app_id)}/vhosts", "list domains", owner_id, app_id)
        return _vhosts.validate_python(body)

    def favourite_vhost(self, owner_id: str, app_id: str) -> Vhost | None:
        try:
            body = self.transport.request(
                "GET", f"{_app_path(owner_id, app_id)}/vhosts/favourite", operation="read favourite domain"
            )
        except errors.NotFound as exc:
            self._require_exists(exc, owner_id, app_id)
            return None  # the app has no favourite domain
        return Vhost.model_validate(body)

    # Writes.

    def add_tcp_redirection(self, owner_id: str, app_id: str, namespace: str) -> TcpRedirection:
        """Adds the app's redirection in `namespace` and returns it with its port.

        A POST is not idempotent, so it is retried only where a repeat is safe: when the first try surely
        did nothing (429, connection refused), or when its outcome is unknown (lost answer, timeout,
        5xx). In the second case a retry may meet "already exists": that is our own first try, which
        did land, so the existing redirection is returned instead of an error. For the same reason, when
        the retries run out after such a try, one look-up decides: if the redirection exists, it is ours.
        """
        operation = f"add TCP redirection of {app_id} in namespace {namespace!r}"
        path = f"{_app_path(owner_id, app_id)}/tcpRedirs"
        outcome_unknown = False

        def attempt() -> TcpRedirection:
            nonlocal outcome_unknown
            try:
                body = self.transport.send("POST", path, operation=operation, json={"namespace": namespace})
            except (errors.ConnectionLost, errors.ServerError):
                outcome_unknown = True
                raise
            except errors.ApiError as exc:
                if is_transient(exc):
                    raise  # 429: surely not applied, and retried
                if outcome_unknown:
                    # Whatever the refusal says, an earlier try may have landed: the list decides.
                    existing = self.find_tcp_redirection(owner_id, app_id, namespace)
                    if existing is not None:
                        return existing
                raise self._add_refused(exc, owner_id, app_id) from None
            return TcpRedirection.model_validate(body)

        try:
            return self.transport.with_retries(attempt, operation=operation, retry_if=is_transient)
        except errors.RetriesExhausted as exhausted:
            if not outcome_unknown:
                raise
            # A try whose answer was lost may have landed although every later one failed: look once
            # before reporting failure, or the redirection it made would be left with no state to own it.
            try:
                existing = self.find_tcp_redirection(owner_id, app_id, namespace)
            except errors.CleverCloudError:
                existing = None
            if existing is None:
                raise errors.OutcomeUnknown(exhausted) from None
            return existing

    def _add_refused(self, exc: errors.ApiError, owner_id: str, app_id: str) -> errors.ApiError:
        """What a refused POST of a redirection means (see the assumptions in docs/failure-handling.md)."""
        if isinstance(exc, errors.NotFound):
            self._require_exists(exc, owner_id, app_id)
            return _as(errors.NamespaceNotFound, exc)
        if exc.status == 400:
            return _as(errors.NoPortLeft, exc)
        return exc

    def remove_tcp_redirection(self, owner_id: str, app_id: str, namespace: str, port: int) -> bool:
        """Removes the redirection; False when it was already gone (which counts as done).

        Any 2xx is done, whatever its body; a 404 is "already gone", whatever its message. A retry after
        a lost answer may find it gone: that is this call's own first try, so True.
        """
        operation = f"remove TCP redirection {namespace}:{port} of {app_id}"
        path = f"{_app_path(owner_id, app_id)}/tcpRedirs/{port}"
        outcome_unknown = False

        def attempt() -> bool:
            nonlocal outcome_unknown
            try:
                self.transport.send("DELETE", path, operation=operation, params={"namespace": namespace})
            except errors.NotFound:
                return outcome_unknown
            except (errors.ConnectionLost, errors.ServerError):
                outcome_unknown = True
                raise
            return True

        return self.transport.with_retries(attempt, operation=operation)
