"""Serves the plugin over gRPC as the engine expects, with errors as one line of our own words.

The provider SDK's servicer turns every exception into its text plus a Python traceback. Users should
read the message we wrote, so each RPC here ends, on failure, with that message alone.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from typing import Any, TypeVar

import grpc
import grpc.aio
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime.proto import provider_pb2_grpc

from ...errors import CleverCloudError, schema_name
from ...hosting import engine_address, start_provider_process
from ..engine_log import pass_warnings_to
from .face import TcpRedirectionPlugin

# The RPCs this plugin serves: each one of the servicer's, wrapped below.
RPCS = ("CheckConfig", "Configure", "Check", "Diff", "Create", "Read", "Update", "Delete", "Invoke", "GetSchema")
# Property maps can be large (the engine's own limit); the engine may be slow to read a first request.
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
    ("grpc.server_max_unrequested_time_in_server", 30 * 60),
]
T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]


def _message(exc: BaseException) -> str:
    # The SDK's wrapper re-raises as a new Exception from inside its handler: ours is the context.
    # Inputs are named as TypeScript, Go and YAML programs write them (`appId`).
    for candidate in (exc, exc.__context__):
        if isinstance(candidate, CleverCloudError):
            return candidate.spelled(schema_name)
    return f"internal error of the clevercloud-tcp provider: {exc.__context__ or exc}".splitlines()[0]


async def _one_line(rpc: Callable[[Any, Context], Awaitable[T]], request: Any, context: Context) -> T:
    try:
        return await rpc(request, context)
    except Exception as exc:
        await context.abort(grpc.StatusCode.UNKNOWN, _message(exc))
        raise  # abort raises; this line is for type checkers


class OneLineErrors(ProviderServicer):
    """The provider SDK's servicer, with errors reported as their message only."""

    def __init__(self, args: list[str], version: str, plugin: TcpRedirectionPlugin, engine: str) -> None:
        super().__init__(args, version, plugin, engine_address=engine)
        self.plugin = plugin

    async def CheckConfig(self, request: Any, context: Context) -> Any:
        return await _one_line(super().CheckConfig, request, context)

    async def Configure(self, request: Any, context: Context) -> Any:
        self.plugin.serve(request.urn)  # the SDK's request leaves the provider's URN out
        return await _one_line(super().Configure, request, context)

    async def Check(self, request: Any, context: Context) -> Any:
        return await _one_line(super().Check, request, context)

    async def Diff(self, request: Any, context: Context) -> Any:
        return await _one_line(super().Diff, request, context)

    async def Create(self, request: Any, context: Context) -> Any:
        return await _one_line(super().Create, request, context)

    async def Read(self, request: Any, context: Context) -> Any:
        return await _one_line(super().Read, request, context)

    async def Update(self, request: Any, context: Context) -> Any:
        return await _one_line(super().Update, request, context)

    async def Delete(self, request: Any, context: Context) -> Any:
        return await _one_line(super().Delete, request, context)

    async def Invoke(self, request: Any, context: Context) -> Any:
        return await _one_line(super().Invoke, request, context)

    async def GetSchema(self, request: Any, context: Context) -> Any:
        return await _one_line(super().GetSchema, request, context)


def package_version() -> str:
    return version("clevercloud-tcp")


async def _serve(engine: str) -> None:
    server = grpc.aio.server(options=CHANNEL_OPTIONS)
    run = engine_address([engine])
    pass_warnings_to(run)
    servicer = OneLineErrors(sys.argv[1:], package_version(), TcpRedirectionPlugin(run=run), engine)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)  # the engine reads the port from the first line
    await server.wait_for_termination()


def main() -> None:
    """`pulumi-resource-clevercloud-tcp ENGINE_ADDRESS`: started by the engine, not by users."""
    parser = argparse.ArgumentParser(
        prog="pulumi-resource-clevercloud-tcp",
        description="Pulumi provider plugin for Clever Cloud TCP redirections (started by the pulumi engine).",
    )
    parser.add_argument("engine", help="address of the engine that started this plugin")
    parser.add_argument("--version", action="version", version=package_version())
    args, _ = parser.parse_known_args()
    start_provider_process()
    try:
        asyncio.run(_serve(args.engine))
    except KeyboardInterrupt:
        pass
