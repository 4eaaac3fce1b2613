"""Constants and helpers the tests share (importable as `support`: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn
from urllib.parse import quote

import pulumi
import pytest
from pulumi import automation as auto
from pydantic import SecretStr

from clevercloud_tcp import OAuthCredentials, RetryPolicy
from clevercloud_tcp.config import ALLOW_HTTP
from clevercloud_tcp.emulator.fixture import DEFAULT_FIXTURE, ORG_ID
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime.local_stack import engine_env
from clevercloud_tcp.testing.harness import NO_ENGINE, ProviderHost
from clevercloud_tcp.testing.plugin_harness import PluginHost

TOKEN, SECRET = "emulator-token", "emulator-secret"
APP = "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b"  # redis-cache in the default fixture, owned by ORG_ID
MQTT_APP = "app_1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c"  # two custom domains, favourite broker.acme.example
GAME_APP = "app_2f6b8c6a-5e4d-4a3b-9cad-9e8f7a6b5c4d"  # game-server of ORG_ID: no domain, so few look-ups
OWNER = ORG_ID
FIXTURE_APPS = {app.id for owner in [*DEFAULT_FIXTURE.users, *DEFAULT_FIXTURE.organisations] for app in owner.applications}
# make_stack(program, config=..., secrets=..., stack=...): see tests/e2e/conftest.py
StackFactory = Callable[..., auto.Stack]
FAST_RETRIES = RetryPolicy(attempts=4, total_seconds=10, first_backoff=0.01, max_backoff=0.05)


def unavailable(reason: str) -> NoReturn:
    """A test whose tool or privilege is missing: skips, or fails when CLEVERCLOUD_TCP_REQUIRE_ALL says
    nothing may be skipped (CI)."""
    if os.environ.get("CLEVERCLOUD_TCP_REQUIRE_ALL"):
        pytest.fail(reason + "; CLEVERCLOUD_TCP_REQUIRE_ALL is set, so this is a failure")
    pytest.skip(reason)


# --- the release, built as the release workflow builds it ---------------------------------------------

REPO = Path(__file__).resolve().parents[1]


def script(name: str) -> ModuleType:
    """A module of scripts/ (the release tools), which import each other by their plain names."""
    if str(REPO / "scripts") not in sys.path:
        sys.path.insert(0, str(REPO / "scripts"))
    return importlib.import_module(name)


def interpreter(minor: str) -> str:
    """python3.<minor>: on PATH, or as pyenv installs it."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = [str(p) for p in sorted(pyenv.glob(f"3.{minor}.*/bin/python3.{minor}"))] + [shutil.which(f"python3.{minor}") or ""]
    for candidate in filter(None, found):
        if subprocess.run([candidate, "-c", "import venv, ensurepip"], capture_output=True).returncode == 0:
            return candidate
    unavailable(f"no Python 3.{minor} with venv and ensurepip (python3.{minor} on PATH or in pyenv)")


def fresh_clone(work: Path) -> Path:
    """The checkout's HEAD, cloned: nothing built, no .venv, no dist."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    clone = work / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(clone)], check=True, timeout=300)
    subprocess.run(["git", "checkout", "--quiet", "--detach", head], cwd=clone, check=True, timeout=300)
    return clone


def release_in_fresh_clone(work: Path, python: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`scripts/release --out DIR [args]` in a fresh clone (DIR its dist/), its .venv made by `python`, none of
    this venv's settings or PATH inherited; asserts it succeeded."""
    clone = fresh_clone(work)
    venv_bin = str(Path(sys.prefix) / "bin")
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != venv_bin)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    done = subprocess.run(
        [clone / "scripts" / "release", "--out", clone / "dist", *args],  # where the release workflow has it
        env={**env, "PATH": path, "PYTHON": python},
        capture_output=True,
        text=True,
        timeout=2400,
    )
    assert done.returncode == 0, f"scripts/release failed on a fresh clone with {python}:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done


def release_from_fresh_clone(work: Path, python: str, *args: str) -> Path:
    """The folder that `release_in_fresh_clone` fills."""
    release_in_fresh_clone(work, python, *args)
    return work / "clone" / "dist"


def oauth(token: str = TOKEN, secret: str = SECRET) -> OAuthCredentials:
    return OAuthCredentials(token=SecretStr(token), secret=SecretStr(secret))


def plaintext(credentials: OAuthCredentials) -> str:
    """The OAuth1 PLAINTEXT header of `credentials`, as older clients send it (the provider signs with
    HMAC-SHA512): the signature is "consumer_secret&token_secret", each part encoded, then encoded again."""
    key = "&".join(quote(s.get_secret_value(), safe="~-._") for s in (credentials.consumer_secret, credentials.secret))
    return (
        f'OAuth oauth_consumer_key="{quote(credentials.consumer_key.get_secret_value(), safe="~-._")}", '
        f'oauth_token="{quote(credentials.token.get_secret_value(), safe="~-._")}", '
        f'oauth_signature_method="PLAINTEXT", oauth_signature="{quote(key, safe="~-._")}"'
    )


# The two faces as the engine drives them, over gRPC: the dynamic provider host and the plugin.
HOST_FACES = ("dynamic", "plugin")


def provider_host(face: str, emulator: EmulatorProcess, engine: str = NO_ENGINE, **options: str) -> ProviderHost:
    """A provider process of `face` pointed at `emulator` with the fixture's credentials, and `options`
    (`requestTimeout`, `retryAttempts`, …) in the package's config namespace; hosts given the same
    `engine` address act as processes of one `pulumi` command."""
    if face == "plugin":
        return PluginHost({"endpoint": emulator.url, "token": TOKEN, "secret": SECRET, **options}, engine=engine)
    return ProviderHost(
        {
            "clevercloud:endpoint": emulator.url,
            "clevercloud:token": TOKEN,
            "clevercloud:secret": SECRET,
            **{f"clevercloud-tcp:{name}": value for name, value in options.items()},
        },
        engine=engine,
    )


def plain_export(pulumi_cli: Path, state_dir: Path, stack: str = "dev") -> str:
    """`pulumi stack export` of a `make_stack` stack as a user runs it: without --show-secrets (the
    Automation API's export_stack always adds it)."""
    done = subprocess.run(
        [str(pulumi_cli / "pulumi"), "stack", "export", "--stack", stack],
        cwd=state_dir,
        env={**os.environ, **engine_env(pulumi_cli, state_dir)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def quiet(_: str) -> None:
    """Swallows the engine's output (`on_output=quiet`)."""


def held(emulator: EmulatorProcess) -> list[tuple[str, str, int]]:
    """(app, namespace, port) of every redirection the emulator holds, as it lists them."""
    return [(r["app_id"], r["namespace"], r["port"]) for r in emulator.redirections()]


def held_ports(emulator: EmulatorProcess, app: str | None = None) -> dict[str, int]:
    """namespace -> port of what the emulator holds (for `app` only, when given)."""
    return {namespace: port for app_id, namespace, port in held(emulator) if app in (None, app_id)}


def recorded(deployment: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """(app, namespace, port) of every TcpRedirection an exported deployment records, duplicates kept."""
    resources = [r for r in deployment.get("resources", []) if r["type"].endswith(":TcpRedirection")]
    return [(r["outputs"]["appId"], r["outputs"]["namespace"], int(r["outputs"]["port"])) for r in resources]


def recorded_ports(deployment: Mapping[str, Any]) -> dict[str, int]:
    """namespace -> port of what an exported deployment records."""
    return {namespace: port for _, namespace, port in recorded(deployment)}


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that record each resource's inputs and answer `outputs_for(inputs)` (inputs echoed by default)."""

    def __init__(self) -> None:
        self.created: list[tuple[str, dict[str, Any]]] = []

    def install(self) -> RecordingMocks:
        pulumi.runtime.set_mocks(self, preview=False)
        return self

    def outputs_for(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return "id", inputs

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        self.created.append((args.typ, inputs))
        return self.outputs_for(inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []



# The fault matrix's axes (tests/test_fault_matrix.py over gRPC, tests/e2e/test_faults.py through the engine).


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # glob on the URL path, as the emulator's fault rules take it


@dataclass(frozen=True)
class Fault:
    name: str
    rule: dict[str, Any]
    options: dict[str, str] = field(default_factory=dict)  # the package's options (`requestTimeout`) it needs


def played_out(emulator: EmulatorProcess, fault: Fault) -> list[dict[str, Any]]:
    """The request log once the armed fault has played out.

    A delayed request is logged only when it ends, which may be after the client gave up on it; it may
    still change something then, so it must be over before the API is compared with anything.
    """
    deadline = time.monotonic() + float(fault.rule.get("delay", 0)) + 10
    while "delay" in fault.rule and not any(e["outcome"] == "delayed" for e in emulator.log()):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return emulator.log()


# Endpoints that are not the API, and an environment that holds no credential.


class _HtmlPage(BaseHTTPRequestHandler):
    """Answers every request with an HTML page, with the status `status`."""

    status = 200

    def do_GET(self) -> None:
        body = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_DELETE = do_GET

    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def html_endpoint(status: int = 200) -> Iterator[str]:
    """The URL of a web server on 127.0.0.1 that answers HTML with `status`, as a login page or a proxy would."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("HtmlPage", (_HtmlPage,), {"status": status}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def closed_endpoint() -> str:
    """The URL of a port that was free a moment ago, and that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def sdk_go_module(folder: Path, name: str = "example.com/program") -> None:
    """Makes `folder` a Go module `name` that uses sdk/go from the checkout, with the SDK's own pins (go.mod, go.sum)."""
    sdk = Path(__file__).resolve().parents[1] / "sdk" / "go"
    sdk_mod = (sdk / "go.mod").read_text()
    module, go = sdk_mod.split("\n")[0].removeprefix("module "), re.search(r"^go (\S+)", sdk_mod, re.M)
    requires = sdk_mod[sdk_mod.index("require") :]
    (folder / "go.mod").write_text(
        f"module {name}\n\ngo {go.group(1) if go else '1.25'}\n\nrequire {module} v0.0.0\n\nreplace {module} => {sdk}\n\n{requires}"
    )
    shutil.copy(sdk / "go.sum", folder / "go.sum")


def no_profile(tmp_path: Path) -> dict[str, str]:
    """HOME and XDG_CONFIG_HOME of an empty home, to lay over an engine's environment: no clever-tools
    profile can supply credentials (bare_env also drops the credentials of the environment)."""
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "home" / "config")}


def bare_env(home: Path, **extra: str) -> dict[str, str]:
    """This environment without any credential, endpoint or opt-in to plain http, an empty home (no clever-tools
    profile), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEVER_", "CC_", "OAUTH_")) and k not in ("API_HOST", ALLOW_HTTP)}
    return {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), **extra}
