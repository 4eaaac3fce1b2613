"""Every code sample of README.md, CONTRIBUTING.md, docs/ and schema.json's examples that can run here,
run as written, from a fresh folder, against the emulator.

tests/doc_samples.py finds the samples and their `<!-- sample: RUNNER -->` markers; the runners are
below. Python and YAML programs run through the real engine (YAML with the plain CLI), TypeScript
programs through examples/typescript's Automation API driver, shell samples with bash -e. Go programs
are built (`go vet`), not run: without the Go language host a `package main` cannot be run by the
engine here. What cannot run at all is marked `not-run` and checked by tests/test_docs.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clevercloud_tcp.emulator.process import EmulatorProcess
from cli_project import CliProject, kill_in_flight
from doc_samples import RUNNERS, Sample, doc_samples, schema_samples
from example_programs import ExampleStack, require_tools, succeed, typescript_node_modules
from support import MQTT_APP, SECRET, TOKEN, bare_env, held, recorded, sdk_go_module

ROOT = Path(__file__).resolve().parents[2]
# Runners that need what another test module builds, and that module.
ELSEWHERE = {"release-archive": "tests/e2e/test_release_from_outside.py"}
TO_RUN = [s for s in doc_samples() if s.kind == "sample" and s.value not in ELSEWHERE] + schema_samples()


@dataclass
class Context:
    """What a runner gets: the sample, a fresh folder, the CLI, the session's emulator (emptied)."""

    sample: Sample
    work: Path
    cli: Path
    emulator: EmulatorProcess

    def env(self, **extra: str) -> dict[str, str]:
        """A user's shell: the venv's scripts and the CLI on PATH, no credential, no clever-tools profile,
        no PULUMI_* setting; the home's caches (Go, npm) as they are."""
        path = f"{Path(sys.executable).parent}{os.pathsep}{self.cli}{os.pathsep}{os.environ.get('PATH', '')}"
        env = bare_env(Path.home(), XDG_CONFIG_HOME=str(self.work / "config"), PATH=path, **extra)
        return {k: v for k, v in env.items() if not k.startswith("PULUMI_") or k in extra}


def shell(ctx: Context, code: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`code` run by bash -e in its own process group, which is ended after (an emulator left in the background)."""
    process = subprocess.Popen(
        ["bash", "-e", "-c", code], cwd=cwd, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=1200)
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    done = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    assert done.returncode == 0, f"{ctx.sample.name} failed ({done.returncode}):\n{code}\n--- stdout\n{out}\n--- stderr\n{err}"
    return done


def checkout_copy(ctx: Context) -> Path:
    """The repository's files (tracked, and new ones not ignored) as a fresh clone has them."""
    listed = succeed(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT).split("\0")
    copy = ctx.work / "repo"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    return copy


def check_outputs(ctx: Context, outputs: dict[str, Any]) -> None:
    """Every output has a value, and URLs have the form the comments show."""
    assert outputs, f"{ctx.sample.name}: no outputs"
    for name, value in outputs.items():
        assert value not in (None, "", {}) or name in ("redirections", "ports"), f"{ctx.sample.name}: {name} = {value!r}"
        if isinstance(value, str) and value.startswith("tcp://"):
            assert re.fullmatch(r"tcp://[a-z0-9.-]+:\d+", value), f"{ctx.sample.name}: {name} = {value!r}"


# --- programs ------------------------------------------------------------------------------------------------


def python_program(ctx: Context, *settings: str, env: dict[str, str] | None = None) -> None:
    """`python -m clevercloud_tcp.run FILE up --emulator`: the engine, the plugin or the dynamic provider."""
    (ctx.work / "program.py").write_text(ctx.sample.code)
    run = [sys.executable, "-m", "clevercloud_tcp.run", "program.py", "up", "--emulator", "--config", f"appId={MQTT_APP}", *settings]
    up = subprocess.run(run, cwd=ctx.work, env=ctx.env(**(env or {})), capture_output=True, text=True, timeout=600)
    assert up.returncode == 0, f"{ctx.sample.name}:\n{up.stdout}\n{up.stderr}"
    export, command = [line.strip() for line in up.stdout.splitlines()[-2:]]
    shown = shell(ctx, f"{export} && {command} --json --show-secrets", ctx.work, ctx.env())
    check_outputs(ctx, json.loads(shown.stdout))


def two_organisations(ctx: Context) -> None:
    """A Python program of explicit providers, given the two organisations' credentials of the emulator's
    built-in fixture as the stack's own secret config (`acmeToken`, … `globexSecret`)."""
    pairs = {"acme": (TOKEN, SECRET), "globex": ("other-token", "other-secret")}
    given = {f"{org}Token": token for org, (token, _) in pairs.items()} | {f"{org}Secret": secret for org, (_, secret) in pairs.items()}
    # As a user gives `run` secrets: each from an environment variable, named after `=` (never the value).
    variables = {key: f"SAMPLE_{key.upper()}" for key in given}
    secrets = (arg for key, variable in variables.items() for arg in ("--secret", f"{key}={variable}"))
    python_program(ctx, *secrets, env={variables[key]: value for key, value in given.items()})


def yaml_program(ctx: Context) -> None:
    """`pulumi up` of the sample as Pulumi.yaml (a name and runtime added to a schema example) with the plain CLI."""
    source = ctx.work / "source"
    source.mkdir()
    header = "" if re.search(r"^runtime:", ctx.sample.code, re.M) else "name: sample\nruntime: yaml\n"
    (source / "Pulumi.yaml").write_text(header + ctx.sample.code)
    project = CliProject(source, ctx.work, ctx.cli).init(ctx.emulator, TOKEN, SECRET, appId=MQTT_APP)
    project.run("up", "--yes")
    check_outputs(ctx, project.outputs())


def typescript_program(ctx: Context) -> None:
    """The sample as a module that examples/typescript's driver runs inline (its exports are the outputs)."""
    node_modules = typescript_node_modules()
    example = ROOT / "examples" / "typescript"
    for name in ("automation.ts", "tsconfig.json", "package.json"):
        shutil.copy(example / name, ctx.work / name)
    (ctx.work / "node_modules").symlink_to(node_modules)
    (ctx.work / "sample.ts").write_text(ctx.sample.code)
    (ctx.work / "index.ts").write_text('export = async () => require("./sample");\n')
    config = json.loads((ctx.work / "tsconfig.json").read_text())
    (ctx.work / "tsconfig.json").write_text(json.dumps({**config, "files": [*config["files"], "sample.ts"]}))
    succeed([str(node_modules / ".bin" / "tsc"), "-p", "."], ctx.work)
    stack = ExampleStack(["node", str(ctx.work / "bin" / "automation.js")], "clevercloud-tcp-typescript", ctx.cli, ctx.emulator, ctx.work)
    check_outputs(ctx, stack.run("up")["outputs"])


def go_program(ctx: Context) -> None:
    """`go vet` of the sample as main.go of a module that uses sdk/go from the checkout."""
    require_tools("go", why="the Go samples are built with go vet")
    sdk_go_module(ctx.work, "example.com/sample")
    (ctx.work / "main.go").write_text(ctx.sample.code)
    shell(ctx, "go vet .", ctx.work, ctx.env(GOFLAGS="-mod=readonly", GOTOOLCHAIN="local"))


# --- shell lines ---------------------------------------------------------------------------------------------


def config_set(ctx: Context) -> None:
    """In a project folder whose stack exists, as the docs assume; each key set ends up in the config, secret
    when given with --secret."""
    project = CliProject(ROOT / "examples" / "yaml", ctx.work, ctx.cli)
    project.run("stack", "init", "dev")
    shell(ctx, ctx.sample.code, project.dir, project.env)
    config = json.loads(project.run("config", "--json").stdout)
    for secret, key in re.findall(r"pulumi config set (--secret )?(\S+)", ctx.sample.code):
        assert key in config and config[key]["secret"] == bool(secret), f"{key}: {config.get(key)}"


def run_command(ctx: Context) -> None:
    if "npm install" in ctx.sample.code:
        typescript_node_modules()  # npm's cache then holds every package of the lock file: the install is offline
    shell(ctx, ctx.sample.code, checkout_copy(ctx), ctx.env(npm_config_offline="true"))


def run_recover(ctx: Context) -> None:
    """After an `up` of the example, as after one that was interrupted."""
    repo = checkout_copy(ctx)
    setup = f"python -m clevercloud_tcp.run examples/python-dynamic up --emulator --config appId={MQTT_APP}"
    shell(ctx, setup, repo, ctx.env())
    shell(ctx, ctx.sample.code, repo, ctx.env())
    with EmulatorProcess(state=repo / ".pulumi-local" / "emulator.sqlite") as emulator:
        assert held(emulator) == [], "recover --destroy leaves nothing"


def yaml_example(ctx: Context) -> CliProject:
    """A copy of examples/yaml whose stack is set up against the emulator; its environment a shell's
    with the virtualenv's scripts (`python`, the plugin) on PATH."""
    project = CliProject(ROOT / "examples" / "yaml", ctx.work, ctx.cli).init(ctx.emulator, TOKEN, SECRET, appId=MQTT_APP)
    project.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{project.env['PATH']}"
    return project


def recover_command(ctx: Context) -> None:
    """In the folder of examples/yaml, whose stack is up against the emulator."""
    project = yaml_example(ctx)
    project.run("up", "--yes")
    said = shell(ctx, ctx.sample.code, project.dir, project.env)
    assert "cancel" in said.stdout + said.stderr  # it said its steps
    assert held(ctx.emulator) == [] and project.resources() == {}, "recover --destroy leaves nothing"


def yaml_shell(ctx: Context) -> None:
    """In the folder of examples/yaml, whose stack is set up (not up); after the lines, the API holds
    what the state records."""
    project = yaml_example(ctx)
    shell(ctx, ctx.sample.code, project.dir, project.env)
    ports = sorted(int(r["port"]) for r in project.resources().values())
    assert ports and sorted(port for *_, port in held(ctx.emulator)) == ports


def automation_script(ctx: Context) -> None:
    """A Python script of the Automation API, run with a local backend and a passphrase, and the
    emulator's endpoint and credentials as the environment variables a user's shell would hold."""
    (ctx.work / "backend").mkdir()
    (ctx.work / "script.py").write_text(ctx.sample.code)
    env = ctx.env(
        PULUMI_BACKEND_URL=f"file://{ctx.work / 'backend'}", PULUMI_CONFIG_PASSPHRASE="sample",
        PULUMI_HOME=str(ctx.work / "home"), PULUMI_SKIP_UPDATE_CHECK="true",
        API_HOST=ctx.emulator.url, CLEVER_TOKEN=TOKEN, CLEVER_SECRET=SECRET, CLEVERCLOUD_TCP_ALLOW_HTTP="true",
    )  # fmt: skip
    shell(ctx, f"{sys.executable} script.py", ctx.work, env)
    assert {app for app, *_ in held(ctx.emulator)} == {MQTT_APP}, held(ctx.emulator)
def recover_cli(ctx: Context) -> None:
    """In the folder of examples/yaml, after an `up` killed while its two creates were in flight: they
    landed, and the state does not record them."""
    project = CliProject(ROOT / "examples" / "yaml", ctx.work, ctx.cli).init(ctx.emulator, TOKEN, SECRET, appId=MQTT_APP)
    kill_in_flight(ctx.emulator, 2, lambda: project.start("up", "--yes", "--skip-preview"))
    made = sorted(held(ctx.emulator))
    shell(ctx, ctx.sample.code, project.dir, project.env)
    assert sorted(held(ctx.emulator)) == made == sorted(recorded(project.deployment())), "the ports the killed up made are the stack's"
    assert project.deployment().get("pending_operations", []) == []
    project.run("preview", "--expect-no-changes")


def emulator_shell(ctx: Context) -> None:
    said = shell(ctx, ctx.sample.code, ctx.work, ctx.env())
    assert re.search(r'"port":\s*\d+', said.stdout), said.stdout


def kit_pytest(ctx: Context) -> None:
    (ctx.work / "test_sample.py").write_text(ctx.sample.code)
    said = shell(ctx, f"{sys.executable} -m pytest -q -p no:cacheprovider test_sample.py", ctx.work, ctx.env())
    assert re.search(r"\b1 passed\b", said.stdout), said.stdout


def kit_script(ctx: Context) -> None:
    """After the block above it in the same page, whose definitions (`program`) it uses."""
    before = [s for s in doc_samples() if s.source == ctx.sample.source and s.line < ctx.sample.line and s.lang == "python"]
    (ctx.work / "script.py").write_text(before[-1].code + "\n" + ctx.sample.code)
    said = shell(ctx, f"{sys.executable} script.py", ctx.work, ctx.env())
    assert re.search(r"mqtt://mqtt\.example\.com:\d+", said.stdout), said.stdout
    assert "mqtt://None" not in said.stdout, said.stdout


RUN: dict[str, Callable[[Context], None]] = {
    "python-program": python_program,
    "two-organisations": two_organisations,
    "yaml-program": yaml_program,
    "typescript-program": typescript_program,
    "go-program": go_program,
    "config-set": config_set,
    "run-command": run_command,
    "run-recover": run_recover,
    "recover-command": recover_command,
    "yaml-shell": yaml_shell,
    "automation-script": automation_script,
    "recover-cli": recover_cli,
    "emulator-shell": emulator_shell,
    "kit-pytest": kit_pytest,
    "kit-script": kit_script,
}


def test_every_runner_is_implemented() -> None:
    assert set(RUN) | set(ELSEWHERE) == set(RUNNERS) and not set(RUN) & set(ELSEWHERE)


@pytest.mark.timeout(1200)  # a cold run builds the Go automation driver or installs npm packages first
@pytest.mark.parametrize("sample", TO_RUN, ids=lambda s: s.name)
def test_sample_runs_as_written(sample: Sample, pulumi_cli: Path, e2e_emulator: EmulatorProcess, tmp_path: Path) -> None:
    RUN[sample.value](Context(sample, tmp_path, pulumi_cli, e2e_emulator))


# --- what the pages say of the code --------------------------------------------------------------------------


def test_the_plugin_installed_into_the_cache_names_its_virtualenv_as_languages_md_says(pulumi_cli: Path, tmp_path: Path) -> None:
    # docs/languages.md: the cached copy runs the virtualenv's Python by its absolute path, so it does
    # not survive the virtualenv moving.
    said = (ROOT / "docs" / "languages.md").read_text()
    assert "it does not survive the virtualenv moving" in said
    env = {**os.environ, "PULUMI_HOME": str(tmp_path / "home")}
    install = [sys.executable, "-m", "clevercloud_tcp.faces.plugin.install", "--pulumi", str(pulumi_cli / "pulumi")]
    done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    version = (ROOT / "VERSION").read_text().strip()
    (installed,) = (tmp_path / "home" / "plugins").glob(f"resource-clevercloud-tcp-v{version}/pulumi-resource-clevercloud-tcp")
    shebang = installed.read_text().splitlines()[0]
    interpreter = Path(shebang.removeprefix("#!"))
    assert shebang.startswith("#!/") and interpreter.parent == Path(sys.executable).parent, shebang
