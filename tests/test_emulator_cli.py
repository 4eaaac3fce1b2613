"""`python -m clevercloud_tcp.emulator` as a user starts it: what it refuses, and the answer options."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clevercloud_tcp.emulator import DEFAULT_FIXTURE
from clevercloud_tcp.emulator.process import EmulatorProcess
from support import APP, OWNER, oauth, plaintext

PROG = "python -m clevercloud_tcp.emulator: error: "
REDIRS = f"/v2/organisations/{OWNER}/applications/{APP}/tcpRedirs"
EXTRA = "pip install 'clevercloud-tcp[emulator]'"


def run(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    """The emulator with `args`, expected to stop at once (`code`: Python run in its place, before it)."""
    if code is None:
        cmd = [sys.executable, "-m", "clevercloud_tcp.emulator", *args]
    else:
        start = "import runpy, sys; sys.argv = ['emulator', *sys.argv[1:]]; "
        run_it = "runpy.run_module('clevercloud_tcp.emulator', run_name='__main__')"
        cmd = [sys.executable, "-c", start + code + "; " + run_it, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, result
    assert result.stdout == ""
    [line] = result.stderr.splitlines()  # one line: no traceback
    assert line.startswith(PROG), line
    for word in words:
        assert word in line, line
    return line


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_busy_port_is_one_line(busy_port: int) -> None:
    assert_one_line_error(run("--port", str(busy_port)), f"--port {busy_port}", "in use")


def test_a_missing_fixture_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run("--fixture", str(tmp_path / "nope.json")), "nope.json", "No such file")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", ["Invalid JSON"]),
        ('{"users": []}', ["namespaces", "Field required"]),
        ('{"users": [], "namespaces": [], "surprise": 1}', ["surprise", "Extra inputs"]),
    ],
    ids=["not JSON", "field missing", "unknown field"],
)
def test_a_malformed_fixture_is_one_line(tmp_path: Path, content: str, words: list[str]) -> None:
    path = tmp_path / "fixture.json"
    path.write_text(content)
    assert_one_line_error(run("--fixture", str(path)), "--fixture", *words)


def test_an_app_id_that_is_a_name_is_refused(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_FIXTURE.model_dump_json())
    data["organisations"][0]["applications"][1]["id"] = "my-pg-app"
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps(data))
    assert_one_line_error(run("--fixture", str(path)), "organisations.0.applications.1.id", "'my-pg-app'", "app_<uuid>")


def test_an_unusable_state_file_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run("--state", str(tmp_path)), "--state")


def test_a_remote_host_needs_allow_remote() -> None:
    assert_one_line_error(run("--host", "0.0.0.0"), "--host 0.0.0.0", "--allow-remote")


@pytest.mark.parametrize("options", [["--port", "many"], ["--no-such-option"], ["--empty-list", "500"]])
def test_a_bad_option_is_one_line(options: list[str]) -> None:
    assert_one_line_error(run(*options), options[0], "--help")


def test_allow_remote_warns_before_listening() -> None:
    # 192.0.2.1 (TEST-NET-1) is nobody's address: the bind fails, after the warning and before any exposure.
    result = run("--host", "192.0.2.1", "--allow-remote")
    warning, error = result.stderr.splitlines()
    assert warning.startswith("warning: --host 192.0.2.1") and "no authentication" in warning
    assert error.startswith(PROG) and result.returncode == 2


@pytest.mark.parametrize("missing", ["starlette", "uvicorn"])
def test_without_the_emulator_extra_it_says_what_to_install(missing: str) -> None:
    line = assert_one_line_error(run(code=f"sys.modules[{missing!r}] = None"), EXTRA)
    assert missing in line


def _request(emu: EmulatorProcess, method: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.request(method, emu.url + path, headers={"Authorization": plaintext(oauth())}, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "empty", "post", "delete"),
    [
        ([], (200, []), 200, (200, {"id": 200, "message": "The TCP redirection has been removed", "type": "success"})),
        (["--empty-list", "404", "--post-status", "201", "--delete-answer", "204"], (404, None), 201, (204, None)),
        (["--delete-answer", "empty-json"], (200, []), 200, (200, {})),
    ],
    ids=["defaults", "404, 201, 204", "{}"],
)
def test_answer_options(options: list[str], empty: tuple[int, object], post: int, delete: tuple[int, object]) -> None:
    with EmulatorProcess(options=options) as emu:
        listed = _request(emu, "GET", REDIRS)
        assert listed.status_code == empty[0]
        assert listed.json() == empty[1] or listed.json()["type"] == "error"
        added = _request(emu, "POST", REDIRS, json={"namespace": "default"})
        assert added.status_code == post and set(added.json()) == {"namespace", "port"}
        removed = _request(emu, "DELETE", f"{REDIRS}/{added.json()['port']}", params={"namespace": "default"})
        assert removed.status_code == delete[0]
        assert (removed.json() if removed.content else None) == delete[1]
        assert emu.redirections() == []
