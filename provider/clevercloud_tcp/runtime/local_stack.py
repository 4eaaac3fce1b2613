"""Runs a Pulumi program with the real `pulumi` engine on this machine: a local file backend, a
passphrase secrets provider, no Pulumi Cloud account, nothing on the network but the API endpoint.

The demo, the end-to-end tests and the benchmarks use it with inline programs (the Automation API
serves the language runtime in-process, so only the `pulumi` binary and the
`pulumi-resource-pulumi-python` plugin script are needed; `scripts/install-pulumi` provides both).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from pulumi import automation as auto

PASSPHRASE = "local-stack-passphrase"
# The engine then writes the state once, at the end of a command, not after every step: a stack of N
# resources costs N steps instead of N whole-state rewrites. A crash leaves what it made unrecorded,
# which the recovery (runtime/recovery.py) takes back; see docs/large-stacks.md.
SKIP_CHECKPOINTS = "PULUMI_SKIP_CHECKPOINTS"
NO_PULUMI = (
    "no `pulumi` CLI with the `pulumi-resource-pulumi-python` plugin script beside it or on PATH: "
    "run scripts/install-pulumi from a checkout of pulumi-clevercloud-tcp (it builds or finds the CLI "
    "and writes the script), or install the CLI (https://www.pulumi.com/docs/iac/download-install/) and put both on PATH"
)
# The stack's own "update failed" line, and the program's note that the engine stopped first: they come
# first and say the least.
GENERIC_FAILURE = re.compile(r"(update|preview|refresh|destroy) failed|Resource monitor has terminated, shutting down")


def find_pulumi() -> Path | None:
    """The directory holding `pulumi` and the Python provider plugin, or None.

    Looks on PATH, then at what `scripts/install-pulumi` cached; it never builds the CLI.
    """
    on_path = shutil.which("pulumi")
    if on_path and shutil.which("pulumi-resource-pulumi-python"):
        return Path(on_path).parent
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pulumi-clevercloud-tcp"
    built = sorted(cache.glob("pulumi-v*/bin/pulumi"))
    return built[-1].parent if built else None


def engine_env(cli_dir: Path, state_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for the engine and the provider host it starts.

    The provider host runs this interpreter (`PULUMI_PYTHON_CMD`), so it imports the same packages.
    """
    env = {
        "PATH": f"{cli_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PULUMI_HOME": str(state_dir / "home"),
        "PULUMI_BACKEND_URL": f"file://{state_dir / 'backend'}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
    }
    if extra:
        env.update(extra)
    return env


def local_stack(
    program: Callable[[], None],
    *,
    cli_dir: Path,
    state_dir: Path,
    project: str = "clevercloud-tcp-example",
    stack: str = "dev",
    config: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    work_dir: Path | None = None,
    skip_checkpoints: bool = False,
) -> auto.Stack:
    """A stack of an inline `program`, with plain `config` and encrypted `secrets` set on it; its stack
    config lives in `work_dir` (the backend folder itself unless given: one config per stack name);
    `skip_checkpoints`: its engine writes the state at the end of each command only."""
    (state_dir / "backend").mkdir(parents=True, exist_ok=True)
    (state_dir / "home").mkdir(parents=True, exist_ok=True)
    work_dir = work_dir or state_dir
    work_dir.mkdir(parents=True, exist_ok=True)
    # The workspace hands these to every CLI call it makes, and so to the engine's child processes.
    skipping = {SKIP_CHECKPOINTS: "true"} if skip_checkpoints else {}
    variables = engine_env(cli_dir, state_dir, {**(env or {}), **skipping})
    workspace = auto.LocalWorkspaceOptions(
        work_dir=str(work_dir),
        pulumi_home=variables["PULUMI_HOME"],
        env_vars=variables,
        secrets_provider="passphrase",
        project_settings=auto.ProjectSettings(
            name=project,
            runtime="python",
            backend=auto.ProjectBackend(url=variables["PULUMI_BACKEND_URL"]),
        ),
        pulumi_command=auto.PulumiCommand(root=str(cli_dir.parent), skip_version_check=True),
    )
    result = auto.create_or_select_stack(stack_name=stack, project_name=project, program=program, opts=workspace)
    if config:  # one CLI call for all of them: each call costs the CLI's start-up
        result.set_all_config({key: auto.ConfigValue(value=value) for key, value in config.items()})
    for key, value in (secrets or {}).items():
        set_secret(result, key, value, cli_dir, variables)
    return result


def set_secret(stack: auto.Stack, key: str, value: str, cli_dir: Path, variables: Mapping[str, str]) -> None:
    """`pulumi config set --secret KEY` with the value on its standard input: every local user reads a
    process's command line, where `set_all_config` would put it."""
    command = [str(cli_dir / "pulumi"), "--non-interactive", "config", "set", "--secret", "--stack", stack.name, "--", key]
    done = subprocess.run(
        command, input=value, text=True, capture_output=True, cwd=stack.workspace.work_dir, env={**os.environ, **variables}
    )
    if done.returncode != 0:
        raise auto.CommandError(auto.CommandResult(stdout=done.stdout, stderr=done.stderr, code=done.returncode))


def first_error(err: auto.CommandError) -> str:
    """The line of a failed CLI command that names the cause."""
    # The Automation API's error text puts the CLI's stderr after " stderr: " on the line it starts.
    lines = [line.strip().removeprefix("stderr:").strip() for line in str(err).splitlines()]
    said = [line.removeprefix("error:").strip() for line in lines if line.startswith("error:")]
    telling = [line for line in said if not GENERIC_FAILURE.fullmatch(line)]
    return (telling or said or ["the pulumi CLI failed; its output is above"])[0]
