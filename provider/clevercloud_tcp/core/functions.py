"""The package's two functions, once for both faces: `getNamespaces` and `getTcpRedirections`.

Results are plain dicts keyed by the schema's names; each face turns them into its own values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import errors
from .inputs import check_app_id, check_owner_id
from .session import Session


def get_namespaces(session: Session, owner_id: str | None = None, app_id: str | None = None) -> dict[str, Any]:
    """The namespaces an owner can use: `owner_id`, else the owner of `app_id` (found as a
    TcpRedirection finds it), else the configured organization, else the user of the credentials."""
    if owner_id is not None:
        owner = check_owner_id(owner_id)
    elif app_id is not None:
        owner = session.owner_of(check_app_id(app_id), None)
    else:
        owner = session.settings.organization or session.client.summary().user.id
    names = sorted(ns.namespace for ns in session.client.list_namespaces(owner))
    return {"ownerId": owner, "namespaces": names}


def get_tcp_redirections(session: Session, app_id: str, owner_id: str | None = None) -> dict[str, Any]:
    """An application's redirections as the API holds them now, one per namespace, sorted by namespace."""
    app = check_app_id(app_id)
    owner = session.owner_of(app, check_owner_id(owner_id) if owner_id is not None else None)
    found = sorted(session.client.list_tcp_redirections(owner, app), key=lambda r: r.namespace)
    return {
        "appId": app,
        "ownerId": owner,
        "redirections": [{"namespace": r.namespace, "port": r.port} for r in found],
    }


# By the schema's function names (`clevercloud-tcp:index:<name>`), taking the schema's argument names.
FUNCTIONS: dict[str, Callable[[Session, Mapping[str, Any]], dict[str, Any]]] = {
    "getNamespaces": lambda session, args: get_namespaces(session, args.get("ownerId"), args.get("appId")),
    "getTcpRedirections": lambda session, args: get_tcp_redirections(session, args.get("appId", ""), args.get("ownerId")),
}


def call(name: str, session: Session, args: Mapping[str, Any]) -> dict[str, Any]:
    """The function `name` with `args`; a name that is not one of the package's is a ConfigurationError."""
    if name not in FUNCTIONS:
        raise errors.ConfigurationError(f"{name} is not a function of clevercloud-tcp (it has {', '.join(FUNCTIONS)})")
    return FUNCTIONS[name](session, {k: v for k, v in args.items() if v is not None})
