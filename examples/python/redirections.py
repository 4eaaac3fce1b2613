"""Two TCP redirections for one application through the native plugin, and what the API holds."""

from __future__ import annotations

import pulumi
import pulumi_clevercloud_tcp as clevercloud_tcp


def declare_redirections(app_id: str, namespace: str) -> dict[str, pulumi.Output]:
    """One public port on the cleverapps.io proxies, one on `namespace` (custom domains by default)."""
    cleverapps = clevercloud_tcp.TcpRedirection("cleverapps", app_id=app_id, namespace="cleverapps")
    primary = clevercloud_tcp.TcpRedirection("primary", app_id=app_id, namespace=namespace)
    # The owner's namespaces, found from the application as the resources find it.
    namespaces = clevercloud_tcp.get_namespaces_output(app_id=app_id)
    return {
        "cleverappsPort": cleverapps.port,
        "cleverappsUrl": cleverapps.url,
        "primaryPort": primary.port,
        "primaryNamespace": primary.namespace,
        "mqttUri": pulumi.Output.format("mqtt://{0}:{1}", primary.host, primary.port),
        "namespaces": namespaces.namespaces,
        "redirections": clevercloud_tcp.get_tcp_redirections_output(app_id=primary.app_id).redirections,
    }


def program() -> None:
    config = pulumi.Config()
    outputs = declare_redirections(config.require("appId"), config.get("namespace") or "default")
    for name, value in outputs.items():
        pulumi.export(name, value)
