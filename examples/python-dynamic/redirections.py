"""Two TCP redirections for one application, and connection strings built from their ports."""

from __future__ import annotations

from typing import Optional

import pulumi

from clevercloud_tcp.dynamic import TcpRedirection


def declare_redirections(app_id: pulumi.Input[str], host: Optional[str] = None) -> dict[str, pulumi.Output]:
    """One public port on the cleverapps.io proxies, one on the proxies that serve custom domains."""
    cleverapps = TcpRedirection("redis-cleverapps", app_id=app_id, namespace="cleverapps")
    default = TcpRedirection("redis-default", app_id=app_id, namespace="default", host=host)
    redis_uri = pulumi.Output.all(default.host, default.port).apply(
        lambda host_port: f"redis://{host_port[0]}:{host_port[1]}" if host_port[0] else None
    )
    return {
        "cleverapps_port": cleverapps.port,
        "cleverapps_url": cleverapps.url,
        "default_port": default.port,
        "default_url": default.url,
        "redis_uri": redis_uri,
    }


def program() -> None:
    config = pulumi.Config()
    outputs = declare_redirections(config.require("appId"), config.get("host") or None)
    for name, value in outputs.items():
        pulumi.export(name, value)
