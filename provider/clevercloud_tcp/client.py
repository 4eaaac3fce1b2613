"""The Clever Cloud API calls that TCP redirections need, over a `Transport`."""

from __future__ import annotations

from types import TracebackType
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter

from . import errors
from .credentials import Credentials, Settings
from .models import Namespace, Summary, TcpRedirection, Vhost
from .transport import RetryPolicy, Transport, is_transient

_redirections = TypeAdapter(list[TcpRedirection])
_namespaces = TypeAdapter(list[Namespace])
_vhosts = TypeAdapter(list[Vhost])


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
        retry: RetryPolicy = RetryPolicy(),
        http_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.transport = Transport(
            endpoint, credentials, timeout=timeout, retry=retry, http_transport=http_transport
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, timeout: float = 15.0, retry: RetryPolicy = RetryPolicy()
    ) -> CleverCloudClient:
        return cls(settings.endpoint, settings.credentials, timeout=timeout, retry=retry)

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

    def find_owner(self, app_id: str) -> str:
        """The owner (organisation or user) of `app_id`, from the summary of the credentials in use."""
        owner = self.summary().owner_of(app_id)
        if owner is None:
            raise errors.AppNotFound(
                404,
                f"application {app_id} is not among the applications these credentials can see",
                operation="find the owner of an application",
            )
        return owner

    def list_namespaces(self, owner_id: str) -> list[Namespace]:
        path = f"/v2/organisations/{quote(owner_id, safe='')}/namespaces"
        return _namespaces.validate_python(self.transport.request("GET", path, operation="list namespaces"))

    def list_tcp_redirections(self, owner_id: str, app_id: str) -> list[TcpRedirection]:
        body = self.transport.request(
            "GET", f"{_app_path(owner_id, app_id)}/tcpRedirs", operation=f"list TCP redirections of {app_id}"
        )
        return _redirections.validate_python(body)

    def find_tcp_redirection(self, owner_id: str, app_id: str, namespace: str) -> TcpRedirection | None:
        return next(
            (r for r in self.list_tcp_redirections(owner_id, app_id) if r.namespace == namespace), None
        )

    def list_vhosts(self, owner_id: str, app_id: str) -> list[Vhost]:
        body = self.transport.request("GET", f"{_app_path(owner_id, app_id)}/vhosts", operation="list domains")
        return _vhosts.validate_python(body)

    def favourite_vhost(self, owner_id: str, app_id: str) -> Vhost | None:
        try:
            body = self.transport.request(
                "GET", f"{_app_path(owner_id, app_id)}/vhosts/favourite", operation="read favourite domain"
            )
        except errors.NotFound as exc:
            if isinstance(exc, errors.AppNotFound) and exc.api_id != 4021:
                raise
            return None  # id 4021: no favourite domain set
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
            except errors.AlreadyExists:
                if outcome_unknown:
                    existing = self.find_tcp_redirection(owner_id, app_id, namespace)
                    if existing is not None:
                        return existing
                raise
            except (errors.ConnectionLost, errors.ServerError):
                outcome_unknown = True
                raise
            return TcpRedirection.model_validate(body)

        try:
            return self.transport.with_retries(attempt, operation=operation, retry_if=is_transient)
        except errors.RetriesExhausted:
            if not outcome_unknown:
                raise
            # A try whose answer was lost may have landed although every later one failed: look once
            # before reporting failure, or the redirection it made would be left with no state to own it.
            try:
                existing = self.find_tcp_redirection(owner_id, app_id, namespace)
            except errors.CleverCloudError:
                existing = None
            if existing is None:
                raise
            return existing

    def remove_tcp_redirection(self, owner_id: str, app_id: str, namespace: str, port: int) -> bool:
        """Removes the redirection; False when it was already gone (which counts as done).

        A retry after a lost answer may find it gone: that is this call's own first try, so True.
        """
        operation = f"remove TCP redirection {namespace}:{port} of {app_id}"
        path = f"{_app_path(owner_id, app_id)}/tcpRedirs/{port}"
        outcome_unknown = False

        def attempt() -> bool:
            nonlocal outcome_unknown
            try:
                self.transport.send("DELETE", path, operation=operation, params={"namespace": namespace})
            except errors.RedirectionNotFound:
                return outcome_unknown
            except (errors.ConnectionLost, errors.ServerError):
                outcome_unknown = True
                raise
            return True

        return self.transport.with_retries(attempt, operation=operation)
