"""The release, installed as a new user installs it: from its artifacts, outside this repository.

`scripts/release` builds from a fresh clone into a temporary folder, which an HTTP server on 127.0.0.1
serves as the GitHub release. Each language then runs from a fresh folder with an empty `PULUMI_HOME` and a `PATH` of
the `pulumi` CLI and the system only (no virtualenv of this project, no plugin anywhere). The only thing
pointed at this machine is `PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES`: the schema's real download URL is
redirected to the local server, so the engine finds, downloads and unpacks the plugin archive by itself.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.testing import load_module
from doc_samples import Sample, doc_samples
from example_programs import MQTT_APP, SECRET, TOKEN, held, require_tools
from support import release_from_fresh_clone, unavailable

ROOT = Path(__file__).resolve().parents[2]
debian_root = load_module("debian_root", ROOT / "scripts" / "debian_root.py")
PROGRAMS = Path(__file__).resolve().parent / "outside"
SCHEMA = json.loads((ROOT / "schema.json").read_text())
VERSION = (ROOT / "VERSION").read_text().strip()
RELEASE_URL = SCHEMA["pluginDownloadURL"].replace("${VERSION}", VERSION)
ARCHIVE = f"pulumi-resource-clevercloud-tcp-v{VERSION}-linux-amd64.tar.gz"
# The first test of the module also waits for the release build: on a fresh machine, the Debian roots and
# their CPython are made first (tens of minutes on 2 busy cores).
pytestmark = pytest.mark.timeout(3600)
PLUGIN_DIR = f"plugins/resource-clevercloud-tcp-v{VERSION}"
NODE_PINS = {"@pulumi/pulumi": "3.270.0", "typescript": "5.9.3", "@types/node": "20.19.43"}  # as scripts/install-node-sdk-deps


class ReleaseHost:
    """The release folder over HTTP on 127.0.0.1, with the paths asked for."""

    def __init__(self, folder: Path) -> None:
        self.requested: list[str] = []
        host = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                host.requested.append(self.path)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def downloads_of(self, name: str) -> int:
        return sum(1 for path in self.requested if path.rsplit("/", 1)[-1] == name)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # As the release workflow builds it: a fresh clone, its own venv. The Linux plugin is built in the Debian
    # 11 root, which needs root (tests/test_release_build.py fails without it in CI); without, natively.
    try:
        debian_root.require_root()
        where: tuple[str, ...] = ()
    except debian_root.RootError:
        where = ("--plugin-host", "native")
    python = getattr(sys, "_base_executable", sys.executable)
    return release_from_fresh_clone(tmp_path_factory.mktemp("release"), python, *where)


@pytest.fixture(scope="module")
def release_host(release: Path) -> Iterator[ReleaseHost]:
    host = ReleaseHost(release)
    yield host
    host.server.shutdown()


class NewUser:
    """A fresh folder, home and `PULUMI_HOME`, with only the CLI and the system on PATH."""

    def __init__(self, work: Path, pulumi_cli: Path, host: ReleaseHost, emulator: EmulatorProcess) -> None:
        self.work, self.home = work / "project", work / "pulumi-home"
        self.work.mkdir()
        (work / "backend").mkdir()
        self.env = {
            "PATH": os.pathsep.join([str(pulumi_cli), "/usr/local/go/bin", "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(work),
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{work / 'backend'}",
            "PULUMI_CONFIG_PASSPHRASE": "outside",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
            # The SDKs register the URL with `${VERSION}` in it; `--server` gives it filled in: either form.
            "PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES": f"^{re.escape(RELEASE_URL.rsplit('/', 1)[0])}/.*$={host.url}",
            # The user's Clever Cloud login, as clever-tools keeps it in the environment.
            "CLEVER_TOKEN": TOKEN,
            "CLEVER_SECRET": SECRET,
            "API_HOST": emulator.url,
            # The emulator is plain http, which the plugin refuses without the user's opt-in.
            "CLEVERCLOUD_TCP_ALLOW_HTTP": "true",
        }

    def run(self, *args: str | Path, timeout: float = 600) -> str:
        done = subprocess.run([str(a) for a in args], cwd=self.work, env=self.env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def report(self, *args: str | Path) -> dict[str, Any]:
        return dict(json.loads(self.run(*args).strip().splitlines()[-1]))

    def plugin_installed(self) -> bool:
        return (self.home / PLUGIN_DIR / "pulumi-resource-clevercloud-tcp").is_file()


@pytest.fixture
def user(tmp_path: Path, pulumi_cli: Path, release_host: ReleaseHost, e2e_emulator: EmulatorProcess) -> NewUser:
    return NewUser(tmp_path, pulumi_cli, release_host, e2e_emulator)


def assert_up_matches_the_api(outputs: dict[str, Any], emulator: EmulatorProcess) -> None:
    assert held(emulator) == {"cleverapps": outputs["cleverappsPort"], "default": outputs["defaultPort"]}


def assert_downloaded(user: NewUser, host: ReleaseHost) -> None:
    assert user.plugin_installed(), "the engine did not install the plugin into the user's PULUMI_HOME"
    assert host.downloads_of(ARCHIVE) >= 1, host.requested


# --- the artifacts ---------------------------------------------------------------------------------


def test_release_holds_every_artifact_with_its_checksum(release: Path) -> None:
    names = {path.name for path in release.iterdir()}
    assert names == {
        ARCHIVE,
        ARCHIVE.removesuffix(".tar.gz") + ".cdx.json",  # its bill of materials
        f"pulumi-clevercloud-tcp-{VERSION}.tgz",
        f"pulumi_clevercloud_tcp-{VERSION}-py3-none-any.whl",
        f"pulumi_clevercloud_tcp-{VERSION}.tar.gz",
        f"clevercloud_tcp-{VERSION}-py3-none-any.whl",
        f"clevercloud_tcp-{VERSION}.tar.gz",
        "schema.json",
        "checksums.txt",
    }
    sums = dict(reversed(line.split("  ")) for line in (release / "checksums.txt").read_text().splitlines())
    assert set(sums) == names - {"checksums.txt"}
    for name, digest in sums.items():
        assert hashlib.sha256((release / name).read_bytes()).hexdigest() == digest, name
    assert json.loads((release / "schema.json").read_text()) == SCHEMA


def test_plugin_archive_is_a_self_contained_executable_at_its_root(release: Path, tmp_path: Path) -> None:
    with tarfile.open(release / ARCHIVE) as archive:
        members = archive.getmembers()
        archive.extractall(tmp_path, filter="data")
    assert not [m.name for m in members if m.issym() or m.islnk()], "links in the archive: older CLIs refuse them"
    names = {m.name for m in members}
    assert "pulumi-resource-clevercloud-tcp" in names and "PulumiPlugin.yaml" not in names
    executable = tmp_path / "pulumi-resource-clevercloud-tcp"
    assert executable.read_bytes()[:4] == b"\x7fELF", "not a native executable"
    # No Python, no PATH, no HOME: what it needs is in the archive.
    done = subprocess.run(["env", "-i", str(executable), "--version"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, VERSION), done.stderr


def test_npm_tarball_is_the_compiled_sdk_with_the_plugin_source(release: Path) -> None:
    with tarfile.open(release / f"pulumi-clevercloud-tcp-{VERSION}.tgz") as tarball:
        names = set(tarball.getnames())
        package = json.loads(tarball.extractfile("package/package.json").read())  # type: ignore[union-attr]
    assert {"package/index.js", "package/index.d.ts", "package/tcpRedirection.js", "package/README.md"} <= names
    assert not [n for n in names if n.endswith(".ts") and not n.endswith(".d.ts")], "TypeScript sources shipped"
    assert package["pulumi"] == {"resource": True, "name": "clevercloud-tcp", "version": VERSION, "server": SCHEMA["pluginDownloadURL"]}


# --- each language, as a new user -----------------------------------------------------------------


def test_yaml_user_installs_the_plugin_from_the_release_and_runs_plain_pulumi(
    user: NewUser, release_host: ReleaseHost, e2e_emulator: EmulatorProcess
) -> None:
    shutil.copy(PROGRAMS / "Pulumi.yaml", user.work / "Pulumi.yaml")
    user.run("pulumi", "plugin", "install", "resource", "clevercloud-tcp", VERSION, "--server", RELEASE_URL)
    assert_downloaded(user, release_host)
    user.run("pulumi", "stack", "init", "dev")
    user.run("pulumi", "config", "set", "appId", MQTT_APP)
    up = user.run("pulumi", "up", "--yes", "--skip-preview")
    assert "from $PATH" not in up
    assert_up_matches_the_api(json.loads(user.run("pulumi", "stack", "output", "--json")), e2e_emulator)
    e2e_emulator.clear_log()
    user.run("pulumi", "preview", "--expect-no-changes")
    assert e2e_emulator.writes() == []
    user.run("pulumi", "destroy", "--yes")
    assert held(e2e_emulator) == {}


@pytest.mark.parametrize("sample", [s for s in doc_samples() if s.value == "release-archive"], ids=lambda s: s.name)
def test_the_docs_install_a_carried_over_archive_without_any_download(
    sample: Sample, user: NewUser, release: Path, release_host: ReleaseHost, e2e_emulator: EmulatorProcess
) -> None:
    # The archive and checksums.txt as a user carries them over; nothing points the engine at any release.
    for name in (ARCHIVE, "checksums.txt"):
        shutil.copy(release / name, user.work / name)
    del user.env["PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES"]
    downloads = release_host.downloads_of(ARCHIVE)
    said = user.run("bash", "-e", "-c", sample.code)
    assert f"{ARCHIVE}: OK" in said and user.plugin_installed()

    shutil.copy(PROGRAMS / "Pulumi.yaml", user.work / "Pulumi.yaml")
    user.run("pulumi", "stack", "init", "dev")
    user.run("pulumi", "config", "set", "appId", MQTT_APP)
    user.run("pulumi", "up", "--yes", "--skip-preview")
    assert_up_matches_the_api(json.loads(user.run("pulumi", "stack", "output", "--json")), e2e_emulator)
    user.run("pulumi", "destroy", "--yes")
    assert release_host.downloads_of(ARCHIVE) == downloads


def test_the_docs_checksum_line_refuses_an_altered_archive(release: Path, tmp_path: Path) -> None:
    (sample, *_) = [s for s in doc_samples() if s.value == "release-archive"]
    check = sample.code.splitlines()[0]
    shutil.copy(release / "checksums.txt", tmp_path / "checksums.txt")
    (tmp_path / ARCHIVE).write_bytes((release / ARCHIVE).read_bytes() + b"\0")
    done = subprocess.run(["bash", "-e", "-c", check], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and f"{ARCHIVE}: FAILED" in done.stdout, done.stdout + done.stderr


def test_python_user_pip_installs_the_sdk_wheel_alone_and_the_engine_fetches_the_plugin(
    user: NewUser, release: Path, release_host: ReleaseHost, e2e_emulator: EmulatorProcess
) -> None:
    wheelhouse = os.environ.get("CLEVERCLOUD_TCP_WHEELHOUSE")
    if not wheelhouse:
        unavailable("no CLEVERCLOUD_TCP_WHEELHOUSE (the SDK's dependencies, downloaded by scripts/test)")
    venv = user.work / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", venv], check=True, timeout=300)
    wheel = release / f"pulumi_clevercloud_tcp-{VERSION}-py3-none-any.whl"
    user.run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-index", "--find-links", wheelhouse, wheel)
    installed = user.run(venv / "bin" / "python", "-m", "pip", "list", "--format=json")
    assert not [p for p in json.loads(installed) if p["name"] == "clevercloud-tcp"], "the SDK pulled in the provider package"
    shutil.copy(PROGRAMS / "program.py", user.work / "program.py")
    assert_up_matches_the_api(user.report(venv / "bin" / "python", "program.py", "up", MQTT_APP), e2e_emulator)
    assert_downloaded(user, release_host)
    user.report(venv / "bin" / "python", "program.py", "destroy", MQTT_APP)
    assert held(e2e_emulator) == {}


def test_typescript_user_npm_installs_the_tarball_and_the_engine_fetches_the_plugin(
    user: NewUser, release: Path, release_host: ReleaseHost, e2e_emulator: EmulatorProcess
) -> None:
    require_tools("node", "npm", why="the TypeScript user's program runs on Node.js")
    user.env["npm_config_cache"] = subprocess.run(["npm", "config", "get", "cache"], capture_output=True, text=True).stdout.strip()
    tarball = release / f"pulumi-clevercloud-tcp-{VERSION}.tgz"
    manifest = {"private": True, "dependencies": {"pulumi-clevercloud-tcp": f"file:{tarball}", **NODE_PINS}}
    (user.work / "package.json").write_text(json.dumps(manifest))
    shutil.copy(PROGRAMS / "index.ts", user.work / "index.ts")
    # From npm's cache: the registry is for install time, and scripts/test filled the cache with these pins.
    user.run("npm", "install", "--offline", "--no-audit", "--no-fund", "--loglevel=error")
    user.run("node_modules/.bin/tsc", "--strict", "--module", "nodenext", "--target", "es2022", "--types", "node", "index.ts")
    assert_up_matches_the_api(user.report("node", "index.js", "up", MQTT_APP), e2e_emulator)
    assert_downloaded(user, release_host)
    e2e_emulator.clear_log()
    assert user.report("node", "index.js", "preview", MQTT_APP) == {"same": 3}
    assert e2e_emulator.writes() == []
    user.report("node", "index.js", "destroy", MQTT_APP)
    assert held(e2e_emulator) == {}


def test_go_user_requires_the_sdk_module_and_the_engine_fetches_the_plugin(
    user: NewUser, release_host: ReleaseHost, e2e_emulator: EmulatorProcess
) -> None:
    require_tools("go", why="the Go user's program is built with Go")
    go_env = json.loads(subprocess.run(["go", "env", "-json", "GOMODCACHE", "GOCACHE"], capture_output=True, text=True).stdout)
    # The module as the sdk/go/vX.Y.Z tag publishes it; dependencies from the module cache, never the network.
    module = user.work.parent / "sdk-go"
    shutil.copytree(ROOT / "sdk" / "go", module)
    user.env.update(go_env, GOFLAGS="-mod=mod", GOPROXY="off", GOSUMDB="off", GOTOOLCHAIN="local")
    # Its requirements as `go get` of the SDK and the Automation API wrote them at install time: those of
    # examples/go, which uses both (checked against the network-free module cache by the example's tests).
    sdk = "github.com/pulumi-clevercloud-tcp/pulumi-clevercloud-tcp/sdk/go"
    requirements = (ROOT / "examples" / "go" / "go.mod").read_text().split("\nrequire", 1)[1].split("\nreplace", 1)[0]
    requirements = requirements.replace(f"{sdk} v0.0.0", f"{sdk} v{VERSION}")
    (user.work / "go.mod").write_text(f"module outside\n\ngo 1.25\n\nrequire{requirements}\nreplace {sdk} => {module}\n")
    shutil.copy(PROGRAMS / "main.go", user.work / "main.go")
    shutil.copy(ROOT / "examples" / "go" / "go.sum", user.work / "go.sum")
    user.run("go", "build", "-o", "program", ".")
    assert_up_matches_the_api(user.report("./program", "up", MQTT_APP), e2e_emulator)
    assert_downloaded(user, release_host)
    user.report("./program", "destroy", MQTT_APP)
    assert held(e2e_emulator) == {}
