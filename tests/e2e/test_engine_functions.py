"""The SDK's look-ups inside a program run by the real engine, with credentials from secret stack config."""

from __future__ import annotations

import pulumi

from clevercloud_tcp.dynamic import TcpRedirection, get_namespaces, get_tcp_redirections_output
from clevercloud_tcp.emulator.process import EmulatorProcess
from support import StackFactory

APP = "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b"
OWNER = "orga_3b5a6c1e-6f0a-4c3e-9d7e-1f2a3b4c5d6e"


def program() -> None:
    pulumi.export("namespaces", get_namespaces(OWNER).namespaces)
    redirection = TcpRedirection("db", app_id=APP, namespace="cleverapps")
    # Looked up once the redirection exists: the port the API lists is the resource's.
    listed = get_tcp_redirections_output(redirection.app_id.apply(lambda app: app), redirection.owner_id)
    pulumi.export("listed", pulumi.Output.all(redirection.port, listed).apply(
        lambda v: [{"namespace": r.namespace, "port": r.port} for r in v[1].redirections]
    ))
    pulumi.export("port", redirection.port)


def test_look_ups_see_what_the_stack_made(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> None:
    stack = make_stack(program)

    outputs = stack.up(color="never", on_output=lambda _: None).outputs

    assert outputs["namespaces"].value == ["acme-dedicated", "cleverapps", "default"]
    assert outputs["listed"].value == [{"namespace": "cleverapps", "port": outputs["port"].value}]
