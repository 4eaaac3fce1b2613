"""The package's two functions, once for both faces: `getNamespaces` and `getTcpRedirections`.

Results are plain dicts keyed by the schema's names; each face turns them into its own values.
"""

from __future__ import annotations

from typing import Any

from .inputs import check_app_id, check_owner_id
from .session import Session


def get_namespaces(session: Session, owner_id: str | None = None, app_id: str | None = None) -> dict[str, Any]:
    """The namespaces an owner can use: `owner_id`, else the owner of `app_id` (found as a
    TcpRedirection finds it), else `clevercloud:organization`, else the user of the credentials."""
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
