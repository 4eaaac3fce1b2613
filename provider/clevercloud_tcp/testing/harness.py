"""Acts as the Pulumi engine towards a dynamic provider host, over gRPC (tests and benchmarks).

It starts `python -m pulumi.dynamic` as the engine does, reads the port it prints, and sends the
engine's requests with the serialized provider in `__provider`, exactly as a `pulumi up` would.
"""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from ..faces.dynamic import TcpRedirectionProvider

PROVIDER_KEY = "__provider"
# The engine's address as a provider process gets it; port 0 says there is no engine to dial (a provider
# dials its engine only for Construct and Call, which a TcpRedirection never needs).
NO_ENGINE = "127.0.0.1:0"
URN_PREFIX = "urn:pulumi:test::clevercloud-tcp::pulumi-python:dynamic/clevercloud-tcp:TcpRedirection::"


class StartupError(RuntimeError):
    """The provider process did not start or refused its config; one line naming the cause."""


@dataclass(frozen=True)
class Diff:
    changes: bool
    replaces: list[str]
    delete_before_replace: bool


@dataclass(frozen=True)
class Check:
    inputs: dict[str, Any]
    failures: list[tuple[str, str]] = field(default_factory=list)


def _from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct, keep_unknowns=True))


class ProviderHost:
    """`with ProviderHost(config) as host:` runs one provider process; `config` is the stack config.

    `plugin_harness.PluginHost` drives the native plugin through the same requests.
    """

    urn_prefix: ClassVar[str] = URN_PREFIX
    stderr: ClassVar[int | None] = None  # the process's stderr: the caller's, unless a subclass says otherwise
    process_name: ClassVar[str] = "the dynamic provider host (python -m pulumi.dynamic)"

    def __init__(
        self,
        config: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        engine: str = NO_ENGINE,
        configure: bool = True,
    ) -> None:
        """`engine`: the address handed to the process as the engine's; hosts given the same one act as the
        provider processes of one `pulumi` command (port 0: none, each process on its own). With
        `configure=False` the process is left unconfigured, as the engine leaves it for CheckConfig."""
        self.config = dict(config or {})
        self.engine = engine
        self.configure = configure
        self.provider_urn = ""  # the engine names the provider resource in Configure; here, no one
        self.env = dict(os.environ if env is None else env)
        # A private loop for serializing properties: asyncio.run would leave the calling thread
        # without a current event loop, which later pulumi code (mocks) expects to find.
        self._loop = asyncio.new_event_loop()
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self.port = 0  # the process's gRPC port, once started
        self.stub: provider_pb2_grpc.ResourceProviderStub

    def __enter__(self) -> ProviderHost:
        self._proc = subprocess.Popen(self._command(), stdout=subprocess.PIPE, stderr=self.stderr, env=self.env)
        assert self._proc.stdout is not None
        # `with` never reaches __exit__ when __enter__ raises: a failed start-up cleans up here.
        try:
            said = self._proc.stdout.readline().decode(errors="replace").strip()
            if not said.isdigit():
                how = f"printed {said[:200]!r} instead of its port" if said else "exited before printing its port"
                raise StartupError(f"{self.process_name}: {how}")
            self.port = int(said)
            self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
            self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
            if self.configure:
                request = provider_pb2.ConfigureRequest(args=self._struct(self.config), acceptSecrets=False, urn=self.provider_urn)
                self.stub.Configure(request)
        except grpc.RpcError as err:
            self._stop()
            raise StartupError(f"{self.process_name}: Configure refused: {err.details()}") from None
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        self._loop.close()

    @functools.cached_property
    def provider(self) -> str:
        """The pickled provider the engine passes in `__provider`, as a program serializes it."""
        return str(serialize_provider(TcpRedirectionProvider()))

    def _command(self) -> list[str]:
        """The provider process, as the engine starts it; it prints its port first."""
        return [sys.executable, "-u", "-m", "pulumi.dynamic", self.engine]

    def _struct(self, props: Mapping[str, Any]) -> struct_pb2.Struct:
        return self._loop.run_until_complete(rpc.serialize_properties(dict(props), {}))

    def _with_provider(self, props: Mapping[str, Any]) -> struct_pb2.Struct:
        return self._struct({**props, PROVIDER_KEY: self.provider})

    @staticmethod
    def _without_provider(props: dict[str, Any]) -> dict[str, Any]:
        props.pop(PROVIDER_KEY, None)
        return props

    def check(self, news: Mapping[str, Any], olds: Mapping[str, Any] | None = None, name: str = "r") -> Check:
        response = self.stub.Check(
            provider_pb2.CheckRequest(
                urn=self.urn_prefix + name, olds=self._with_provider(olds or {}), news=self._with_provider(news)
            )
        )
        return Check(
            self._without_provider(_from_struct(response.inputs)),
            [(f.property, f.reason) for f in response.failures],
        )

    def diff(self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], name: str = "r") -> Diff:
        response = self.stub.Diff(
            provider_pb2.DiffRequest(
                id=id_, urn=self.urn_prefix + name, olds=self._with_provider(olds), news=self._with_provider(news)
            )
        )
        return Diff(
            response.changes == provider_pb2.DiffResponse.DIFF_SOME,
            list(response.replaces),
            response.deleteBeforeReplace,
        )

    def create(self, inputs: Mapping[str, Any], name: str = "r") -> tuple[str, dict[str, Any]]:
        response = self.stub.Create(
            provider_pb2.CreateRequest(urn=self.urn_prefix + name, properties=self._with_provider(inputs))
        )
        return response.id, self._without_provider(_from_struct(response.properties))

    def read(self, id_: str, outputs: Mapping[str, Any], name: str = "r") -> tuple[str, dict[str, Any], dict[str, Any]]:
        response = self.stub.Read(
            provider_pb2.ReadRequest(id=id_, urn=self.urn_prefix + name, properties=self._with_provider(outputs))
        )
        return (
            response.id,
            self._without_provider(_from_struct(response.properties)),
            self._without_provider(_from_struct(response.inputs)),
        )

    def update(self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], name: str = "r") -> dict[str, Any]:
        response = self.stub.Update(
            provider_pb2.UpdateRequest(
                id=id_, urn=self.urn_prefix + name, olds=self._with_provider(olds), news=self._with_provider(news)
            )
        )
        return self._without_provider(_from_struct(response.properties))

    def delete(self, id_: str, outputs: Mapping[str, Any], name: str = "r") -> None:
        self.stub.Delete(
            provider_pb2.DeleteRequest(id=id_, urn=self.urn_prefix + name, properties=self._with_provider(outputs))
        )

    def apply(self, inputs: Mapping[str, Any], name: str = "r") -> tuple[str, dict[str, Any]]:
        """check then create, as `pulumi up` does for a new resource; raises on check failures."""
        checked = self.check(inputs, name=name)
        if checked.failures:
            raise ValueError(f"check failed: {checked.failures}")
        return self.create(checked.inputs, name=name)
