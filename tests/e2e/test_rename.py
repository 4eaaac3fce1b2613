"""Renaming a resource never removes the redirection a resource of the stack still records.

Through the real engine, for both faces: with an alias Pulumi moves it (no API call); without one the
create of the new name fails naming `aliases`; with adopt=True the new name takes the port over and
the old name's delete leaves it in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from clevercloud_tcp.emulator.process import EmulatorProcess
from faces import FACES, Face
from support import APP, SECRET, TOKEN, StackFactory, held_ports, quiet


@pytest.fixture(params=FACES, ids=[f.name for f in FACES])
def face(request: pytest.FixtureRequest) -> Face:
    return request.param


@pytest.fixture
def renamed_stack(face: Face, make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> Callable[[dict[str, Any]], auto.Stack]:
    def build(settings: dict[str, Any]) -> auto.Stack:
        def program() -> None:
            aliases = [pulumi.Alias(name=settings["alias"])] if settings.get("alias") else None
            redirection = face.redirection(
                settings["name"], pulumi.ResourceOptions(aliases=aliases), app_id=APP, adopt=settings.get("adopt")
            )
            pulumi.export("port", redirection.port)

        return make_stack(
            program,
            config=face.keys({"clevercloud:endpoint": e2e_emulator.url}),
            secrets=face.keys({"clevercloud:token": TOKEN, "clevercloud:secret": SECRET}),
        )

    return build


def ports_by_name(stack: auto.Stack) -> dict[str, int]:
    """The port each resource name records."""
    resources = stack.export_stack().deployment.get("resources", [])
    return {r["urn"].rsplit("::", 1)[1]: int(r["outputs"]["port"]) for r in resources if r["type"].endswith(":TcpRedirection")}


def test_rename_with_adopt_and_no_alias_keeps_the_port(
    renamed_stack: Callable[[dict[str, Any]], auto.Stack], e2e_emulator: EmulatorProcess, face: Face
) -> None:
    settings: dict[str, Any] = {"name": "a"}
    stack = renamed_stack(settings)
    port = int(stack.up(color="never", on_output=quiet).outputs["port"].value)

    settings.update(name="b", adopt=True)
    result = stack.up(color="never", on_output=quiet)

    assert result.summary.result == "succeeded"
    assert ports_by_name(stack) == {"b": port}
    assert list(held_ports(e2e_emulator).values()) == [port], "the old name's delete removed the port the new name records"
    # The user hears of it among the engine's warnings, not only in the provider's log.
    diagnostics = [line.strip() for line in result.stdout.partition("Diagnostics:")[2].splitlines()]
    warnings = [line for line in diagnostics if line.startswith("warning:") and "left in place" in line]
    assert len(warnings) == 1 and f"(port {port})" in warnings[0], result.stdout
    if face.name == "plugin":  # under the resource deleted (the dynamic provider host does not say which)
        before = diagnostics[: diagnostics.index(warnings[0])]
        assert [line for line in before if line.endswith(":")][-1].endswith("TcpRedirection (a):"), result.stdout


def test_rename_without_alias_or_adopt_fails_naming_aliases(renamed_stack: Callable[[dict[str, Any]], auto.Stack], e2e_emulator: EmulatorProcess) -> None:
    settings: dict[str, Any] = {"name": "a"}
    stack = renamed_stack(settings)
    port = int(stack.up(color="never", on_output=quiet).outputs["port"].value)

    settings["name"] = "b"
    with pytest.raises(auto.errors.CommandError) as refused:
        stack.up(color="never", on_output=quiet)
    assert "aliases" in str(refused.value)
    assert ports_by_name(stack) == {"a": port} and list(held_ports(e2e_emulator).values()) == [port]

    settings["alias"] = "a"
    e2e_emulator.clear_log()
    moved = stack.up(color="never", on_output=quiet)
    assert moved.summary.result == "succeeded"
    assert ports_by_name(stack) == {"b": port} and list(held_ports(e2e_emulator).values()) == [port]
    assert e2e_emulator.writes() == []
