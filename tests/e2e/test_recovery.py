"""After an interrupted `pulumi up`, one documented command (after `pulumi cancel`) puts things right.

Each test interrupts a real `pulumi up` of a YAML project of nine redirections (three apps x three
namespaces) in a different way, then runs `python -m clevercloud_tcp.recover` and checks that the API
holds exactly the declared set, that the state records exactly it (no pending operation left), and
that a preview then sees nothing to do.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from pulumi import automation as auto

from clevercloud_tcp.testing.emulator_process import EmulatorProcess
from clevercloud_tcp.run import recover as run_recover
from clevercloud_tcp.core.session import RECOVER
from clevercloud_tcp.dynamic import TcpRedirection

from cli_project import CliProject
from support import StackFactory

TOKEN, SECRET = "emulator-token", "emulator-secret"
APPS = {
    "redis": "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b",
    "mqtt": "app_1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c",
    "game": "app_2f6b8c6a-5e4d-4a3b-9cad-9e8f7a6b5c4d",
}
NAMESPACES = ("default", "cleverapps", "acme-dedicated")
DECLARED = {(app, ns) for app in APPS.values() for ns in NAMESPACES}
POSTS = {"method": "POST", "path": "*/tcpRedirs"}
PLUGIN = "pulumi-resource-clevercloud-tcp"


def nine_redirections(folder: Path) -> Path:
    lines = ["name: recovery", "runtime: yaml", "resources:"]
    for name, app in APPS.items():
        for ns in NAMESPACES:
            lines += [f"  {name}-{ns}:", "    type: clevercloud-tcp:index:TcpRedirection",
                      "    properties:", f"      appId: {app}", f"      namespace: {ns}"]
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def project(pulumi_cli: Path, e2e_emulator: EmulatorProcess, tmp_path: Path) -> CliProject:
    return CliProject(nine_redirections(tmp_path / "source"), tmp_path, pulumi_cli).init(
        e2e_emulator, TOKEN, SECRET, **{"clevercloud-tcp:retryAttempts": "2"}
    )


def held(emu: EmulatorProcess) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for r in emu.redirections():
        assert (r["app_id"], r["namespace"]) not in found, "one key held twice"
        found[(r["app_id"], r["namespace"])] = r["port"]
    return found


def recorded(deployment: dict[str, Any]) -> dict[tuple[str, str], int]:
    resources = [r for r in deployment.get("resources", []) if r["type"].endswith(":TcpRedirection")]
    return {(r["outputs"]["appId"], r["outputs"]["namespace"]): int(r["outputs"]["port"]) for r in resources}


def plugin_processes(root: psutil.Process) -> list[psutil.Process]:
    return [p for p in root.children(recursive=True) if any(PLUGIN in part for part in p.cmdline())]


def recover(project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    project.run("cancel", "--yes")  # the lock a killed CLI leaves (a no-op when there is none)
    e2e_emulator.clear_faults()
    done = subprocess.run(
        [sys.executable, "-m", "clevercloud_tcp.recover"], cwd=project.dir, env=project.env,
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    deployment = project.deployment()
    assert held(e2e_emulator) == recorded(deployment)
    assert set(held(e2e_emulator)) == DECLARED
    assert deployment.get("pending_operations", []) == []
    project.run("preview", "--expect-no-changes")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_engine_killed_at_a_random_point(seed: int, project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    # Slow writes, two at a time: a kill finds some recorded, some in flight, some not yet asked for.
    e2e_emulator.inject(**POSTS, count=9, delay=0.6)
    up = project.start("up", "--yes", "--skip-preview", "--parallel", "2")
    time.sleep(random.Random(seed).uniform(1.0, 4.0))
    engine = psutil.Process(up.pid)
    providers = plugin_processes(engine)
    up.kill()
    up.wait()
    # The providers the engine started exit with it: no write outlives the command.
    gone, alive = psutil.wait_procs(providers, timeout=5)
    assert alive == [], alive
    time.sleep(1.0)  # the delayed requests already sent end, and may land, as a real API's would

    recover(project, e2e_emulator)


def test_the_provider_killed_mid_up(project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    e2e_emulator.inject(**POSTS, count=9, delay=0.6)
    up = project.start("up", "--yes", "--skip-preview", "--parallel", "2")
    deadline = time.monotonic() + 30
    while not [e for e in e2e_emulator.log() if e["method"] == "POST"] and time.monotonic() < deadline:
        time.sleep(0.1)  # some writes are done, others in flight
    for provider in plugin_processes(psutil.Process(up.pid)):
        provider.kill()
    assert up.wait(timeout=120) != 0
    time.sleep(1.0)

    recover(project, e2e_emulator)


def test_the_api_down_for_longer_than_the_retries(project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    # Every write lands but its answer is lost, and every look-up fails: nothing can be recorded.
    e2e_emulator.inject(**POSTS, count=100, drop="after")
    e2e_emulator.inject(method="GET", path="*/tcpRedirs", count=1000, status=503)
    failed = project.run("up", "--yes", "--skip-preview", check=False)
    assert failed.returncode != 0
    assert "The first attempt may have landed" in failed.stdout + failed.stderr
    assert set(held(e2e_emulator)) and recorded(project.deployment()) == {}

    recover(project, e2e_emulator)


def test_the_dynamic_face_recovers_through_the_run_commands_recover(make_stack: StackFactory, e2e_emulator: EmulatorProcess) -> None:
    def program() -> None:
        for name, app in APPS.items():
            TcpRedirection(name, app_id=app, namespace="default")

    e2e_emulator.inject(**POSTS, count=100, drop="after")
    e2e_emulator.inject(method="GET", path="*/tcpRedirs", count=1000, status=503)
    config = {"clevercloud-tcp:retryAttempts": "2"}
    with pytest.raises(auto.errors.CommandError):
        make_stack(program, config=config).up(color="never", on_output=lambda _: None)
    assert len(held(e2e_emulator)) == 3
    e2e_emulator.clear_faults()

    stack = make_stack(program, config=config, env={RECOVER: "true"})  # what `... run PROGRAM recover` sets
    run_recover(stack)(color="never", on_output=lambda _: None)
    assert set(held(e2e_emulator)) == {(app, "default") for app in APPS.values()}
    assert held(e2e_emulator) == recorded(stack.export_stack().deployment)
    again = make_stack(program, config=config).preview(color="never", on_output=lambda _: None)
    assert {k for k, n in again.change_summary.items() if n} == {"same"}
