"""The examples in other languages (examples/typescript, examples/go), run through their Automation API drivers.

Each example has a driver that runs its program inline (`<driver> up|preview|refresh|destroy --app-id …`)
and prints a JSON report as its last stdout line. `ExampleStack` runs it against an emulator and a local
file backend; `check_life_cycle` is the life cycle every example must pass, checked against what the
emulator holds and what the state records.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from clevercloud_tcp import CleverCloudClient, OAuthCredentials
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime.local_stack import engine_env
from support import MQTT_APP, SECRET, TOKEN, held_ports, recorded_ports, unavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pulumi-clevercloud-tcp"
OWNER = "orga_3b5a6c1e-6f0a-4c3e-9d7e-1f2a3b4c5d6e"
MQTT_CLEVERAPPS = "app-1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c.cleverapps.io"
MQTT_FAVOURITE = "broker.acme.example"


def require_tools(*names: str, why: str) -> None:
    """Skips when one of the tools is missing, or fails when CLEVERCLOUD_TCP_REQUIRE_ALL says nothing may be skipped."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        unavailable(f"no {', '.join(f'`{n}`' for n in missing)} on PATH: {why}")


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def succeed(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = run(args, cwd, env)
    assert done.returncode == 0, f"{' '.join(args)} failed in {cwd}:\n{done.stdout}{done.stderr}"
    return done.stdout


def content_key(root: Path, paths: Iterable[Path]) -> str:
    """A digest of the files' paths below root and their bytes: a cache entry stays valid while it holds."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cached(name: str, key: str, build: Callable[[Path], None]) -> Path:
    """`CACHE/name/key`, made by `build(folder)` the first time; entries of other keys are removed.

    Built aside and renamed, so that an interrupted build is never taken for a finished one; partial
    builds of this key (another run's, or an interrupted one's) are left alone.
    """
    root = CACHE / name
    done = root / key
    if not done.is_dir():
        partial = root / f"{key}.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        build(partial)
        for stale in root.iterdir():
            if not stale.name.startswith(key):
                shutil.rmtree(stale, ignore_errors=True)
        try:
            partial.rename(done)
        except OSError:  # another run finished the same build first
            shutil.rmtree(partial)
    return done


def typescript_node_modules(pulumi_version: str = "") -> Path:
    """examples/typescript's node_modules as `npm ci` makes it, beside the SDK that package.json points at.

    Made as docs/languages.md says, in a copy of the checkout's layout (so that package.json's
    file:../../sdk/nodejs/bin holds): scripts/build-node-sdk, then npm in the example's folder; with
    `pulumi_version`, that @pulumi/pulumi instead of the pinned one. Cached per content of the SDK, the
    scripts and the manifests, and per version.
    """
    require_tools("node", "npm", why="the TypeScript programs are compiled with tsc and run by node, from npm packages")
    sdk, example = REPO_ROOT / "sdk" / "nodejs", REPO_ROOT / "examples" / "typescript"
    scripts = [REPO_ROOT / "scripts" / name for name in ("build-node-sdk", "install-node-sdk-deps", "cache-lock.sh")]
    manifests = [example / name for name in ("package.json", "package-lock.json", ".npmrc")]
    sources = [p for p in sdk.rglob("*") if p.is_file() and not {"node_modules", "bin"} & set(p.relative_to(sdk).parts)]

    def build(folder: Path) -> None:
        shutil.copytree(sdk, folder / "sdk" / "nodejs", ignore=shutil.ignore_patterns("node_modules", "bin"))
        for path in [*scripts, *manifests]:
            (folder / path.relative_to(REPO_ROOT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, folder / path.relative_to(REPO_ROOT))
        succeed([str(folder / "scripts" / "build-node-sdk")], folder)
        succeed(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], folder / "examples" / "typescript")
        if pulumi_version:
            npm_install = ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error"]
            succeed([*npm_install, f"@pulumi/pulumi@{pulumi_version}"], folder / "examples" / "typescript")

    key = content_key(REPO_ROOT, [*sources, *scripts, *manifests])
    name = f"example-typescript-{pulumi_version}" if pulumi_version else "example-typescript"
    return cached(name, key, build) / "examples" / "typescript" / "node_modules"


class ExampleStack:
    """One example's driver, on its own local backend, against one emulator, for the app MQTT_APP."""

    def __init__(self, driver: list[str], project: str, cli_dir: Path, emulator: EmulatorProcess, work: Path) -> None:
        self.driver, self.project, self.work = driver, project, work
        (work / "backend").mkdir()
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "CLEVER_"))}
        # Credentials reach the plugin the engine starts through its environment, never the argv or the state.
        self.env = {**inherited, **engine_env(cli_dir, work, {"CLEVER_TOKEN": TOKEN, "CLEVER_SECRET": SECRET})}
        self.endpoint = emulator.url

    def invoke(self, command: str, namespace: str | None = None, app_id: str = MQTT_APP) -> subprocess.CompletedProcess[str]:
        extra = ["--namespace", namespace] if namespace else []
        return run([*self.driver, command, "--app-id", app_id, "--endpoint", self.endpoint, *extra], self.work, self.env, timeout=300)

    def run(self, command: str, namespace: str | None = None) -> dict[str, Any]:
        """The driver's report of `command`: `changes` (operation: count) and, after up or refresh, `outputs`."""
        done = self.invoke(command, namespace)
        assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def recorded(self) -> dict[str, int]:
        """The redirections the state records: port by namespace."""
        exported = succeed(["pulumi", "stack", "export", "--stack", f"organization/{self.project}/dev"], self.work, self.env)
        return recorded_ports(json.loads(exported)["deployment"])


def held(emulator: EmulatorProcess) -> dict[str, int]:
    """The example's redirections the emulator holds: namespace -> port."""
    return held_ports(emulator, MQTT_APP)


def check_life_cycle(stack: ExampleStack, emulator: EmulatorProcess) -> None:
    """up, preview with no change, replace on a namespace change, refresh after an out-of-band delete, destroy."""
    api = CleverCloudClient(emulator.url, OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(SECRET)))

    out = stack.run("up")["outputs"]
    assert held(emulator) == {"cleverapps": out["cleverappsPort"], "default": out["primaryPort"]} == stack.recorded()
    assert out["cleverappsUrl"] == f"tcp://{MQTT_CLEVERAPPS}:{out['cleverappsPort']}"
    assert out["primaryUrl"] == f"tcp://{MQTT_FAVOURITE}:{out['primaryPort']}"
    assert out["mqttUri"] == f"mqtt://{MQTT_FAVOURITE}:{out['primaryPort']}"
    assert out["namespaces"] == ["acme-dedicated", "cleverapps", "default"]  # the organisation's, found from the app
    assert out["redirections"] == [{"namespace": ns, "port": port} for ns, port in sorted(held(emulator).items())]

    # No change: the preview says so and writes nothing (the look-ups still read).
    emulator.clear_log()
    assert stack.run("preview")["changes"] == {"same": 3}  # the stack and the two redirections
    assert emulator.writes() == []

    # A namespace change replaces, making the new port before the old one goes.
    old = out["primaryPort"]
    emulator.clear_log()
    replaced = stack.run("up", namespace="acme-dedicated")
    writes = [(w["method"], w["path"]) for w in emulator.writes()]
    assert [method for method, _ in writes] == ["POST", "DELETE"], writes
    assert writes[1][1].endswith(f"/tcpRedirs/{old}"), writes
    assert replaced["changes"].get("replace") == 1, replaced
    assert set(held(emulator)) == {"cleverapps", "acme-dedicated"} and stack.recorded() == held(emulator)
    assert replaced["outputs"]["primaryPort"] == held(emulator)["acme-dedicated"]
    assert replaced["outputs"]["primaryNamespace"] == "acme-dedicated"

    # Removed outside Pulumi: a refresh drops it from the state; the next up makes it again.
    api.remove_tcp_redirection(OWNER, MQTT_APP, "acme-dedicated", held(emulator)["acme-dedicated"])
    stack.run("refresh", namespace="acme-dedicated")
    assert stack.recorded() == {"cleverapps": out["cleverappsPort"]}
    again = stack.run("up", namespace="acme-dedicated")
    assert again["changes"].get("create") == 1, again
    assert set(held(emulator)) == {"cleverapps", "acme-dedicated"} and stack.recorded() == held(emulator)

    stack.run("destroy")
    assert held(emulator) == {} and stack.recorded() == {}


def check_refusal_reads_as_one_line(stack: ExampleStack, emulator: EmulatorProcess) -> None:
    """A bad app id: the driver's last line is the provider's message naming the field; nothing is written."""
    done = stack.invoke("up", app_id="my-app")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("automation: ") and "property appId value {my-app} has a problem: expected an application id like app_<uuid>" in last, done.stderr
    assert "Traceback" not in last and " at " not in last
    assert emulator.writes() == []
