"""The native plugin through the plain `pulumi` CLI: examples/yaml, as a user runs it, against the emulator.

After each step the test checks what the emulator holds against what the state records.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from pydantic import SecretStr

from clevercloud_tcp import CleverCloudClient, OAuthCredentials
from clevercloud_tcp.emulator.process import EmulatorProcess
from cli_project import CliError, CliProject
from support import MQTT_APP, SECRET, TOKEN, held_ports, recorded_ports

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "yaml"
OWNER = "orga_3b5a6c1e-6f0a-4c3e-9d7e-1f2a3b4c5d6e"
MQTT_CLEVERAPPS = "app-1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c.cleverapps.io"
MQTT_FAVOURITE = "broker.acme.example"


@pytest.fixture
def project(pulumi_cli: Path, e2e_emulator: EmulatorProcess, tmp_path: Path) -> CliProject:
    return CliProject(EXAMPLE, tmp_path, pulumi_cli).init(e2e_emulator, TOKEN, SECRET, appId=MQTT_APP)


@pytest.fixture
def api(e2e_emulator: EmulatorProcess) -> CleverCloudClient:
    return CleverCloudClient(e2e_emulator.url, OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(SECRET)))


def test_up_preview_refresh_replace_destroy(project: CliProject, e2e_emulator: EmulatorProcess, api: CleverCloudClient) -> None:
    project.run("up", "--yes")
    out = project.outputs()
    assert held_ports(e2e_emulator, MQTT_APP) == {"cleverapps": out["cleverappsPort"], "default": out["primaryPort"]}
    assert recorded_ports(project.deployment()) == held_ports(e2e_emulator, MQTT_APP)
    assert out["cleverappsUrl"] == f"tcp://{MQTT_CLEVERAPPS}:{out['cleverappsPort']}"
    assert out["primaryUrl"] == f"tcp://{MQTT_FAVOURITE}:{out['primaryPort']}"
    assert out["mqttUri"] == f"mqtt://{MQTT_FAVOURITE}:{out['primaryPort']}"
    assert project.resources()["primary"]["id"] == f"{MQTT_APP}/default"

    # No change: the preview says so and asks the API nothing.
    e2e_emulator.clear_log()
    project.run("preview", "--expect-no-changes")
    assert e2e_emulator.log() == []

    # Removed outside Pulumi: a refresh drops it from the state; the next up makes it again.
    api.remove_tcp_redirection(OWNER, MQTT_APP, "default", out["primaryPort"])
    project.run("refresh", "--yes")
    assert set(project.resources()) == {"cleverapps"}
    project.run("up", "--yes")
    assert recorded_ports(project.deployment()) == held_ports(e2e_emulator, MQTT_APP) and set(held_ports(e2e_emulator, MQTT_APP)) == {"cleverapps", "default"}

    # Re-created outside with another port: a refresh records the new port.
    old = held_ports(e2e_emulator, MQTT_APP)["cleverapps"]
    api.remove_tcp_redirection(OWNER, MQTT_APP, "cleverapps", old)
    blocker = api.add_tcp_redirection(OWNER, "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b", "cleverapps")
    again = api.add_tcp_redirection(OWNER, MQTT_APP, "cleverapps").port
    assert again != old or blocker.port != old
    project.run("refresh", "--yes")
    assert recorded_ports(project.deployment())["cleverapps"] == again == held_ports(e2e_emulator, MQTT_APP)["cleverapps"]
    api.remove_tcp_redirection(OWNER, "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b", "cleverapps", blocker.port)

    # A namespace change replaces, making the new port before the old one goes.
    before = held_ports(e2e_emulator, MQTT_APP)["default"]
    e2e_emulator.clear_log()
    project.set_config("namespace", "acme-dedicated")
    project.run("up", "--yes")
    writes = [(w["method"], w["path"]) for w in e2e_emulator.writes()]
    assert [m for m, _ in writes] == ["POST", "DELETE"], writes
    assert writes[1][1].endswith(f"/tcpRedirs/{before}")
    assert set(held_ports(e2e_emulator, MQTT_APP)) == {"cleverapps", "acme-dedicated"}
    assert recorded_ports(project.deployment()) == held_ports(e2e_emulator, MQTT_APP)
    assert project.outputs()["primaryPort"] == held_ports(e2e_emulator, MQTT_APP)["acme-dedicated"]

    project.run("destroy", "--yes")
    assert held_ports(e2e_emulator, MQTT_APP) == {}
    assert project.resources() == {}


def test_import_takes_over_existing_redirections(project: CliProject, e2e_emulator: EmulatorProcess, api: CleverCloudClient) -> None:
    ports = {ns: api.add_tcp_redirection(OWNER, MQTT_APP, ns).port for ns in ("cleverapps", "default")}

    for name, namespace in (("cleverapps", "cleverapps"), ("primary", "default")):
        project.run("import", "clevercloud-tcp:index:TcpRedirection", name, f"{MQTT_APP}/{namespace}", "--protect=false", "--yes")

    assert recorded_ports(project.deployment()) == ports
    assert project.resources()["primary"]["url"] == f"tcp://{MQTT_FAVOURITE}:{ports['default']}"
    e2e_emulator.clear_log()
    project.run("preview", "--expect-no-changes")  # the program declares exactly what was imported
    assert e2e_emulator.writes() == []
    project.run("destroy", "--yes")
    assert held_ports(e2e_emulator, MQTT_APP) == {}


def test_import_of_a_missing_redirection_names_the_app_and_namespace(project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    with pytest.raises(CliError) as failed:
        project.run("import", "clevercloud-tcp:index:TcpRedirection", "primary", f"{MQTT_APP}/default", "--yes")
    assert f"application {MQTT_APP} has no TCP redirection in namespace 'default'" in str(failed.value)
    assert "Traceback" not in str(failed.value)
    assert e2e_emulator.writes() == []


def test_bad_input_and_config_typos_are_refused_before_any_write(project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    project.set_config("appId", "my-app")
    with pytest.raises(CliError) as bad_app:
        project.run("up", "--yes")
    assert "property appId value {my-app} has a problem: expected an application id like app_<uuid>" in str(bad_app.value)
    assert "Traceback" not in str(bad_app.value)

    project.set_config("appId", MQTT_APP)
    project.set_config("clevercloud-tcp:endpiont", "https://example.invalid")
    with pytest.raises(CliError) as typo:
        project.run("up", "--yes")
    assert "did you mean clevercloud-tcp:endpoint?" in str(typo.value)
    assert e2e_emulator.writes() == []
    assert held_ports(e2e_emulator, MQTT_APP) == {}


def test_api_errors_name_inputs_as_the_yaml_program_writes_them(project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    unseen = "app_00000000-0000-4000-8000-000000000000"  # well formed, but not among the credentials' applications
    project.set_config("appId", unseen)
    with pytest.raises(CliError) as failed:
        project.run("up", "--yes")
    message = str(failed.value)
    assert f"find the owner of appId: HTTP 404: application {unseen} is not among" in message
    assert "Check appId," in message
    assert "app_id" not in message and "owner_id" not in message
    assert e2e_emulator.writes() == []


def test_secrets_stay_out_of_the_state(project: CliProject) -> None:
    project.run("up", "--yes")
    state = project.export_text()
    assert TOKEN not in state and SECRET not in state
    assert "__provider" not in state


def test_the_cli_reads_the_plugins_schema(project: CliProject) -> None:
    plugin = Path(sys.executable).parent / "pulumi-resource-clevercloud-tcp"
    served = json.loads(project.run("package", "get-schema", str(plugin)).stdout)
    assert served == json.loads((REPO_ROOT / "schema.json").read_text())


@pytest.mark.parametrize("way", ["installed", "Pulumi.yaml"])
def test_the_engine_finds_the_plugin_without_path(way: str, project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    # PULUMI_IGNORE_AMBIENT_PLUGINS hides the plugin on PATH: only the way under test can find it.
    project.env["PULUMI_IGNORE_AMBIENT_PLUGINS"] = "true"
    if way == "installed":
        done = subprocess.run(
            [sys.executable, "-m", "clevercloud_tcp.faces.plugin.install"], env=project.env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert f"installed resource plugin clevercloud-tcp {version('clevercloud-tcp')}" in done.stdout
    else:
        settings = project.dir / "Pulumi.yaml"
        folder = Path(sys.executable).parent
        settings.write_text(settings.read_text() + f"plugins:\n  providers:\n    - name: clevercloud-tcp\n      path: {folder}\n")
    project.run("up", "--yes")
    assert set(held_ports(e2e_emulator, MQTT_APP)) == {"cleverapps", "default"}
    project.run("destroy", "--yes")
