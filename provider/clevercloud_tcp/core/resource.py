"""The rules of a `TcpRedirection`, once, for both Pulumi faces (dynamic provider and plugin).

Nothing here knows Pulumi: operations take and return plain dicts keyed by the schema's property names
(camelCase, as stored in the state), and unknown values are this module's `UNKNOWN`. Each face
translates its protocol's values to these and back, and nothing more.

The resource's id is `<app_id>/<namespace>`: one redirection per application and namespace, so the id
alone says what to look for (import, refresh, recovery).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeGuard

from .. import errors
from .inputs import (
    DEFAULT_NAMESPACE,
    FIND_HOST,
    INPUTS,
    OWNER_ID,
    VALIDATORS,
    TcpRedirectionInputs,
    check_app_id,
    check_namespace,
    tcp_url,
)
from .session import Session

log = logging.getLogger("clevercloud_tcp")


class _Unknown:
    """A value known only once another resource exists (during a preview, or before its create)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
# Outputs that only the API knows: unknown in a preview of a new resource.
COMPUTED = ("port", "url", "adopted")


@dataclass(frozen=True)
class Failure:
    """A refused input: `prop` is the property name, `reason` says what is expected."""

    prop: str
    reason: str


@dataclass(frozen=True)
class Checked:
    inputs: dict[str, Any]
    failures: list[Failure] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """What a change of inputs does: nothing, an update in place, or a replace (in which order)."""

    changes: bool
    replaces: list[str]
    updates: list[str]
    stables: list[str]
    delete_before_replace: bool


@dataclass(frozen=True)
class Found:
    """What a refresh (or an import) read back: the id, the outputs and the inputs to keep."""

    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any]


class Deleted(enum.Enum):
    REMOVED = "removed"
    ALREADY_GONE = "already gone"
    LEFT_IN_PLACE = "left in place: another resource of this deployment made or adopted it"


def check(olds: Mapping[str, Any], news: Mapping[str, Any]) -> Checked:
    """Validates the inputs before anything is sent; `olds` are the inputs of the last deployment."""
    inputs = {k: news[k] for k in INPUTS if news.get(k) is not None}
    inputs.setdefault("namespace", DEFAULT_NAMESPACE)
    inputs.setdefault("adopt", False)
    failures = []
    if "appId" not in inputs:
        failures.append(Failure("appId", "required: the id (app_<uuid>) of the application"))
    for name, value in inputs.items():
        if value is UNKNOWN:
            continue  # known only after the resource it comes from exists
        try:
            inputs[name] = VALIDATORS[name](value)
        except errors.InputError as exc:
            failures.append(Failure(name, exc.reason))
    if news.get("host") is None and olds.get("host"):
        # A host given before is now left out: the outputs cannot tell a given host from a found one,
        # so this marker tells diff and update to find the application's domain again.
        inputs["host"] = FIND_HOST
    return Checked(inputs, failures)


def plan(olds: Mapping[str, Any], news: Mapping[str, Any], session: Callable[[], Session]) -> Plan:
    """The change from the recorded outputs `olds` to the checked inputs `news`.

    `session` is asked for only when a change cannot be undone once started (see below); a plan with
    no such change makes no API call.
    """

    def changed(name: str) -> bool:
        new = news.get(name)
        return new is UNKNOWN or new != olds.get(name)

    replaces = [name for name in ("appId", "namespace") if changed(name)]
    if news.get("ownerId") is not None and changed("ownerId"):
        replaces.append("ownerId")
    updates = [n for n in ("host", "adopt") if news.get(n) is not None and changed(n)]
    # Same app and namespace means the same key: the old redirection must go before the new one can be
    # made. Otherwise the new one is made first, so clients never lack a port.
    same_key = not changed("appId") and not changed("namespace")
    if "ownerId" in replaces and same_key and news["ownerId"] is not UNKNOWN:
        _check_new_owner(session(), news["ownerId"], news["appId"])
    return Plan(
        changes=bool(replaces or updates),
        replaces=replaces,
        updates=updates,
        stables=[n for n in ("appId", "namespace", "ownerId") if n not in replaces],
        delete_before_replace=bool(replaces) and same_key,
    )


def _check_new_owner(session: Session, owner_id: str, app_id: str) -> None:
    """An owner change deletes the live redirection before making the new one: a wrong owner would
    lose the port for nothing, so one read under the new owner comes first."""
    try:
        session.client.list_tcp_redirections(owner_id, app_id)
    except errors.ApiError as exc:
        raise errors.InputError(
            "ownerId",
            f"{owner_id} is not an owner of application {app_id} that these credentials can use "
            f"(HTTP {exc.status}: {exc.api_message}); nothing was changed: the current redirection stays",
        ) from None


def outputs_of(inputs: TcpRedirectionInputs, owner_id: str, host: str | None, port: int, adopted: bool) -> dict[str, Any]:
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


def preview(props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """What a preview of a new resource shows, without any API call: what only the API knows is unknown."""
    known = {k: v for k, v in props.items() if k in INPUTS and v is not UNKNOWN and v != FIND_HOST}
    app_id, namespace = known.get("appId"), known.get("namespace", DEFAULT_NAMESPACE)
    outputs = {name: UNKNOWN for name in ("appId", "namespace", "ownerId", "host", "adopt", *COMPUTED)}
    outputs.update(known)
    return (f"{app_id}/{namespace}" if app_id and namespace else ""), outputs


def preview_update(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """What a preview of an update in place shows: a host to be found again, and its url, are unknown."""
    outputs = {**olds, **{k: v for k, v in news.items() if k in INPUTS and v is not None}}
    if news.get("host") == FIND_HOST:
        outputs["host"] = UNKNOWN
    if outputs.get("host") != olds.get("host"):
        outputs["url"] = UNKNOWN if outputs["host"] is UNKNOWN else tcp_url(outputs["host"], state_port(olds))
    return outputs


def _conflict(exc: errors.AlreadyExists, inputs: TcpRedirectionInputs, port: int) -> errors.Unrecorded:
    return errors.Unrecorded(
        exc.status,
        f"application {inputs.app_id} already has a TCP redirection in namespace {inputs.namespace!r}, on "
        f"port {port}, that this stack does not record (made outside it, by an earlier run whose answer "
        f"was lost, or by a resource you renamed). If you renamed a resource, declare the old name in its "
        f"`aliases` option so Pulumi moves it instead; to take this one over, set `adopt` to true on this "
        f"resource (adopt=True in Python); or remove it first with `clever tcp-redirs remove --namespace {inputs.namespace} {port} "
        f"--app {inputs.app_id}`",
        exc.api_id,
        operation="create TcpRedirection",
        hint="",
    )


def create(session: Session, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Every look-up, then the one write. An existing redirection is taken over only with `adopt`, or
    during a recovery (`CLEVERCLOUD_TCP_RECOVER`), where it is the interrupted run's own (not `adopted`)."""
    inputs = TcpRedirectionInputs.parse(props)
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
        if not (inputs.adopt or session.recovering):
            raise _conflict(exc, inputs, existing.port) from None
        redirection, adopted = existing, inputs.adopt
    except errors.NamespaceNotFound as exc:
        names = ", ".join(ns.namespace for ns in client.list_namespaces(owner_id))
        raise errors.NamespaceNotFound(
            exc.status,
            f"namespace {inputs.namespace!r} does not exist for owner {owner_id}; its namespaces are: {names}",
            exc.api_id,
            operation="create TcpRedirection",
            hint="",
        ) from None
    session.ledger.record((owner_id, inputs.app_id, inputs.namespace, redirection.port))
    return inputs.key, outputs_of(inputs, owner_id, host, redirection.port, adopted)


def parse_id(id_: str) -> tuple[str, str]:
    """`<app_id>/<namespace>` as (app_id, namespace), or an InputError saying what an id looks like."""
    app_id, _, namespace = id_.partition("/")
    try:
        return check_app_id(app_id), check_namespace(namespace)
    except errors.InputError as exc:
        raise errors.InputError(
            "id", f"expected <{errors.named('appId')}>/<namespace>, e.g. app_<uuid>/cleverapps, got {id_!r} ({exc.reason})"
        ) from None


def read(session: Session, id_: str, outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> Found | None:
    """The redirection as the API holds it now; None when it is gone.

    With no outputs (an import), everything comes from the id, and a missing redirection is an error.
    """
    importing = not outputs
    app_id, namespace = parse_id(id_)
    given = {k: v for k, v in inputs.items() if k in INPUTS and v is not None and v != FIND_HOST}
    kept = TcpRedirectionInputs.parse({"adopt": False, **given, "appId": app_id, "namespace": namespace})
    # A recorded owner that is no owner id is found again: this is what `pulumi refresh` runs.
    recorded = outputs.get("ownerId")
    owner_id = recorded if _is_owner_id(recorded) else session.owner_of(app_id, kept.owner_id)
    found = session.client.find_tcp_redirection(owner_id, app_id, namespace)
    if found is None:
        if importing:
            raise errors.RedirectionNotFound(
                404,
                f"application {app_id} has no TCP redirection in namespace {namespace!r}",
                operation="import TcpRedirection",
                hint=f"`clever tcp-redirs --app {app_id}` lists the ones it has.",
            )
        return None  # deleted outside Pulumi: the engine drops it from the state
    host = kept.host or (outputs.get("host") if not importing else session.default_host(owner_id, app_id, namespace))
    state = outputs_of(kept, owner_id, host, found.port, bool(outputs.get("adopted")))
    return Found(id_, state, {**given, "appId": app_id, "namespace": namespace} if importing else dict(inputs))


def state_port(props: Mapping[str, Any]) -> int | None:
    """The port recorded in the state, or None when it is not a plausible port (damaged state)."""
    port = props.get("port")
    if isinstance(port, bool) or not isinstance(port, (int, float)) or port != int(port):
        return None
    return int(port) if 1 <= port <= 65535 else None


def _recorded_port(id_: str, props: Mapping[str, Any]) -> int:
    port = state_port(props)
    if port is None:
        raise errors.InputError(
            "port",
            f"the state of {id_} records no valid port ({props.get('port')!r}); run `pulumi refresh` to read "
            "it back from the API, then run this command again",
        )
    return port


def _is_owner_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and OWNER_ID.fullmatch(value) is not None


def _recorded_owner(id_: str, props: Mapping[str, Any]) -> str | None:
    """The owner the state records (None when it records none), checked as an input is before it enters a
    URL path: an owner `..` must never reach `/v2/applications/…`."""
    owner = props.get("ownerId")
    if owner in (None, "") or _is_owner_id(owner):
        return owner
    raise errors.InputError(
        "owner_id",
        f"the state of {id_} records an owner that is no owner id ({str(owner)[:60]!r}); run `pulumi refresh` "
        "to find it again from the API, then run this command again",
    )


def update(session: Session, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """`host` or `adopt` changed (plan allows nothing else in place): the redirection is not touched."""
    inputs = TcpRedirectionInputs.parse(news)
    port = _recorded_port(id_, olds)
    owner_id = _recorded_owner(id_, olds) or session.owner_of(inputs.app_id, inputs.owner_id)
    host: str | None
    if inputs.host:
        host = inputs.host
    elif news.get("host") == FIND_HOST:
        host = session.default_host(owner_id, inputs.app_id, inputs.namespace)
    else:
        host = olds.get("host")
    return outputs_of(inputs, owner_id, host, port, bool(olds.get("adopted")))


def delete(session: Session, id_: str, props: Mapping[str, Any]) -> Deleted:
    """Removes the port the state records, and only that one: a port made since by someone else stays."""
    inputs = TcpRedirectionInputs.parse(props)
    port = _recorded_port(id_, props)
    owner_id = _recorded_owner(id_, props) or session.owner_of(inputs.app_id, inputs.owner_id)
    if session.ledger.holds((owner_id, inputs.app_id, inputs.namespace, port)):
        outcome = Deleted.LEFT_IN_PLACE
    elif session.client.remove_tcp_redirection(owner_id, inputs.app_id, inputs.namespace, port):
        outcome = Deleted.REMOVED
    else:
        outcome = Deleted.ALREADY_GONE
    # The user must hear of a port left open: the faces pass warnings on to the engine, which shows them.
    level = logging.WARNING if outcome is Deleted.LEFT_IN_PLACE else logging.INFO
    log.log(level, "clevercloud-tcp: delete %s (port %d): %s", id_, port, outcome.value)
    return outcome
