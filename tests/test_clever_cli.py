"""Fidelity with the official CLI: `clever tcp-redirs` (npm `clever-tools`) driven against the emulator.

The CLI is installed once into a cache outside the repository. Without Node.js and npm these tests
are skipped, unless CLEVERCLOUD_TCP_REQUIRE_ALL=1, which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from clevercloud_tcp import CleverCloudClient
from clevercloud_tcp.emulator.process import EmulatorProcess
from support import APP, OWNER, SECRET, TOKEN, held

pytestmark = pytest.mark.clever_cli

INSTALL_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "install-clever-tools"
RunClever = Callable[..., "subprocess.CompletedProcess[str]"]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CLEVERCLOUD_TCP_REQUIRE_ALL"):
        pytest.fail(f"{reason}; CLEVERCLOUD_TCP_REQUIRE_ALL is set, so this is a failure")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def clever() -> Path:
    """The `clever` executable, installed on first use by scripts/install-clever-tools."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        _unavailable(f"the clever-tools CLI needs {' and '.join(missing)} on PATH")
    result = subprocess.run(["bash", str(INSTALL_SCRIPT)], capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        pytest.fail(f"scripts/install-clever-tools failed:\n{result.stderr[-3000:]}")
    binary = Path(result.stdout.strip().splitlines()[-1])
    assert binary.exists(), binary
    return binary


@pytest.fixture
def run_clever(clever: Path, emulator: EmulatorProcess, tmp_path: Path) -> RunClever:
    """Runs `clever ARGS --no-update-notifier` against the emulator, with its own config and home."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "API_HOST": emulator.url,
        "CLEVER_TOKEN": TOKEN,
        "CLEVER_SECRET": SECRET,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "HOME": str(tmp_path / "home"),
    }
    (tmp_path / "home").mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(clever), *args, "--no-update-notifier"], env=env, capture_output=True, text=True, timeout=120
        )

    return run


def test_list_in_json_shows_what_the_client_added(run_clever: RunClever, client: CleverCloudClient) -> None:
    empty = run_clever("tcp-redirs", "--app", APP, "--format", "json")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout) == []

    added = [client.add_tcp_redirection(OWNER, APP, ns) for ns in ("default", "cleverapps")]
    listed = run_clever("tcp-redirs", "--app", APP, "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert sorted(json.loads(listed.stdout), key=lambda r: r["namespace"]) == sorted(
        ({"namespace": r.namespace, "port": r.port} for r in added), key=lambda r: r["namespace"]
    )


def test_add_prints_the_port_the_emulator_holds(run_clever: RunClever, emulator: EmulatorProcess) -> None:
    result = run_clever("tcp-redirs", "add", "--namespace", "default", "--app", APP)
    assert result.returncode == 0, result.stderr
    match = re.search(r"port:? (\d+)", result.stdout)
    assert match, result.stdout
    assert held(emulator) == [(APP, "default", int(match.group(1)))]


def test_second_add_fails_with_the_api_message(run_clever: RunClever, emulator: EmulatorProcess) -> None:
    assert run_clever("tcp-redirs", "add", "--namespace", "default", "--app", APP).returncode == 0
    again = run_clever("tcp-redirs", "add", "--namespace", "default", "--app", APP)
    assert again.returncode != 0
    assert "already has a TCP redirection" in again.stdout + again.stderr
    assert len(held(emulator)) == 1


def test_remove_takes_the_port_away(
    run_clever: RunClever, client: CleverCloudClient, emulator: EmulatorProcess
) -> None:
    port = client.add_tcp_redirection(OWNER, APP, "default").port
    result = run_clever("tcp-redirs", "remove", "--namespace", "default", str(port), "--app", APP)
    assert result.returncode == 0, result.stderr
    assert held(emulator) == []
    # Removing it again is an error the CLI reports with the API's message.
    again = run_clever("tcp-redirs", "remove", "--namespace", "default", str(port), "--app", APP)
    assert again.returncode != 0
    assert str(port) in again.stdout + again.stderr


def test_list_namespaces(run_clever: RunClever) -> None:
    text = run_clever("tcp-redirs", "list-namespaces", "--app", APP)
    assert text.returncode == 0, text.stderr
    listed = set(re.findall(r"^- ([\w-]+)", text.stdout, re.MULTILINE))
    assert listed == {"default", "cleverapps", "acme-dedicated"}
    as_json = run_clever("tcp-redirs", "list-namespaces", "--app", APP, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert {ns["namespace"] for ns in json.loads(as_json.stdout)} == {"default", "cleverapps", "acme-dedicated"}
