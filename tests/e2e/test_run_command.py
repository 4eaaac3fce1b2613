"""`python -m clevercloud_tcp.run PROGRAM OPERATION`, as a user runs it: a subprocess of the venv's
Python, not activated, with a clean environment."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clevercloud_tcp.emulator import DEFAULT_FIXTURE
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime.local_stack import engine_env, find_pulumi

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "python-dynamic"
APP_ID = DEFAULT_FIXTURE.organisations[0].applications[1].id  # two custom domains, broker.acme.example first


@pytest.fixture
def clean_env(tmp_path: Path, pulumi_cli: Path) -> dict[str, str]:
    """No venv on PATH, no PULUMI_* or CLEVER_* variables, no `clever login` profile."""
    (tmp_path / "home").mkdir()
    return {"PATH": f"{pulumi_cli}:/usr/bin:/bin", "HOME": str(tmp_path / "home")}


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clevercloud_tcp.run", *args], capture_output=True, text=True, env=env, cwd=cwd
    )


def held(state: Path) -> list[dict[str, object]]:
    with EmulatorProcess(state=state) as emulator:
        return emulator.redirections()


def test_example_up_then_destroy_against_the_emulator(clean_env: dict[str, str], tmp_path: Path) -> None:
    up = run(clean_env, tmp_path, str(EXAMPLE), "up", "--emulator", "--config", f"appId={APP_ID}")
    assert up.returncode == 0, up.stdout + up.stderr
    backend = tmp_path / ".pulumi-local"  # the default, under the working directory, and said so
    assert f"backend folder {backend}" in up.stdout
    assert "passphrase: local-stack-passphrase" in up.stdout
    assert "destroy --emulator" in up.stdout  # how to undo it later, with the emulator's state kept

    # The commands printed for another shell reach the stack with the plain CLI.
    export, command = [line.strip() for line in up.stdout.splitlines()[-2:]]
    outputs = subprocess.run(
        ["bash", "-c", f"{export} && {command} --json"], capture_output=True, text=True, env=clean_env
    )
    assert outputs.returncode == 0, outputs.stderr
    values = json.loads(outputs.stdout)
    assert values["default_url"] == f"tcp://broker.acme.example:{values['default_port']}"
    assert values["redis_uri"] == f"redis://broker.acme.example:{values['default_port']}"
    assert {(r["namespace"], r["port"]) for r in held(backend / "emulator.sqlite")} == {
        ("default", values["default_port"]),
        ("cleverapps", values["cleverapps_port"]),
    }

    destroy = run(clean_env, tmp_path, str(EXAMPLE), "destroy", "--emulator")
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    assert "- 3 deleted" in destroy.stdout
    assert held(backend / "emulator.sqlite") == []


def test_missing_credentials_say_how_to_set_them_as_secrets(clean_env: dict[str, str], tmp_path: Path) -> None:
    up = run(clean_env, tmp_path, str(EXAMPLE), "up", "--config", f"appId={APP_ID}")
    assert up.returncode == 1
    assert "set clevercloud-tcp:token and clevercloud-tcp:secret" in up.stdout
    assert "clevercloud:token" in up.stdout  # pulumi-clevercloud's key, which the dynamic provider reads too
    last = up.stderr.strip().splitlines()
    assert len(last) == 1 and last[0].startswith("clevercloud_tcp.run: pulumi up failed: "), up.stderr
    assert "No Clever Cloud credentials found" in last[0]  # the cause, not the stack's "update failed"


def test_without_a_pulumi_cli_it_says_what_to_run(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "empty-cache")}
    result = run(env, tmp_path, str(EXAMPLE), "preview")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "run scripts/install-pulumi" in result.stderr, result.stderr
    assert not (tmp_path / ".pulumi-local").exists()


def test_bad_program_is_one_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    result = run(clean_env, tmp_path, str(ROOT / "examples"), "up")
    assert result.returncode == 1
    not_a_program = "is neither a Python file nor a folder with __main__.py"
    assert result.stderr == f"clevercloud_tcp.run: PROGRAM: {ROOT / 'examples'} {not_a_program}\n"


@pytest.mark.parametrize("missing", ["starlette", "uvicorn"])
def test_emulator_without_its_extra_is_one_line_and_leaves_no_folder(missing: str, clean_env: dict[str, str], tmp_path: Path) -> None:
    hidden = f"import runpy, sys; sys.modules[{missing!r}] = None; sys.argv[0] = 'run'; runpy.run_module('clevercloud_tcp.run', run_name='__main__')"
    done = subprocess.run([sys.executable, "-c", hidden, str(EXAMPLE), "up", "--emulator"], capture_output=True, text=True, env=clean_env, cwd=tmp_path)
    assert done.returncode != 0
    assert done.stderr.strip() == f"clevercloud_tcp.run: --emulator: the emulator needs {missing}, which is not installed: pip install 'clevercloud-tcp[emulator]'"
    assert not (tmp_path / ".pulumi-local").exists()


def test_a_relative_program_is_found_after_the_change_of_folder(clean_env: dict[str, str], tmp_path: Path) -> None:
    # As docs/dynamic-provider.md runs it: PROGRAM relative to where the command is typed.
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "python-dynamic")
    preview = run(clean_env, tmp_path, "examples/python-dynamic", "preview", "--emulator", "--config", f"appId={APP_ID}")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    assert "+ 3 to create" in preview.stdout


def test_a_program_that_cannot_load_leaves_no_stack(clean_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import pulumi\npulumi.export('x', 1\n")
    up = run(clean_env, tmp_path, "broken.py", "up", "--emulator")
    assert up.returncode == 1
    lines = up.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"clevercloud_tcp.run: PROGRAM: {tmp_path / 'broken.py'} cannot be loaded:"), up.stderr
    assert "line 2" in lines[0]  # where the mistake is
    assert not (tmp_path / ".pulumi-local").exists()  # no backend, no stack, no emulator state


def test_plugin_script_names_PULUMI_PYTHON_CMD_for_a_python_without_pulumi(pulumi_cli: Path, tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    bare = tmp_path / "bare" / "bin" / "python"
    plugin = subprocess.run(
        [str(pulumi_cli / "pulumi-resource-pulumi-python")],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PULUMI_PYTHON_CMD": str(bare)},
    )
    assert plugin.returncode != 0
    lines = plugin.stderr.strip().splitlines()
    assert len(lines) == 1 and "has no pulumi package" in lines[0] and "set PULUMI_PYTHON_CMD" in lines[0], lines


def test_a_program_of_the_plugins_sdk_reaches_the_emulator_too(clean_env: dict[str, str], tmp_path: Path) -> None:
    # examples/python declares through the generated SDK: the plugin reads clevercloud-tcp:* keys only.
    program = ROOT / "examples" / "python"
    up = run(clean_env, tmp_path, str(program), "up", "--emulator", "--config", f"clevercloud-tcp-python:appId={APP_ID}")
    assert up.returncode == 0, up.stdout + up.stderr
    assert sorted(r["namespace"] for r in held(tmp_path / ".pulumi-local" / "emulator.sqlite")) == ["cleverapps", "default"]
    destroy = run(clean_env, tmp_path, str(program), "destroy", "--emulator")
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    assert held(tmp_path / ".pulumi-local" / "emulator.sqlite") == []


def test_a_program_that_fails_before_declaring_anything_leaves_an_empty_stack(clean_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "missing_import.py").write_text("import pulumi\nimport no_such_module_of_this_program\n")
    up = run(clean_env, tmp_path, "missing_import.py", "up", "--emulator")
    assert up.returncode == 1
    lines = up.stderr.strip().splitlines()
    assert len(lines) == 1 and "no_such_module_of_this_program" in lines[0], up.stderr
    env = {**clean_env, **engine_env(find_pulumi() or Path(), tmp_path / ".pulumi-local")}
    exported = subprocess.run(
        ["pulumi", "stack", "export", "-s", "dev", "--cwd", str(tmp_path / ".pulumi-local")], capture_output=True, text=True, env=env
    )
    assert exported.returncode == 0, exported.stderr
    assert not json.loads(exported.stdout)["deployment"].get("resources"), "the failed up left resources in the state"
