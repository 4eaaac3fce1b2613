"""The two faces of the provider, as a test program declares a redirection through each.

- `dynamic`: the hand-written SDK `clevercloud_tcp.dynamic` (a Python dynamic provider); it reads the
  whole stack config, so `clevercloud:*` keys work.
- `plugin`: the generated SDK `pulumi_clevercloud_tcp` of the native plugin
  `pulumi-resource-clevercloud-tcp` (found on PATH: this interpreter's scripts folder); the engine
  hands a plugin its own namespace only, so its keys are `clevercloud-tcp:*`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_clevercloud_tcp

import clevercloud_tcp.dynamic


@dataclass(frozen=True)
class Face:
    name: str
    type_token: str
    config_namespace: str

    def redirection(self, name: str, opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> Any:
        given = {k: v for k, v in inputs.items() if v is not None}
        if self.name == "dynamic":
            return clevercloud_tcp.dynamic.TcpRedirection(name, opts, **given)
        return pulumi_clevercloud_tcp.TcpRedirection(name, opts=opts, **given)

    def keys(self, config: Mapping[str, str]) -> dict[str, str]:
        """`clevercloud:name` keys as this face reads them."""
        return {k.replace("clevercloud:", f"{self.config_namespace}:", 1): v for k, v in config.items()}


DYNAMIC = Face("dynamic", "pulumi-python:dynamic/clevercloud-tcp:TcpRedirection", "clevercloud")
PLUGIN = Face("plugin", "clevercloud-tcp:index:TcpRedirection", "clevercloud-tcp")
FACES = [DYNAMIC, PLUGIN]
