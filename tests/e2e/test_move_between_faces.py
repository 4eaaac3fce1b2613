"""A stack moves from the dynamic provider to the plugin and keeps every port (docs/dynamic-provider.md).

Through the real engine, as a Python program changes `clevercloud_tcp.dynamic.TcpRedirection` into
`pulumi_clevercloud_tcp.TcpRedirection`: with the alias the docs give, the engine moves each resource
without a single API write; with adopt=True and no alias, the plugin takes the port over and the dynamic
provider's delete of the old resource, in another process of the same command, leaves it in place.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_clevercloud_tcp
import pytest
from pulumi import automation as auto

import clevercloud_tcp.dynamic
from clevercloud_tcp.emulator import Fixture
from clevercloud_tcp.emulator.fixture import App, organisation_fixture
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime.local_stack import engine_env
from support import SECRET, TOKEN, StackFactory, held, plain_export, quiet, recorded

ORG = "orga_6a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
USER = "user_6a2b3c4d-5e6f-4a7b-8c9d-000000000001"
APPS = [f"app_{i:08x}-1111-4000-8000-{i:012x}" for i in range(1, 6)]
NAMESPACES = ("default", "cleverapps")
# The alias a program gives each resource when it moves to the plugin (docs/dynamic-provider.md).
DYNAMIC_TYPE = "pulumi-python:dynamic/clevercloud-tcp:TcpRedirection"
PLUGIN_TYPE = "clevercloud-tcp:index:TcpRedirection"


def five_apps() -> Fixture:
    return organisation_fixture(
        user_id=USER, org_id=ORG, token=TOKEN, secret=SECRET, apps=[App(id=app, name=f"app-{i}", vhosts=[f"app-{i}.example.com"]) for i, app in enumerate(APPS)]
    )


def face_program(face: str, *, adopt: bool = False, alias: bool = False, apps: list[str] = APPS) -> Callable[[], None]:
    """A redirection per app and namespace, declared through `face`, its outputs exported."""

    def program() -> None:
        for app in apps:
            for namespace in NAMESPACES:
                name = f"{app[4:12]}-{namespace}"
                if face == "dynamic":
                    redirection: Any = clevercloud_tcp.dynamic.TcpRedirection(name, app_id=app, namespace=namespace)
                else:
                    opts = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=DYNAMIC_TYPE)] if alias else None)
                    redirection = pulumi_clevercloud_tcp.TcpRedirection(name, opts=opts, app_id=app, namespace=namespace, adopt=adopt or None)
                pulumi.export(name, {"port": redirection.port, "url": redirection.url, "id": redirection.id})

    return program


@pytest.fixture
def fixture_data() -> Fixture:
    return five_apps()


@pytest.fixture
def moving_stack(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> Callable[[Callable[[], None]], auto.Stack]:
    """The same stack, run with the program given; config in `clevercloud-tcp:*`, which both faces read."""

    def build(program: Callable[[], None]) -> auto.Stack:
        return make_stack(
            program,
            config={"clevercloud-tcp:endpoint": e2e_emulator.url},
            secrets={"clevercloud-tcp:token": TOKEN, "clevercloud-tcp:secret": SECRET},
        )

    return build


def types(stack: auto.Stack) -> set[str]:
    return {r["type"] for r in stack.export_stack().deployment["resources"] if r["type"].endswith(":TcpRedirection")}


def outputs(result: auto.UpResult | auto.RefreshResult | Any) -> dict[str, Any]:
    return {name: value.value for name, value in result.outputs.items()}


def test_the_alias_moves_ten_redirections_to_the_plugin_without_an_api_write(
    moving_stack: Callable[[Callable[[], None]], auto.Stack], e2e_emulator: EmulatorProcess
) -> None:
    before = moving_stack(face_program("dynamic")).up(color="never", on_output=quiet)
    held_before = sorted(held(e2e_emulator))
    assert len(held_before) == 10

    stack = moving_stack(face_program("plugin", alias=True))
    e2e_emulator.clear_log()
    preview = stack.preview(color="never", on_output=quiet)
    assert preview.change_summary == {"same": 11}, "the preview of the move shows changes"
    moved = stack.up(color="never", on_output=quiet)

    assert e2e_emulator.writes() == []
    assert moved.summary.resource_changes == {"same": 11}
    assert outputs(moved) == outputs(before), "a port, url or id changed in the move"
    assert sorted(held(e2e_emulator)) == held_before
    assert types(stack) == {PLUGIN_TYPE}
    assert sorted(recorded(stack.export_stack().deployment)) == held_before

    assert stack.preview(color="never", on_output=quiet, expect_no_changes=True).change_summary == {"same": 11}
    stack.refresh(color="never", on_output=quiet, expect_no_changes=True)
    assert e2e_emulator.writes() == []
    stack.destroy(color="never", on_output=quiet)
    assert held(e2e_emulator) == []


def test_adopt_without_the_alias_keeps_the_port_the_old_resource_named(
    moving_stack: Callable[[Callable[[], None]], auto.Stack], e2e_emulator: EmulatorProcess
) -> None:
    """The engine creates the plugin's resource (adopting the port), then has the dynamic provider, in
    its own process, delete the old one: that delete must leave the port alone."""
    app = APPS[0]
    moving_stack(face_program("dynamic", apps=[app])).up(color="never", on_output=quiet)
    held_before = sorted(held(e2e_emulator))

    stack = moving_stack(face_program("plugin", adopt=True, apps=[app]))
    moved = stack.up(color="never", on_output=quiet)

    assert moved.summary.resource_changes == {"create": 2, "delete": 2, "same": 1}
    assert sorted(held(e2e_emulator)) == held_before, "the old resource's delete removed the port the plugin adopted"
    assert sorted(recorded(stack.export_stack().deployment)) == held_before, "each port recorded once, by the plugin's resource"
    assert types(stack) == {PLUGIN_TYPE}
    ports = {namespace: port for _, namespace, port in held_before}
    assert {name: value["port"] for name, value in outputs(moved).items()} == {f"{app[4:12]}-{ns}": ports[ns] for ns in NAMESPACES}
    stack.refresh(color="never", on_output=quiet, expect_no_changes=True)
    stack.destroy(color="never", on_output=quiet)
    assert held(e2e_emulator) == []


def test_state_delete_then_import_moves_a_redirection_reading_only(
    moving_stack: Callable[[Callable[[], None]], auto.Stack], e2e_emulator: EmulatorProcess, pulumi_cli: Path, tmp_path: Path
) -> None:
    """The route of a program that changes language: the dynamic resource leaves the state, the plugin imports it."""
    app = APPS[0]
    old = moving_stack(face_program("dynamic", apps=[app])).up(color="never", on_output=quiet)
    held_before = sorted(held(e2e_emulator))
    e2e_emulator.clear_log()

    state_dir = tmp_path / "pulumi"
    for resource in json.loads(plain_export(pulumi_cli, state_dir))["deployment"]["resources"]:
        if resource["type"] == DYNAMIC_TYPE:
            cli = [str(pulumi_cli / "pulumi"), "state", "delete", resource["urn"], "--yes", "--stack", "dev"]
            subprocess.run(cli, cwd=state_dir, env={**os.environ, **engine_env(pulumi_cli, state_dir)}, check=True, capture_output=True)

    def imported() -> None:
        for namespace in NAMESPACES:
            name = f"{app[4:12]}-{namespace}"
            redirection = pulumi_clevercloud_tcp.TcpRedirection(
                name, app_id=app, namespace=namespace, opts=pulumi.ResourceOptions(import_=f"{app}/{namespace}")
            )
            pulumi.export(name, {"port": redirection.port, "url": redirection.url, "id": redirection.id})

    stack = moving_stack(imported)
    moved = stack.up(color="never", on_output=quiet)
    assert e2e_emulator.writes() == []
    assert outputs(moved) == outputs(old)
    assert sorted(held(e2e_emulator)) == held_before and types(stack) == {PLUGIN_TYPE}
    stack.destroy(color="never", on_output=quiet)
    assert held(e2e_emulator) == []
