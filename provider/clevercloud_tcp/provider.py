"""The Pulumi dynamic provider of `TcpRedirection`.

The engine pickles the provider instance into every resource's state (`__provider`) by reference to
this module: `clevercloud_tcp.provider.TcpRedirectionProvider` is a promise to existing stacks, keep
it importable. The instance holds nothing when pickled; credentials are read in `configure` and the
HTTP client is built on first use, both inside the provider process only.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import errors
from .client import CleverCloudClient
from .credentials import ALL_CONFIG_KEYS, resolve_settings
from .inputs import DEFAULT_NAMESPACE, FIND_HOST, INPUTS, VALIDATORS, TcpRedirectionInputs, tcp_url
from .models import TcpRedirection, Vhost
from .transport import RetryPolicy

CLEVERAPPS_SUFFIX = ".cleverapps.io"
_SESSION_LOCK = threading.Lock()


class ProviderOptions(BaseModel):
    """`clevercloud-tcp:*` stack config: how patient the provider is with the API."""

    model_config = ConfigDict(frozen=True)
    request_timeout: float = Field(default=15.0, gt=0, alias="clevercloud-tcp:requestTimeout")
    retry_attempts: int = Field(default=5, ge=1, le=20, alias="clevercloud-tcp:retryAttempts")
    retry_timeout: float = Field(default=60.0, gt=0, alias="clevercloud-tcp:retryTimeout")

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.retry_attempts, total_seconds=self.retry_timeout)


OPTION_KEYS = tuple(field.alias for field in ProviderOptions.model_fields.values() if field.alias)


def pick_default_host(vhosts: list[Vhost], namespace: str, favourite: Vhost | None) -> str | None:
    """The domain clients dial: the *.cleverapps.io one for `cleverapps`, else the favourite or first custom one."""
    names = [v.fqdn for v in vhosts]
    if namespace == "cleverapps":
        return next((n for n in names if n.endswith(CLEVERAPPS_SUFFIX)), None)
    custom = [n for n in names if not n.endswith(CLEVERAPPS_SUFFIX)]
    if favourite is not None and favourite.fqdn in custom:
        return favourite.fqdn
    return custom[0] if custom else None


class Session:
    """What one provider process keeps: one client, and the look-ups done once per owner or app."""

    def __init__(self, config: Mapping[str, object]) -> None:
        self.settings = resolve_settings(config)
        try:
            self.options = ProviderOptions.model_validate({k: v for k, v in config.items() if k in OPTION_KEYS})
        except ValidationError as exc:
            first = exc.errors()[0]
            raise errors.ConfigurationError(f"{first['loc'][0]}: {first['msg']}") from None
        self.client = CleverCloudClient.from_settings(
            self.settings, timeout=self.options.request_timeout, retry=self.options.retry
        )
        self._lock = threading.Lock()
        self._locks: dict[object, threading.Lock] = {}
        self._owners: dict[str, str] = {}
        self._vhosts: dict[tuple[str, str], list[Vhost]] = {}
        self._favourites: dict[tuple[str, str], Vhost | None] = {}

    def _lock_for(self, key: object) -> threading.Lock:
        """One lock per look-up: the engine's parallel requests wait for the same look-up, not for others."""
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def owner_of(self, app_id: str, given: str | None) -> str:
        if given:
            return given
        if self.settings.organization:
            return self.settings.organization
        with self._lock_for("summary"):
            if app_id not in self._owners:
                summary = self.client.summary()
                for owner in [summary.user, *summary.organisations]:
                    self._owners.update({app.id: owner.id for app in owner.applications})
            if app_id not in self._owners:
                raise errors.AppNotFound(
                    404,
                    f"application {app_id} is not among the applications these credentials can see "
                    f"({self.settings.source})",
                    operation="find the owner of app_id",
                )
            return self._owners[app_id]

    def default_host(self, owner_id: str, app_id: str, namespace: str) -> str | None:
        key = (owner_id, app_id)
        with self._lock_for(key):
            if key not in self._vhosts:
                self._vhosts[key] = self.client.list_vhosts(owner_id, app_id)
            vhosts = self._vhosts[key]
            custom = [v for v in vhosts if not v.fqdn.endswith(CLEVERAPPS_SUFFIX)]
            favourite = None
            if namespace != "cleverapps" and len(custom) > 1:  # only then does the favourite decide
                if key not in self._favourites:
                    self._favourites[key] = self.client.favourite_vhost(owner_id, app_id)
                favourite = self._favourites[key]
        return pick_default_host(vhosts, namespace, favourite)


def _is_unknown(value: object) -> bool:
    # check and diff get unknowns as `Unknown` objects; other paths as the sentinel string.
    return isinstance(value, Unknown) or value == UNKNOWN


def _outputs(inputs: TcpRedirectionInputs, owner_id: str, host: str | None, port: int, adopted: bool) -> dict[str, Any]:
    return {
        "appId": inputs.app_id,
        "namespace": inputs.namespace,
        "ownerId": owner_id,
        "host": host,
        "adopt": inputs.adopt,
        "port": port,
        "url": tcp_url(host, port),
        "adopted": adopted,
    }


def _state_port(props: Mapping[str, Any]) -> int | None:
    """The port recorded in the state, or None when it is not a plausible port (damaged state)."""
    port = props.get("port")
    if isinstance(port, bool) or not isinstance(port, (int, float)) or port != int(port):
        return None
    return int(port) if 1 <= port <= 65535 else None


class TcpRedirectionProvider(ResourceProvider):
    """Create, read, diff, update and delete one TCP redirection, keyed by application and namespace."""

    _config: dict[str, object]
    _session: Session | None

    def configure(self, req: ConfigureRequest) -> None:
        keys = (*ALL_CONFIG_KEYS, *OPTION_KEYS)
        self._config = {k: v for k in keys if (v := req.config.get(k)) is not None}
        self._session = None

    def session(self) -> Session:
        with _SESSION_LOCK:
            if getattr(self, "_session", None) is None:
                self._session = Session(getattr(self, "_config", {}))
            assert self._session is not None
            return self._session

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {k: news[k] for k in INPUTS if news.get(k) is not None}
        inputs.setdefault("namespace", DEFAULT_NAMESPACE)
        inputs.setdefault("adopt", False)
        failures = []
        if "appId" not in inputs:
            failures.append(CheckFailure("appId", "app_id is required: the id (app_<uuid>) of the application"))
        for name, value in inputs.items():
            if _is_unknown(value):
                continue  # known only after the resource it comes from exists
            try:
                inputs[name] = VALIDATORS[name](value)
            except errors.InputError as exc:
                failures.append(CheckFailure(name, str(exc)))
        if news.get("host") is None and olds.get("host"):  # olds are the old inputs here
            inputs["host"] = FIND_HOST
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        def changed(name: str) -> bool:
            new = news.get(name)
            return _is_unknown(new) or new != olds.get(name)

        replaces = [name for name in ("appId", "namespace") if changed(name)]
        if news.get("ownerId") is not None and changed("ownerId"):
            replaces.append("ownerId")
        updates = [n for n in ("host", "adopt") if news.get(n) is not None and changed(n)]
        # Same app and namespace means the same key: the old redirection must go before the new one
        # can be made. Otherwise the new one is made first, so clients never lack a port.
        same_key = not changed("appId") and not changed("namespace")
        return DiffResult(
            changes=bool(replaces or updates),
            replaces=replaces,
            stables=[n for n in ("appId", "namespace", "ownerId") if n not in replaces],
            delete_before_replace=bool(replaces) and same_key,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = TcpRedirectionInputs.parse(props)
        session = self.session()
        client = session.client
        # Every look-up comes before the one write, so a failure leaves nothing behind.
        owner_id = session.owner_of(inputs.app_id, inputs.owner_id)
        host = inputs.host or session.default_host(owner_id, inputs.app_id, inputs.namespace)
        adopted = False
        try:
            redirection = client.add_tcp_redirection(owner_id, inputs.app_id, inputs.namespace)
        except errors.AlreadyExists as exc:
            existing = client.find_tcp_redirection(owner_id, inputs.app_id, inputs.namespace)
            if existing is None:
                raise
            if not inputs.adopt:
                raise errors.AlreadyExists(
                    exc.status,
                    f"application {inputs.app_id} already has a TCP redirection in namespace "
                    f"{inputs.namespace!r}, on port {existing.port}, that this stack does not record (made "
                    f"outside it, or by an earlier run whose answer was lost). To manage it here, set "
                    f"adopt=True on this resource; or remove it first with `clever tcp-redirs remove "
                    f"--namespace {inputs.namespace} {existing.port} --app {inputs.app_id}`",
                    exc.api_id,
                    operation="create TcpRedirection",
                ) from None
            redirection, adopted = existing, True
        except errors.NamespaceNotFound as exc:
            names = ", ".join(ns.namespace for ns in client.list_namespaces(owner_id))
            raise errors.NamespaceNotFound(
                exc.status,
                f"namespace {inputs.namespace!r} does not exist for owner {owner_id}; "
                f"its namespaces are: {names}",
                exc.api_id,
                operation="create TcpRedirection",
            ) from None
        return CreateResult(inputs.key, _outputs(inputs, owner_id, host, redirection.port, adopted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = TcpRedirectionInputs.parse(props)
        session = self.session()
        owner_id = props.get("ownerId") or session.owner_of(inputs.app_id, inputs.owner_id)
        found = session.client.find_tcp_redirection(owner_id, inputs.app_id, inputs.namespace)
        if found is None:
            return ReadResult(None, {})  # deleted outside Pulumi: the engine drops it from the state
        host = props.get("host")
        outs = _outputs(inputs, owner_id, host, found.port, bool(props.get("adopted")))
        # Only what is surely an input: the outputs cannot tell a given host or owner from a found one,
        # and a found one kept as an input would later look like an input the user removed.
        kept_inputs = {"appId": inputs.app_id, "namespace": inputs.namespace, "adopt": inputs.adopt}
        return ReadResult(id_, outs, kept_inputs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # diff allows only host and adopt in place: the redirection itself is not touched.
        inputs = TcpRedirectionInputs.parse(news)
        port = _state_port(olds)
        if port is None:
            raise errors.InputError("port", "the state holds no valid port; run `pulumi refresh` to read it back")
        owner_id = olds["ownerId"]
        if inputs.host:
            host = inputs.host
        elif news.get("host") == FIND_HOST:
            host = self.session().default_host(owner_id, inputs.app_id, inputs.namespace)
        else:
            host = olds.get("host")
        return UpdateResult(_outputs(inputs, owner_id, host, port, bool(olds.get("adopted"))))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = TcpRedirectionInputs.parse(props)
        session = self.session()
        owner_id = props.get("ownerId") or session.owner_of(inputs.app_id, inputs.owner_id)
        port = _state_port(props)
        if port is not None and session.client.remove_tcp_redirection(owner_id, inputs.app_id, inputs.namespace, port):
            return
        # The recorded port is gone or unreadable: this resource owns the app's redirection in its
        # namespace, whatever its port now is, so remove that one if there is one.
        current: TcpRedirection | None = session.client.find_tcp_redirection(owner_id, inputs.app_id, inputs.namespace)
        if current is not None:
            session.client.remove_tcp_redirection(owner_id, inputs.app_id, inputs.namespace, current.port)
