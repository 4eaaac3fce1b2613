"""The provider through the real `pulumi` engine: up, preview, refresh, destroy against the emulator.

Each test has its own emulator, state directory and stack (see conftest.py). Nothing here measures time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi import automation as auto
from pydantic import SecretStr

from clevercloud_tcp import CleverCloudClient, OAuthCredentials
from clevercloud_tcp.dynamic import TcpRedirection
from clevercloud_tcp.emulator.fixture import DEFAULT_FIXTURE, ORG_ID
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.testing import load_module
from support import SECRET, TOKEN, StackFactory, held

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO_ROOT / "examples" / "python-dynamic"
PROJECT = "clevercloud-tcp-example"

MQTT_APP = "app_1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c"  # mqtt-broker of ORG_ID
MQTT_CLEVERAPPS = "app-1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c.cleverapps.io"
MQTT_FAVOURITE = "broker.acme.example"
RESOURCE_TYPE = "pulumi-python:dynamic/clevercloud-tcp:TcpRedirection"
NAMESPACE_RANGES = {ns.name: (ns.min_port, ns.max_port) for ns in DEFAULT_FIXTURE.namespaces}
URL = re.compile(r"^tcp://(?P<host>[a-z0-9.-]+):(?P<port>\d+)$")



EXAMPLE = load_module("example_redirections", EXAMPLE_DIR / "redirections.py")


def example_stack(make_stack: StackFactory, **config: str) -> auto.Stack:
    return make_stack(EXAMPLE.program, config={f"{PROJECT}:appId": MQTT_APP, **config})


def single_redirection(settings: dict[str, Any]) -> Callable[[], None]:
    """A program with one redirection whose inputs are read from `settings` on each run."""

    def program() -> None:
        redirection = TcpRedirection(
            "tcp", app_id=settings.get("app_id", MQTT_APP), namespace=settings.get("namespace", "default")
        )
        pulumi.export("port", redirection.port)
        pulumi.export("namespace", redirection.namespace)
        pulumi.export("url", redirection.url)

    return program


def outputs(result: auto.UpResult | auto.Stack) -> dict[str, Any]:
    values = result.outputs if isinstance(result, auto.UpResult) else result.outputs()
    return {name: value.value for name, value in values.items()}


def state_resources(stack: auto.Stack) -> list[dict[str, Any]]:
    deployment = stack.export_stack().deployment
    return [r for r in deployment.get("resources", []) if r["type"] == RESOURCE_TYPE]


def api_client(emu: EmulatorProcess) -> CleverCloudClient:
    return CleverCloudClient(emu.url, OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(SECRET)))


def only_changes(summary: dict[str, int] | None) -> set[str]:
    return {op for op, count in (summary or {}).items() if count}


def in_range(namespace: str, port: Any) -> bool:
    low, high = NAMESPACE_RANGES[namespace]
    return isinstance(port, (int, float)) and port == int(port) and low <= port <= high


def test_example_project_file_is_a_valid_pulumi_project() -> None:
    project = yaml.safe_load((EXAMPLE_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    runtime = project["runtime"]
    assert (runtime["name"] if isinstance(runtime, dict) else runtime) == "python"
    assert "appId" in project["config"]
    assert (EXAMPLE_DIR / "__main__.py").is_file()
    assert callable(EXAMPLE.program)


def test_up_example_outputs_match_the_api(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> None:
    stack = example_stack(make_stack)
    result = stack.up(color="never", on_output=lambda _: None)

    assert result.summary.result == "succeeded"
    assert only_changes(result.summary.resource_changes) == {"create"}
    out = outputs(result)
    assert in_range("cleverapps", out["cleverapps_port"])
    assert in_range("default", out["default_port"])
    assert set(held(e2e_emulator)) == {
        (MQTT_APP, "cleverapps", int(out["cleverapps_port"])),
        (MQTT_APP, "default", int(out["default_port"])),
    }
    assert {r["owner_id"] for r in e2e_emulator.redirections()} == {ORG_ID}

    cleverapps_url = URL.match(out["cleverapps_url"])
    default_url = URL.match(out["default_url"])
    assert cleverapps_url and default_url, out
    assert cleverapps_url["host"] == MQTT_CLEVERAPPS
    assert int(cleverapps_url["port"]) == out["cleverapps_port"]
    assert default_url["host"] == MQTT_FAVOURITE
    assert int(default_url["port"]) == out["default_port"]
    assert out["redis_uri"] == f"redis://{MQTT_FAVOURITE}:{int(out['default_port'])}"


def test_preview_after_up_changes_nothing_and_calls_no_api(
    make_stack: StackFactory, e2e_emulator: EmulatorProcess
) -> None:
    stack = example_stack(make_stack)
    stack.up(color="never", on_output=lambda _: None)
    before = set(held(e2e_emulator))
    e2e_emulator.clear_log()

    preview = stack.preview(color="never", on_output=lambda _: None)

    assert only_changes(preview.change_summary) == {"same"}
    assert e2e_emulator.writes() == []
    # Preview makes no API request at all, reads included: check and diff work on the inputs and
    # the state alone, and the provider builds its client only when a method needs it.
    assert e2e_emulator.log() == []
    assert set(held(e2e_emulator)) == before


def test_second_up_without_change_is_a_no_op(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> None:
    stack = example_stack(make_stack)
    first = outputs(stack.up(color="never", on_output=lambda _: None))
    before = set(held(e2e_emulator))
    e2e_emulator.clear_log()

    second = stack.up(color="never", on_output=lambda _: None)

    assert only_changes(second.summary.resource_changes) == {"same"}
    assert outputs(second) == first
    assert set(held(e2e_emulator)) == before
    assert e2e_emulator.writes() == []


def test_namespace_change_replaces_create_before_delete(
    make_stack: StackFactory, e2e_emulator: EmulatorProcess
) -> None:
    settings = {"namespace": "default"}
    stack = make_stack(single_redirection(settings))
    old_port = int(outputs(stack.up(color="never", on_output=lambda _: None))["port"])
    assert set(held(e2e_emulator)) == {(MQTT_APP, "default", old_port)}
    e2e_emulator.clear_log()

    settings["namespace"] = "cleverapps"
    result = stack.up(color="never", on_output=lambda _: None)

    # The stack resource itself stays "same".
    assert result.summary.resource_changes == {"replace": 1, "same": 1}, result.summary.resource_changes
    new = outputs(result)
    assert new["namespace"] == "cleverapps"
    new_port = int(new["port"])
    assert in_range("cleverapps", new_port)
    assert new["url"] == f"tcp://{MQTT_CLEVERAPPS}:{new_port}"

    writes = [(w["method"], w["path"]) for w in e2e_emulator.writes()]
    posts = [i for i, (method, _) in enumerate(writes) if method == "POST"]
    deletes = [i for i, (method, path) in enumerate(writes) if method == "DELETE"]
    assert len(posts) == 1 and len(deletes) == 1, writes
    assert writes[deletes[0]][1].endswith(f"/tcpRedirs/{old_port}"), writes
    assert posts[0] < deletes[0], f"the new redirection must be made before the old one goes: {writes}"
    assert set(held(e2e_emulator)) == {(MQTT_APP, "cleverapps", new_port)}


def test_refresh_notices_out_of_band_changes(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> None:
    stack = make_stack(single_redirection({"namespace": "default"}))
    port = int(outputs(stack.up(color="never", on_output=lambda _: None))["port"])
    assert len(state_resources(stack)) == 1

    # Deleted outside Pulumi: refresh drops it from the state, up makes it again.
    with api_client(e2e_emulator) as client:
        assert client.remove_tcp_redirection(ORG_ID, MQTT_APP, "default", port)
    assert set(held(e2e_emulator)) == set()
    refresh = stack.refresh(color="never", on_output=lambda _: None)
    assert refresh.summary.result == "succeeded"
    assert state_resources(stack) == []

    again = stack.up(color="never", on_output=lambda _: None)
    assert only_changes(again.summary.resource_changes) == {"create", "same"}
    port = int(outputs(again)["port"])
    assert set(held(e2e_emulator)) == {(MQTT_APP, "default", port)}
    [resource] = state_resources(stack)
    assert resource["outputs"]["port"] == port

    # Re-made outside Pulumi on another port: refresh reads the new port into the state.
    with api_client(e2e_emulator) as client:
        new_port = port
        while new_port == port:  # the emulator picks ports at random: make sure it is a new one
            client.remove_tcp_redirection(ORG_ID, MQTT_APP, "default", new_port)
            new_port = client.add_tcp_redirection(ORG_ID, MQTT_APP, "default").port
    stack.refresh(color="never", on_output=lambda _: None)
    [resource] = state_resources(stack)
    assert resource["outputs"]["port"] == new_port
    assert resource["outputs"]["url"] == f"tcp://{MQTT_FAVOURITE}:{new_port}"
    assert resource["inputs"]["appId"] == MQTT_APP and resource["inputs"]["namespace"] == "default"

    # Then up has nothing to change in the API and republishes the new port as the stack output.
    e2e_emulator.clear_log()
    after = stack.up(color="never", on_output=lambda _: None)
    assert only_changes(after.summary.resource_changes) == {"same"}
    assert int(outputs(after)["port"]) == new_port
    assert e2e_emulator.writes() == []
    assert set(held(e2e_emulator)) == {(MQTT_APP, "default", new_port)}


def test_malformed_app_id_fails_before_any_write(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> None:
    stack = make_stack(single_redirection({"app_id": "not-an-app"}))
    e2e_emulator.clear_log()

    with pytest.raises(auto.errors.CommandError) as failure:
        stack.up(color="never", on_output=lambda _: None)

    message = str(failure.value)
    assert "app_id" in message, message
    assert "not-an-app" in message, message
    assert e2e_emulator.writes() == []
    assert e2e_emulator.log() == []  # check refused it: the provider did not even read
    assert set(held(e2e_emulator)) == set()
    assert state_resources(stack) == []


def test_unknown_namespace_fails_naming_the_owners_namespaces(
    make_stack: StackFactory, e2e_emulator: EmulatorProcess
) -> None:
    stack = make_stack(single_redirection({"namespace": "nope"}))

    with pytest.raises(auto.errors.CommandError) as failure:
        stack.up(color="never", on_output=lambda _: None)

    message = str(failure.value)
    # The provider's explanation, on one line (the engine shows it on progress and diagnostics lines,
    # each with its own prefix): which namespace, and the ones this owner has, and no traceback.
    [line] = {line[line.index("namespace 'nope'"):].strip() for line in message.splitlines() if "'nope'" in line}
    assert "Traceback" not in message
    listed = line.split("namespaces are:", 1)[1]
    for name in ("default", "cleverapps", "acme-dedicated"):
        assert name in listed, line
    assert set(held(e2e_emulator)) == set()
    assert state_resources(stack) == []


def _clear_occurrences(node: Any, path: str = "") -> list[str]:
    """Paths in a `--show-secrets` export where the credentials appear outside a secret envelope."""
    if isinstance(node, dict):
        if node.get(SECRET_SIG) == SECRET_SIG_VALUE:
            return []  # a secret: encrypted in the state, shown decrypted only because we asked
        return [p for k, v in node.items() for p in _clear_occurrences(v, f"{path}/{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _clear_occurrences(v, f"{path}/{i}")]
    if isinstance(node, str) and (TOKEN in node or SECRET in node):
        return [path]
    return []


SECRET_SIG, SECRET_SIG_VALUE = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"


def test_secret_credentials_never_reach_the_state_in_clear(
    make_stack: StackFactory, e2e_emulator: EmulatorProcess, pulumi_cli: Path, tmp_path: Path
) -> None:
    # make_stack gives the credentials only as secret stack config (clevercloud:token/secret).
    stack = example_stack(make_stack)
    config = stack.get_all_config()
    assert config["clevercloud:token"].secret and config["clevercloud:secret"].secret

    result = stack.up(color="never", on_output=lambda _: None)
    assert result.summary.result == "succeeded"
    assert len(set(held(e2e_emulator))) == 2

    # `pulumi stack export`, as a user runs it: no credential in it.
    workspace = stack.workspace
    assert isinstance(workspace, auto.LocalWorkspace)
    exported = subprocess.run(
        [str(pulumi_cli / "pulumi"), "stack", "export", "--stack", stack.name],
        cwd=workspace.work_dir,
        env={**os.environ, **(workspace.env_vars or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    deployment = json.loads(exported)["deployment"]
    assert any(r["type"] == RESOURCE_TYPE for r in deployment["resources"])
    assert TOKEN not in exported and SECRET not in exported

    # The Automation API's export_stack() always passes --show-secrets, so it shows decrypted secrets;
    # in it the credentials may appear only inside secret envelopes. (They do: the engine records the
    # whole stack config as the inputs of the default `pulumi:providers:pulumi-python` provider.)
    shown = json.dumps(stack.export_stack().deployment)
    assert json.loads(shown)["resources"]
    assert _clear_occurrences(json.loads(shown)) == []

    # Nor anywhere on disk: the backend's checkpoint, its backups and history, the stack config file.
    for path in (tmp_path / "pulumi").rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert TOKEN not in text and SECRET not in text, path


def test_destroy_removes_every_redirection(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> None:
    stack = example_stack(make_stack)
    stack.up(color="never", on_output=lambda _: None)
    assert len(set(held(e2e_emulator))) == 2

    result = stack.destroy(color="never", on_output=lambda _: None)

    assert result.summary.result == "succeeded"
    assert only_changes(result.summary.resource_changes) == {"delete"}
    assert e2e_emulator.redirections() == []
    assert state_resources(stack) == []
    assert [w["method"] for w in e2e_emulator.writes()].count("DELETE") == 2

