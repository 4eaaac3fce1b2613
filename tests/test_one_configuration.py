"""One configuration per provider process: a second Configure, sent from outside the engine to a provider's
gRPC port (open to every local process), must not send the credentials to an endpoint of its choosing."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from clevercloud_tcp.core.session import SECOND_CONFIGURE
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.faces.dynamic import TcpRedirectionProvider
from clevercloud_tcp.testing.harness import ProviderHost
from clevercloud_tcp.testing.plugin_harness import PluginHost
from support import GAME_APP, OWNER, SECRET, TOKEN, bare_env

API_TOKEN = "emulator-api-token"
# The credentials sit in the provider's environment, as the issue reproduced it.
CREDENTIALS = {"oauth": {"CLEVER_TOKEN": TOKEN, "CLEVER_SECRET": SECRET}, "api-token": {"CLEVER_API_TOKEN": API_TOKEN}}


class Listener:
    """A socket server on 127.0.0.1 that keeps every byte it receives and answers nothing."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.received = b""
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    while chunk := conn.recv(65536):
                        self.received += chunk
                except OSError:
                    pass

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def configure_from_elsewhere(host: ProviderHost, config: dict[str, str]) -> grpc.RpcError | None:
    """A Configure from another gRPC client than the engine: the error it met, if any."""
    with grpc.insecure_channel(f"127.0.0.1:{host.port}") as channel:
        stub = provider_pb2_grpc.ResourceProviderStub(channel)
        try:
            stub.Configure(provider_pb2.ConfigureRequest(args=host._struct(config), acceptSecrets=True, urn=host.provider_urn))
        except grpc.RpcError as err:
            return err
    return None


@pytest.mark.parametrize("credentials", CREDENTIALS)
def test_a_second_configure_of_the_plugin_is_refused_and_sends_nothing(
    emulator: EmulatorProcess, listener: Listener, tmp_path: Path, credentials: str
) -> None:
    env = bare_env(tmp_path, **CREDENTIALS[credentials])
    # Plain http opted into: the refusal of the second Configure is what keeps the credentials home.
    with PluginHost({"endpoint": emulator.url, "allowHttp": "true"}, env=env) as host:
        refused = configure_from_elsewhere(host, {"endpoint": listener.url})
        answer = host.stub.Invoke(
            provider_pb2.InvokeRequest(tok="clevercloud-tcp:index:getNamespaces", args=host._struct({"ownerId": OWNER}))
        )

    assert refused is not None and refused.details() == SECOND_CONFIGURE
    assert "default" in str(getattr(answer, "return"))  # the engine's settings still serve: the emulator answered
    assert listener.received == b""


def test_a_second_configure_of_the_dynamic_host_reaches_no_provider(
    emulator: EmulatorProcess, listener: Listener, tmp_path: Path
) -> None:
    env = bare_env(tmp_path, **CREDENTIALS["oauth"])
    with ProviderHost({"clevercloud-tcp:endpoint": emulator.url, "clevercloud-tcp:allowHttp": "true"}, env=env) as host:
        host.check({"appId": GAME_APP})  # the engine's provider, configured with the engine's settings
        assert configure_from_elsewhere(host, {"clevercloud-tcp:endpoint": listener.url}) is None  # the host takes it
        # The host configures each provider it unpickles anew with the settings of the last Configure:
        # another pickle of the provider gets the outsider's settings, and must refuse them.
        other = TcpRedirectionProvider()
        other.__dict__["variant"] = 1
        host.provider = str(serialize_provider(other))
        checked = host.check({"appId": GAME_APP})
        with pytest.raises(grpc.RpcError) as create:
            host.create({"appId": GAME_APP, "namespace": "default"})

    assert [reason for _, reason in checked.failures] == [SECOND_CONFIGURE]
    assert SECOND_CONFIGURE in str(create.value.details())
    assert listener.received == b""
    assert emulator.log() == []
