"""Acts as the Pulumi engine towards the native plugin `pulumi-resource-clevercloud-tcp`, over gRPC.

The same requests as `ProviderHost` (harness.py) sends to the dynamic provider host, with the plugin's
resource type in the URN and no `__provider` among the properties. The config is the plugin's own
namespace, keys without their prefix, as the engine passes it: `endpoint`, `token`, `secret`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2

from ..config import PACKAGE
from ..faces.plugin import TYPE
from .harness import NO_ENGINE, ProviderHost

PLUGIN = "pulumi-resource-clevercloud-tcp"
__all__ = ["NO_ENGINE", "PLUGIN", "PluginHost"]


class PluginHost(ProviderHost):
    """`with PluginHost({"endpoint": …, "token": …, "secret": …}) as host:` runs one plugin process.

    `provider` names the provider resource it serves: `default` (the stack config's), or the name of an
    explicit provider, whose settings are its arguments.
    """

    urn_prefix: ClassVar[str] = f"urn:pulumi:test::clevercloud-tcp::{TYPE}::"
    # The plugin logs each API request at INFO, which the engine keeps for `-v`; here nobody reads it.
    stderr: ClassVar[int | None] = subprocess.DEVNULL
    process_name: ClassVar[str] = f"the plugin {PLUGIN}"

    def __init__(self, config: Mapping[str, Any] | None = None, *, provider: str = "default", **host: Any) -> None:
        super().__init__(config, **host)
        self.provider_urn = f"urn:pulumi:test::clevercloud-tcp::pulumi:providers:{PACKAGE}::{provider}"

    def check_config(self, settings: Mapping[str, Any]) -> list[str]:
        """CheckConfig as the engine sends it at preview, before Configure: the reasons of its failures."""
        request = provider_pb2.CheckRequest(urn=self.provider_urn, olds=self._struct({}), news=self._struct(settings))
        return [failure.reason for failure in self.stub.CheckConfig(request).failures]

    def _command(self) -> list[str]:
        # The console script beside this interpreter, as the engine finds it on PATH in a virtualenv.
        return [sys.executable, "-u", str(Path(sys.executable).parent / PLUGIN), self.engine]

    def _with_provider(self, props: Mapping[str, Any]) -> struct_pb2.Struct:
        return self._struct(props)  # a plugin is its own code: nothing to pass in `__provider`


class PackagedPluginHost(PluginHost):
    """The plugin host running a release's executable instead of the console script; `prefix` runs it
    under another command (`chroot ROOT env -i`, `strace …`)."""

    def __init__(self, executable: Path | str, config: Mapping[str, str], prefix: Sequence[str] = ()) -> None:
        super().__init__(config)
        self.executable, self.prefix = str(executable), list(prefix)

    def _command(self) -> list[str]:
        return [*self.prefix, self.executable, NO_ENGINE]
