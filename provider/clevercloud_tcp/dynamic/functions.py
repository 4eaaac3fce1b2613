"""Look-ups for programs that need to see before they declare.

Dynamic providers have no invokes, so these call the API from the program itself, with the same
credentials the provider uses (stack config, then environment, then the `clever login` profile).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ..faces.dynamic import invoke


@dataclass(frozen=True)
class GetNamespacesResult:
    owner_id: str
    """The owner whose namespaces these are."""
    namespaces: list[str]
    """The namespaces this owner can use, sorted."""


@dataclass(frozen=True)
class TcpRedirectionInfo:
    namespace: str
    """The namespace serving the port."""
    port: int
    """The public port."""


@dataclass(frozen=True)
class GetTcpRedirectionsResult:
    app_id: str
    """The application."""
    owner_id: str
    """Its owner, as given or found."""
    redirections: list[TcpRedirectionInfo]
    """The application's redirections, one per namespace, sorted by namespace."""


def get_namespaces(owner_id: str | None = None, app_id: str | None = None) -> GetNamespacesResult:
    """The namespaces an owner can use.

    The owner is `owner_id`; else the owner of `app_id` (found as `TcpRedirection` finds it: give it for
    an application that lives in an organisation); else the configured organization
    (`clevercloud-tcp:organization`, or `clevercloud:organization`); else the user of the credentials.
    """
    found = invoke("getNamespaces", {"ownerId": owner_id, "appId": app_id})
    return GetNamespacesResult(owner_id=found["ownerId"], namespaces=found["namespaces"])


def get_tcp_redirections(app_id: str, owner_id: str | None = None) -> GetTcpRedirectionsResult:
    """An application's TCP redirections as the API holds them now, one per namespace, sorted by namespace."""
    found = invoke("getTcpRedirections", {"appId": app_id, "ownerId": owner_id})
    return GetTcpRedirectionsResult(
        app_id=found["appId"],
        owner_id=found["ownerId"],
        redirections=[TcpRedirectionInfo(r["namespace"], r["port"]) for r in found["redirections"]],
    )


def get_tcp_redirections_output(
    app_id: pulumi.Input[str], owner_id: pulumi.Input[str] | None = None
) -> pulumi.Output[GetTcpRedirectionsResult]:
    """`get_tcp_redirections` for an `app_id` known only once another resource exists."""
    return pulumi.Output.all(app_id, owner_id).apply(lambda v: get_tcp_redirections(v[0], v[1]))
