"""After an interrupted `pulumi up` or `destroy`, one documented command (after `pulumi cancel`) puts things right.

Most tests interrupt a real `pulumi up` of a YAML project of nine redirections (three apps x three
namespaces) in a different way, then run `python -m clevercloud_tcp.recover` and check that the API
holds exactly the declared set, that the state records exactly it (no pending operation left), and
that a preview then sees nothing to do. An interrupted `destroy` is finished by `recover --destroy`,
which creates nothing. The dynamic face goes through `python -m clevercloud_tcp.run PROGRAM recover`,
the same recovery through the Automation API; both routes repair a file backend a kill left unreadable.

Every test that kills a command midway runs twice: with the engine's checkpoints written after every
step (the default), and with them skipped (`PULUMI_SKIP_CHECKPOINTS=true`, docs/large-stacks.md), where a
kill leaves nothing of the run recorded at all, and the same one command repairs it.
"""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from pulumi import automation as auto

from clevercloud_tcp.dynamic import TcpRedirection
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime import recovery
from clevercloud_tcp.runtime.local_stack import SKIP_CHECKPOINTS, engine_env
from clevercloud_tcp.runtime.recovery import RECOVER, StackSteps
from cli_project import CliProject, kill_in_flight
from support import MQTT_APP, SECRET, TOKEN, StackFactory, held, recorded

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
def skip_checkpoints() -> bool:
    """Whether the engine skips its checkpoints (`BOTH_MODES` runs a test with each)."""
    return False


BOTH_MODES = pytest.mark.parametrize("skip_checkpoints", [False, True], ids=["checkpoints", "checkpoints-skipped"])


@pytest.fixture
def project(pulumi_cli: Path, e2e_emulator: EmulatorProcess, tmp_path: Path, skip_checkpoints: bool) -> CliProject:
    made = CliProject(nine_redirections(tmp_path / "source"), tmp_path, pulumi_cli)
    if skip_checkpoints:  # exported in the user's shell: every command, the recovery's too, runs so
        made.env[SKIP_CHECKPOINTS] = "true"
    return made.init(e2e_emulator, TOKEN, SECRET, **{"clevercloud-tcp:retryAttempts": "2"})


def assert_nothing_recorded(deployment: dict[str, Any]) -> None:
    """What a kill leaves when checkpoints are skipped: no redirection recorded, not even as pending."""
    assert keyed(recorded(deployment)) == {} and deployment.get("pending_operations", []) == [], deployment


def keyed(redirections: list[tuple[str, str, int]]) -> dict[tuple[str, str], int]:
    """(app, namespace) -> port; a key listed twice fails."""
    found: dict[tuple[str, str], int] = {}
    for app, namespace, port in redirections:
        assert (app, namespace) not in found, f"one key listed twice: {redirections}"
        found[(app, namespace)] = port
    return found


def plugin_processes(root: psutil.Process) -> list[psutil.Process]:
    return [p for p in root.children(recursive=True) if any(PLUGIN in part for part in p.cmdline())]


def recover_project(project: CliProject, e2e_emulator: EmulatorProcess, *flags: str) -> str:
    """The documented command (it releases the lock a killed CLI leaves); what it printed."""
    e2e_emulator.clear_faults()
    done = subprocess.run(
        [sys.executable, "-m", "clevercloud_tcp.recover", *flags], cwd=project.dir, env=project.env,
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def recover(project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    recover_project(project, e2e_emulator)
    deployment = project.deployment()
    assert keyed(held(e2e_emulator)) == keyed(recorded(deployment))
    assert set(keyed(held(e2e_emulator))) == DECLARED
    assert deployment.get("pending_operations", []) == []
    project.run("preview", "--expect-no-changes")


@BOTH_MODES
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_engine_killed_at_a_random_point(
    seed: int, skip_checkpoints: bool, project: CliProject, e2e_emulator: EmulatorProcess
) -> None:
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
    if skip_checkpoints:
        assert_nothing_recorded(project.deployment())

    recover(project, e2e_emulator)


@BOTH_MODES
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
    assert set(keyed(held(e2e_emulator))) and keyed(recorded(project.deployment())) == {}

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
    assert len(keyed(held(e2e_emulator))) == 3
    e2e_emulator.clear_faults()

    stack = make_stack(program, config=config, env={RECOVER: "true"})  # what `... run PROGRAM recover` sets
    backend = stack.workspace.env_vars["PULUMI_BACKEND_URL"]
    recovery.recover(backend, StackSteps(lambda: stack, color="never", on_output=lambda _: None), destroy=False, say=lambda _: None)
    assert set(keyed(held(e2e_emulator))) == {(app, "default") for app in APPS.values()}
    assert keyed(held(e2e_emulator)) == keyed(recorded(stack.export_stack().deployment))
    again = make_stack(program, config=config).preview(color="never", on_output=lambda _: None)
    assert {k for k, n in again.change_summary.items() if n} == {"same"}


def test_the_conflict_a_killed_up_leaves_names_the_cli_recovery(pulumi_cli: Path, e2e_emulator: EmulatorProcess, tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "yaml"  # two redirections of one app
    project = CliProject(example, tmp_path, pulumi_cli).init(e2e_emulator, TOKEN, SECRET, appId=MQTT_APP)
    kill_in_flight(e2e_emulator, 2, lambda: project.start("up", "--yes", "--skip-preview"))
    assert recorded(project.deployment()) == []

    project.run("cancel", "--yes")  # as the lock's error says
    again = project.run("up", "--yes", check=False)
    said = again.stdout + again.stderr
    assert again.returncode != 0 and "HTTP 409" in said, said
    # A YAML, TypeScript or Go user needs no Python: the three commands of docs/recovery.md.
    assert ("If an interrupted `pulumi up` made it, recover without editing the program: `pulumi cancel --yes`, "
            "`pulumi refresh --clear-pending-creates --yes`, then `CLEVERCLOUD_TCP_RECOVER=true pulumi up`") in said
    assert "clevercloud_tcp" not in said


def empty_the_attrs_sidecar(backend: Path) -> None:
    """What a kill during a checkpoint write can leave: the stack's `.attrs` sidecar, empty."""
    (stack,) = (backend / ".pulumi" / "stacks").rglob("dev.json")
    stack.with_name("dev.json.attrs").write_text("")


def test_the_cli_route_repairs_an_empty_attrs_sidecar(project: CliProject, e2e_emulator: EmulatorProcess) -> None:
    e2e_emulator.inject(**POSTS, count=100, drop="after")
    e2e_emulator.inject(method="GET", path="*/tcpRedirs", count=1000, status=503)
    assert project.run("up", "--yes", "--skip-preview", check=False).returncode != 0
    empty_the_attrs_sidecar(Path(project.env["PULUMI_BACKEND_URL"].removeprefix("file://")))
    unreadable = project.run("stack", "export", check=False)
    assert unreadable.returncode != 0 and "EOF" in unreadable.stderr, unreadable.stderr

    said = recover_project(project, e2e_emulator)
    assert "removing" in said and "dev.json.attrs" in said
    assert keyed(held(e2e_emulator)) == keyed(recorded(project.deployment())) and set(keyed(held(e2e_emulator))) == DECLARED


@BOTH_MODES
def test_a_destroy_killed_midway_is_finished_and_nothing_is_made_again(
    skip_checkpoints: bool, project: CliProject, e2e_emulator: EmulatorProcess
) -> None:
    project.run("up", "--yes", "--skip-preview")
    e2e_emulator.inject(method="DELETE", path="*/tcpRedirs/*", count=9, delay=0.6)
    destroy = project.start("destroy", "--yes", "--skip-preview", "--parallel", "2")
    deadline = time.monotonic() + 30
    while not [e for e in e2e_emulator.log() if e["method"] == "DELETE"] and time.monotonic() < deadline:
        time.sleep(0.1)
    destroy.kill()
    destroy.wait()
    time.sleep(1.0)  # the deletes in flight end
    assert 0 < len(keyed(held(e2e_emulator))) < len(DECLARED), "the destroy was not interrupted midway"
    if skip_checkpoints:  # no delete was recorded: the state still has all nine
        assert set(keyed(recorded(project.deployment()))) == DECLARED
    e2e_emulator.clear_log()

    recover_project(project, e2e_emulator, "--destroy")
    assert [e for e in e2e_emulator.log() if e["method"] == "POST"] == []
    assert keyed(held(e2e_emulator)) == {} and keyed(recorded(project.deployment())) == {}


PROGRAM = """
from clevercloud_tcp.dynamic import TcpRedirection

for name, app in {apps!r}.items():
    TcpRedirection(name, app_id=app, namespace="default")
"""


class RunCommand:
    """`python -m clevercloud_tcp.run PROGRAM ...` of a dynamic-provider program, as a user runs it."""

    def __init__(self, tmp_path: Path, pulumi_cli: Path, emulator: EmulatorProcess, skip_checkpoints: bool) -> None:
        self.program, self.backend_dir = tmp_path / "program.py", tmp_path / "local"
        self.program.write_text(PROGRAM.format(apps=APPS))
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CLEVER_"))},
            "PATH": os.pathsep.join([str(pulumi_cli), os.environ.get("PATH", "")]),
            "PULUMI_CONFIG_PASSPHRASE": "the user's own",  # an endpoint of their choosing: required
            "EMULATOR_TOKEN": TOKEN,
            "EMULATOR_SECRET": SECRET,
        }
        self.options = [
            "--backend-dir", str(self.backend_dir), "--config", f"clevercloud:endpoint={emulator.url}",
            "--config", "clevercloud-tcp:retryAttempts=2",
            "--secret", "clevercloud:token=EMULATOR_TOKEN", "--secret", "clevercloud:secret=EMULATOR_SECRET",
            *(["--skip-checkpoints"] if skip_checkpoints else []),
        ]  # fmt: skip

    def command(self, *operation: str) -> list[str]:
        return [sys.executable, "-m", "clevercloud_tcp.run", str(self.program), *operation, *self.options]

    def run(self, *operation: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*operation), env=self.env, capture_output=True, text=True, timeout=300)

    def killed_once_writing(self, operation: str, emulator: EmulatorProcess, method: str) -> None:
        """`operation` killed, with the engine and the provider it started, once its first `method`
        request has reached the API; the other requests are still in flight (delayed by the caller)."""
        started = subprocess.Popen(self.command(operation), env=self.env, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 60
        while not [e for e in emulator.log() if e["method"] == method] and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(started.pid, signal.SIGKILL)
        started.wait()

    def recorded(self) -> dict[tuple[str, str], int]:
        stack = next((self.backend_dir / "backend" / ".pulumi" / "stacks").rglob("dev.json"))
        return keyed(recorded(json.loads(stack.read_text())["checkpoint"]["latest"] or {}))


@pytest.fixture
def run_command(tmp_path: Path, pulumi_cli: Path, e2e_emulator: EmulatorProcess, skip_checkpoints: bool) -> RunCommand:
    return RunCommand(tmp_path, pulumi_cli, e2e_emulator, skip_checkpoints)


def test_the_automation_route_repairs_an_empty_attrs_sidecar(run_command: RunCommand, e2e_emulator: EmulatorProcess) -> None:
    e2e_emulator.inject(**POSTS, count=100, drop="after")
    e2e_emulator.inject(method="GET", path="*/tcpRedirs", count=1000, status=503)
    assert run_command.run("up").returncode != 0
    assert len(keyed(held(e2e_emulator))) == len(APPS)
    empty_the_attrs_sidecar(run_command.backend_dir / "backend")
    e2e_emulator.clear_faults()

    done = run_command.run("recover")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dev.json.attrs" in done.stdout
    assert set(keyed(held(e2e_emulator))) == {(app, "default") for app in APPS.values()}
    assert keyed(held(e2e_emulator)) == run_command.recorded()


@BOTH_MODES
def test_the_automation_route_recovers_a_killed_up(
    skip_checkpoints: bool, run_command: RunCommand, e2e_emulator: EmulatorProcess
) -> None:
    # The first create answers soon; the others are still in flight when the run is killed.
    e2e_emulator.inject(**POSTS, count=1, delay=0.3)
    e2e_emulator.inject(**POSTS, count=len(APPS) - 1, delay=4.0)
    run_command.killed_once_writing("up", e2e_emulator, "POST")
    deadline = time.monotonic() + 60  # the creates in flight end (4 s after they came), and land
    while len(keyed(held(e2e_emulator))) < len(APPS) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(keyed(held(e2e_emulator))) == len(APPS), "the creates did not land"
    if skip_checkpoints:
        assert run_command.recorded() == {}

    done = run_command.run("recover")
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(keyed(held(e2e_emulator))) == {(app, "default") for app in APPS.values()}
    assert keyed(held(e2e_emulator)) == run_command.recorded()


@BOTH_MODES
def test_the_automation_route_finishes_a_killed_destroy_and_makes_nothing(
    skip_checkpoints: bool, run_command: RunCommand, e2e_emulator: EmulatorProcess
) -> None:
    up = run_command.run("up")
    assert up.returncode == 0, up.stdout + up.stderr
    # The first delete answers soon; the others are still in flight when the run is killed.
    e2e_emulator.inject(method="DELETE", path="*/tcpRedirs/*", count=1, delay=0.3)
    e2e_emulator.inject(method="DELETE", path="*/tcpRedirs/*", count=len(APPS) - 1, delay=4.0)
    run_command.killed_once_writing("destroy", e2e_emulator, "DELETE")
    left = run_command.recorded()
    assert left, "the destroy was not interrupted midway"
    if skip_checkpoints:  # no delete was recorded: the state still has all of them
        assert len(left) == len(APPS)
    time.sleep(4.5)  # the deletes in flight end
    e2e_emulator.clear_log()

    done = run_command.run("recover", "--destroy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [e for e in e2e_emulator.log() if e["method"] == "POST"] == []
    assert keyed(held(e2e_emulator)) == {} and run_command.recorded() == {}


def test_the_conflict_a_killed_run_leaves_names_the_python_recovery_in_one_line(
    run_command: RunCommand, e2e_emulator: EmulatorProcess, pulumi_cli: Path
) -> None:
    start = functools.partial(subprocess.Popen, run_command.command("up"), env=run_command.env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_in_flight(e2e_emulator, len(APPS), start)
    assert run_command.recorded() == {}

    # `pulumi cancel`, as the lock's error says, from a shell reaching the stack (the lines `run` prints)
    shell = {**run_command.env, **engine_env(pulumi_cli, run_command.backend_dir)}
    cancel = ["pulumi", "cancel", "--yes", "--non-interactive", "-s", "organization/program/dev"]
    subprocess.run(cancel, env=shell, check=True, capture_output=True, timeout=120)
    again = run_command.run("up")
    assert again.returncode != 0
    # The errors are the failures' own (no word of the engine ending the update), and the last line
    # names the routes of docs/recovery.md for a Python program.
    assert "Resource monitor has terminated" not in again.stdout + again.stderr
    assert len(again.stderr.strip().splitlines()) == 1, again.stderr
    assert "HTTP 409" in again.stderr and "`python -m clevercloud_tcp.recover` in the project folder" in again.stderr
    assert "python -m clevercloud_tcp.run PROGRAM recover" in again.stderr
