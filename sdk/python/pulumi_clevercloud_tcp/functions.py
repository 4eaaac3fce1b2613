"""Look-ups for programs that need to see before they declare.

Dynamic providers have no invokes, so these call the API from the program itself, with the same
credentials the provider uses (stack config, then environment, then the `clever login` profile).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi.runtime
from clevercloud_tcp.client import CleverCloudClient
from clevercloud_tcp.credentials import ALL_CONFIG_KEYS, resolve_settings
from clevercloud_tcp.inputs import check_app_id, check_owner_id


@dataclass(frozen=True)
class GetNamespacesResult:
    owner_id: str
    """The owner whose namespaces these are."""
    namespaces: list[str]
    """The namespaces this owner can use, sorted."""


@dataclass(frozen=True)
class TcpRedirectionInfo:
    namespace: str
    port: int


@dataclass(frozen=True)
class GetTcpRedirectionsResult:
    app_id: str
    owner_id: str
    redirections: list[TcpRedirectionInfo]
    """The application's redirections, one per namespace, sorted by namespace."""


def _client() -> tuple[CleverCloudClient, Optional[str]]:
    config = {key: value for key in ALL_CONFIG_KEYS if (value := pulumi.runtime.get_config(key)) is not None}
    settings = resolve_settings(config)
    return CleverCloudClient.from_settings(settings), settings.organization


def get_namespaces(owner_id: Optional[str] = None) -> GetNamespacesResult:
    """The namespaces an owner can use; the owner defaults to `clevercloud:organization`, else the user."""
    client, organization = _client()
    with client:
        owner = check_owner_id(owner_id) if owner_id else organization or client.summary().user.id
        names = sorted(ns.namespace for ns in client.list_namespaces(owner))
    return GetNamespacesResult(owner_id=owner, namespaces=names)


def get_tcp_redirections(app_id: str, owner_id: Optional[str] = None) -> GetTcpRedirectionsResult:
    """An application's TCP redirections as the API holds them now."""
    check_app_id(app_id)
    client, organization = _client()
    with client:
        owner = check_owner_id(owner_id) if owner_id else organization or client.find_owner(app_id)
        found = sorted(client.list_tcp_redirections(owner, app_id), key=lambda r: r.namespace)
    return GetTcpRedirectionsResult(
        app_id=app_id, owner_id=owner, redirections=[TcpRedirectionInfo(r.namespace, r.port) for r in found]
    )


def get_tcp_redirections_output(
    app_id: pulumi.Input[str], owner_id: Optional[pulumi.Input[str]] = None
) -> pulumi.Output[GetTcpRedirectionsResult]:
    """`get_tcp_redirections` for an `app_id` known only once another resource exists."""
    return pulumi.Output.all(app_id, owner_id).apply(lambda v: get_tcp_redirections(v[0], v[1]))
