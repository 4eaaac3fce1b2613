"""`host` through the real engine: given, changed, then left out again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

from clevercloud_tcp.dynamic import TcpRedirection
from clevercloud_tcp.emulator.process import EmulatorProcess
from support import APP, StackFactory


def program_with_host(settings: dict[str, Any]) -> Callable[[], None]:
    """One redirection whose `host` is read from `settings` on each run."""

    def program() -> None:
        redirection = TcpRedirection("db", app_id=APP, namespace="default", host=settings["host"])
        pulumi.export("url", redirection.url)
        pulumi.export("port", redirection.port)

    return program


def test_host_given_changed_then_left_out(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> None:
    settings: dict[str, Any] = {"host": "db.example.com"}

    stack = make_stack(program_with_host(settings))
    first = stack.up(color="never", on_output=lambda _: None).outputs
    port = first["port"].value
    assert first["url"].value == f"tcp://db.example.com:{port}"

    settings["host"] = "db2.example.com"
    e2e_emulator.clear_log()
    changed = stack.up(color="never", on_output=lambda _: None)
    assert changed.summary.resource_changes.get("update") == 1
    assert changed.outputs["url"].value == f"tcp://db2.example.com:{port}"
    assert e2e_emulator.log() == []  # a new host touches nothing in the API

    settings["host"] = None
    left_out = stack.up(color="never", on_output=lambda _: None)
    assert left_out.outputs["url"].value == f"tcp://cache.acme.example:{port}"  # the app's custom domain
    assert e2e_emulator.writes() == []

    settled = stack.preview(color="never", on_output=lambda _: None)
    assert set(settled.change_summary) == {"same"}


def test_a_given_host_survives_a_refresh_and_leaving_it_out_is_still_noticed(
    make_stack: StackFactory, e2e_emulator: EmulatorProcess
) -> None:
    settings: dict[str, Any] = {"host": "db.example.com"}

    stack = make_stack(program_with_host(settings))
    port = stack.up(color="never", on_output=lambda _: None).outputs["port"].value
    stack.refresh(color="never", on_output=lambda _: None)
    assert set(stack.preview(color="never", on_output=lambda _: None).change_summary) == {"same"}

    settings["host"] = None
    left_out = stack.up(color="never", on_output=lambda _: None)
    assert left_out.summary.resource_changes.get("update") == 1, left_out.summary.resource_changes
    assert left_out.outputs["url"].value == f"tcp://cache.acme.example:{port}"
