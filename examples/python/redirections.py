"""Two TCP redirections for one application, and connection strings built from their ports."""

from __future__ import annotations

import pulumi

from pulumi_clevercloud_tcp import TcpRedirection


def program() -> None:
    config = pulumi.Config()
    app_id = config.require("appId")

    # One public port on the cleverapps.io proxies, one on the proxies that serve custom domains.
    cleverapps = TcpRedirection("redis-cleverapps", app_id=app_id, namespace="cleverapps")
    default = TcpRedirection("redis-default", app_id=app_id, namespace="default", host=config.get("host") or None)

    pulumi.export("cleverapps_port", cleverapps.port)
    pulumi.export("cleverapps_url", cleverapps.url)
    pulumi.export("default_port", default.port)
    pulumi.export("default_url", default.url)
    pulumi.export(
        "redis_uri",
        pulumi.Output.all(default.host, default.port).apply(
            lambda hp: f"redis://{hp[0]}:{hp[1]}" if hp[0] else None
        ),
    )
