"""The infrastructure code under test, as a user writes it: an MQTT broker reachable on two namespaces.

`program(TcpRedirection)` is the same program on either SDK: `clevercloud_tcp.dynamic` (dynamic
provider) or `pulumi_clevercloud_tcp` (the plugin); both take `app_id` and `namespace`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi


def program(TcpRedirection: Callable[..., Any]) -> Callable[[], None]:
    def declare() -> None:
        app_id = pulumi.Config().require("appId")
        public = TcpRedirection("mqtt-public", app_id=app_id, namespace="cleverapps")
        private = TcpRedirection("mqtt-private", app_id=app_id, namespace="default")
        pulumi.export("publicUrl", public.url)
        pulumi.export("brokerUri", pulumi.Output.concat("mqtt://", private.host, ":", private.port.apply(str)))

    return declare
