"""The native plugin from a Python Automation API program: examples/python, through the generated SDK.

The same life cycle as the YAML project (up, preview, refresh after out-of-band changes, replace,
destroy), plus `ResourceOptions(import_=...)` and the two functions served by Invoke.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pulumi_clevercloud_tcp as cctcp
import pytest
from pulumi import automation as auto
from pydantic import SecretStr

from clevercloud_tcp import CleverCloudClient, OAuthCredentials
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.testing import load_module
from faces import PLUGIN
from support import SECRET, TOKEN, StackFactory, held_ports, quiet, recorded_ports

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "python"
PROJECT = "clevercloud-tcp-python"
MQTT_APP = "app_1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c"
OWNER = "orga_3b5a6c1e-6f0a-4c3e-9d7e-1f2a3b4c5d6e"
MQTT_CLEVERAPPS = "app-1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c.cleverapps.io"


@pytest.fixture
def plugin_stack(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> Callable[..., auto.Stack]:
    def build(program: Callable[[], None], config: dict[str, str] | None = None, **kwargs: Any) -> auto.Stack:
        return make_stack(
            program,
            config={**PLUGIN.keys({"clevercloud:endpoint": e2e_emulator.url}), **(config or {})},
            secrets=PLUGIN.keys({"clevercloud:token": TOKEN, "clevercloud:secret": SECRET}),
            **kwargs,
        )

    return build


@pytest.fixture
def api(e2e_emulator: EmulatorProcess) -> CleverCloudClient:
    return CleverCloudClient(e2e_emulator.url, OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(SECRET)))


def outputs(stack: auto.Stack) -> dict[str, Any]:
    return {k: v.value for k, v in stack.outputs().items()}


EXAMPLE = load_module("example_native", EXAMPLE_DIR / "redirections.py")


def test_life_cycle_through_the_generated_python_sdk(
    plugin_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess, api: CleverCloudClient
) -> None:
    stack = plugin_stack(EXAMPLE.program, project=PROJECT, config={f"{PROJECT}:appId": MQTT_APP})

    stack.up(color="never", on_output=quiet)
    out = outputs(stack)
    assert held_ports(e2e_emulator) == {"cleverapps": out["cleverappsPort"], "default": out["primaryPort"]} == recorded_ports(stack.export_stack().deployment)
    assert out["cleverappsUrl"] == f"tcp://{MQTT_CLEVERAPPS}:{out['cleverappsPort']}"
    assert out["namespaces"] == ["acme-dedicated", "cleverapps", "default"]  # the organisation's, found from the app
    assert out["redirections"] == [{"namespace": ns, "port": port} for ns, port in sorted(held_ports(e2e_emulator).items())]
    assert out["mqttUri"] == f"mqtt://broker.acme.example:{out['primaryPort']}"

    e2e_emulator.clear_log()
    preview = stack.preview(color="never", on_output=quiet)
    assert {k for k, n in preview.change_summary.items() if n} == {"same"}
    # The resources ask the API nothing; the two functions ask once each (and find the owner once).
    assert e2e_emulator.writes() == []
    assert sorted(e["route"] for e in e2e_emulator.log()) == sorted([
        "/v2/summary",
        "/v2/organisations/{owner_id}/namespaces",
        "/v2/organisations/{owner_id}/applications/{app_id}/tcpRedirs",
    ])

    api.remove_tcp_redirection(OWNER, MQTT_APP, "default", out["primaryPort"])
    stack.refresh(color="never", on_output=quiet)
    assert set(recorded_ports(stack.export_stack().deployment)) == {"cleverapps"}
    old = held_ports(e2e_emulator)["cleverapps"]
    api.remove_tcp_redirection(OWNER, MQTT_APP, "cleverapps", old)
    again = api.add_tcp_redirection(OWNER, MQTT_APP, "cleverapps").port
    stack.refresh(color="never", on_output=quiet)
    assert recorded_ports(stack.export_stack().deployment) == {"cleverapps": again}

    stack.set_config(f"{PROJECT}:namespace", auto.ConfigValue("acme-dedicated"))
    e2e_emulator.clear_log()
    stack.up(color="never", on_output=quiet)
    assert set(held_ports(e2e_emulator)) == {"cleverapps", "acme-dedicated"}
    assert recorded_ports(stack.export_stack().deployment) == held_ports(e2e_emulator)
    assert outputs(stack)["primaryNamespace"] == "acme-dedicated"

    stack.destroy(color="never", on_output=quiet)
    assert held_ports(e2e_emulator) == {} and recorded_ports(stack.export_stack().deployment) == {}


def test_import_option_takes_over_and_destroy_deletes(
    plugin_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess, api: CleverCloudClient
) -> None:
    existing = api.add_tcp_redirection(OWNER, MQTT_APP, "cleverapps").port
    e2e_emulator.clear_log()

    def program() -> None:
        taken = cctcp.TcpRedirection(
            "taken", app_id=MQTT_APP, namespace="cleverapps",
            opts=pulumi.ResourceOptions(import_=f"{MQTT_APP}/cleverapps"),
        )
        pulumi.export("port", taken.port)

    stack = plugin_stack(program)
    result = stack.up(color="never", on_output=quiet)
    assert result.summary.resource_changes.get("import") == 1, result.summary.resource_changes
    assert outputs(stack)["port"] == existing
    assert e2e_emulator.writes() == []

    preview = stack.preview(color="never", on_output=quiet)
    assert {k for k, n in preview.change_summary.items() if n} == {"same"}
    stack.destroy(color="never", on_output=quiet)
    assert held_ports(e2e_emulator) == {}


def test_a_failure_reads_as_one_line_of_ours(
    plugin_stack: Callable[..., auto.Stack], e2e_emulator: EmulatorProcess, api: CleverCloudClient
) -> None:
    existing = api.add_tcp_redirection(OWNER, MQTT_APP, "default").port

    def program() -> None:
        cctcp.TcpRedirection("primary", app_id=MQTT_APP, namespace="default")

    with pytest.raises(auto.errors.CommandError) as refused:
        plugin_stack(program).up(color="never", on_output=quiet)
    message = str(refused.value)
    assert f"on port {existing}, that this stack does not record" in message
    assert "Traceback" not in message and "File \"" not in message
