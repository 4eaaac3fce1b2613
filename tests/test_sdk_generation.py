"""The SDKs in sdk/{nodejs,go,python}: what scripts/gen-sdks makes of schema.json, and usable.

They are checked in, as Pulumi providers do. These tests catch a schema changed without regenerating,
a hand edit of generated code, and an SDK that its language's compiler refuses, including a program
that uses it as the docs say.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path

import pytest

from support import sdk_go_module, unavailable

ROOT = Path(__file__).resolve().parents[1]
SDKS = ("nodejs", "go", "python")
SCHEMA = json.loads((ROOT / "schema.json").read_text())
VERSION = SCHEMA["version"]
REPOSITORY = "pulumi-clevercloud-tcp/pulumi-clevercloud-tcp"
GO_MODULE = f"github.com/{REPOSITORY}/sdk/go"
APP = "app_1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c"
# The Go toolchain as scripts/gen-sdks runs it: no toolchain download, go.mod and go.sum as committed.
GO_ENV = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}
# Type-checks one program that uses an SDK: source in, the compiler's run out.
Checker = Callable[[str], subprocess.CompletedProcess[str]]


def require_tool(name: str, why: str) -> None:
    """Skips when `name` is missing, or fails when CLEVERCLOUD_TCP_REQUIRE_ALL says nothing may be skipped."""
    if shutil.which(name) is None:
        unavailable(f"no `{name}` on PATH: {why}")


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def succeed(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = run(args, cwd, env)
    assert done.returncode == 0, f"{' '.join(args)} failed in {cwd}:\n{done.stdout}{done.stderr}"
    return done.stdout


def sdk_files(sdk_dir: Path) -> dict[str, bytes]:
    """The SDKs' files under sdk_dir, by path below it, less the build output each SDK's .gitignore names.

    Read from the tree, not from git, so that it works in an unpacked sdist too.
    """
    files: dict[str, bytes] = {}
    for name in SDKS:
        root = sdk_dir / name
        ignore = root / ".gitignore"
        lines = ignore.read_text().splitlines() if ignore.is_file() else []
        patterns = [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]
        for path in sorted(root.rglob("*")):
            parts = path.relative_to(root).parts
            if path.is_file() and not any(fnmatch(part, pattern) for part in parts for pattern in patterns):
                files[f"{name}/{'/'.join(parts)}"] = path.read_bytes()
    return files


def drift(generated: dict[str, bytes], checked_in: dict[str, bytes]) -> list[str]:
    return sorted(
        [f"sdk/{p}: not generated" for p in checked_in.keys() - generated.keys()]
        + [f"sdk/{p}: generated but not checked in" for p in generated.keys() - checked_in.keys()]
        + [f"sdk/{p}: differs" for p in generated.keys() & checked_in.keys() if generated[p] != checked_in[p]]
    )


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    require_tool("go", "scripts/gen-sdks runs Pulumi's code generators, a Go program")
    out = tmp_path_factory.mktemp("gen-sdks")
    succeed([str(ROOT / "scripts" / "gen-sdks"), str(out)], ROOT)
    return sdk_files(out / "sdk")


def test_checked_in_sdks_are_what_the_generator_writes(regenerated: dict[str, bytes]) -> None:
    problems = drift(regenerated, sdk_files(ROOT / "sdk"))
    assert not problems, (
        "sdk/ is not what scripts/gen-sdks makes of schema.json: run scripts/gen-sdks and commit sdk/ "
        "(never edit generated files by hand):\n" + "\n".join(problems[:30])
    )


def test_drift_names_each_changed_file(regenerated: dict[str, bytes]) -> None:
    """The comparison above can fail: a hand edit and a stray file are both reported."""
    tampered = {**regenerated, "nodejs/extra.ts": b"export {};\n"}
    tampered["go/go.mod"] = regenerated["go/go.mod"].replace(b"v3.259.0", b"v3.258.0")

    assert drift(regenerated, tampered) == ["sdk/go/go.mod: differs", "sdk/nodejs/extra.ts: not generated"]


def test_sdks_carry_the_package_names_the_version_and_where_the_engine_downloads_the_plugin() -> None:
    # One version, in VERSION; gen-sdks stamps it into the schema, and the generators into each SDK.
    assert (ROOT / "VERSION").read_text().strip() == VERSION
    plugin = {"resource": True, "name": "clevercloud-tcp", "version": VERSION, "server": SCHEMA["pluginDownloadURL"]}
    assert SCHEMA["pluginDownloadURL"] == f"https://github.com/{REPOSITORY}/releases/download/v${{VERSION}}"
    assert SCHEMA["repository"] == SCHEMA["homepage"] == f"https://github.com/{REPOSITORY}"

    package = json.loads((ROOT / "sdk/nodejs/package.json").read_text())
    assert (package["name"], package["version"]) == ("pulumi-clevercloud-tcp", VERSION)
    assert package["pulumi"] == plugin
    assert f'pluginDownloadURL: "{SCHEMA["pluginDownloadURL"]}"' in (ROOT / "sdk/nodejs/utilities.ts").read_text()

    go_mod = (ROOT / "sdk/go/go.mod").read_text()
    assert f"module {GO_MODULE}\n" in go_mod
    assert "github.com/pulumi/pulumi/sdk/v3 v3.259.0" in go_mod
    assert json.loads((ROOT / "sdk/go/clevercloudtcp/pulumi-plugin.json").read_text()) == plugin
    go_utilities = (ROOT / "sdk/go/clevercloudtcp/internal/pulumiUtilities.go").read_text()
    assert f'pulumi.PluginDownloadURL("{SCHEMA["pluginDownloadURL"]}")' in go_utilities
    assert f'version := semver.MustParse("{VERSION}")' in go_utilities  # a Go program asks for this version

    pyproject = (ROOT / "sdk/python/pyproject.toml").read_text()
    assert 'name = "pulumi_clevercloud_tcp"' in pyproject
    assert f'version = "{VERSION}"' in pyproject
    assert json.loads((ROOT / "sdk/python/pulumi_clevercloud_tcp/pulumi-plugin.json").read_text()) == plugin


def described_places() -> list[tuple[str, dict[str, object]]]:
    """Every place of schema.json whose description becomes SDK documentation."""
    places: list[tuple[str, dict[str, object]]] = [(f"config.{k}", v) for k, v in SCHEMA["config"]["variables"].items()]
    for token, spec in {**SCHEMA["resources"], **SCHEMA["types"], **SCHEMA["functions"]}.items():
        places.append((token, spec))
        groups = {
            "properties": spec.get("properties", {}),
            "inputProperties": spec.get("inputProperties", {}),
            "inputs": spec.get("inputs", {}).get("properties", {}),
            "outputs": spec.get("outputs", {}).get("properties", {}),
        }
        places += [(f"{token} {group}.{name}", prop) for group, props in groups.items() for name, prop in props.items()]
    return places


def test_every_property_and_function_is_described() -> None:
    missing = [where for where, spec in described_places() if not str(spec.get("description", "")).strip()]
    assert not missing, "schema.json: add a description (it is the SDKs' documentation) to: " + ", ".join(missing)
    assert "tcp://" in SCHEMA["resources"]["clevercloud-tcp:index:TcpRedirection"]["properties"]["url"]["description"]


# --- TypeScript -------------------------------------------------------------------------------

GOOD_TS = f"""
import * as clevercloudtcp from "pulumi-clevercloud-tcp";

const redis = new clevercloudtcp.TcpRedirection("redis-tcp", {{ appId: "{APP}", namespace: "cleverapps" }});
export const url: clevercloudtcp.TcpRedirection["url"] = redis.url;
export const port = redis.port.apply((p: number) => p + 0);
export const namespaces = clevercloudtcp.getNamespacesOutput({{ appId: "{APP}" }}).namespaces;
"""


@pytest.fixture(scope="module")
def typescript_checker(tmp_path_factory: pytest.TempPathFactory) -> Checker:
    """tsc on programs that import sdk/nodejs, compiled with tsc (which must succeed) and laid out as npm installs it."""
    for tool in ("node", "npm"):
        require_tool(tool, "the TypeScript SDK is compiled with tsc from npm")
    deps = Path(succeed([str(ROOT / "scripts" / "install-node-sdk-deps")], ROOT).strip()) / "node_modules"
    work = tmp_path_factory.mktemp("nodejs-sdk")
    sdk = work / "sdk" / "nodejs"
    # As published: compiled into bin/ with the package.json beside it, by the script the docs give.
    shutil.copytree(ROOT / "sdk/nodejs", sdk, ignore=shutil.ignore_patterns("node_modules", "bin"))
    shutil.copytree(ROOT / "scripts", work / "scripts")
    succeed([str(work / "scripts" / "build-node-sdk")], work)
    (sdk / "node_modules").symlink_to(deps)  # what bin/, reached through the link below, imports
    modules = work / "app" / "node_modules"
    modules.mkdir(parents=True)
    (modules / "pulumi-clevercloud-tcp").symlink_to(sdk / "bin")
    for name in ("@pulumi", "@types"):
        (modules / name).symlink_to(deps / name)
    flags = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--types", "node"]

    def check(source: str) -> subprocess.CompletedProcess[str]:
        (work / "app" / "index.ts").write_text(source)
        return run([str(deps / ".bin" / "tsc"), *flags, "index.ts"], work / "app")

    return check


# --- Go ---------------------------------------------------------------------------------------

GOOD_GO = f"""package main

import (
\t"{GO_MODULE}/clevercloudtcp"
\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {{
\tpulumi.Run(func(ctx *pulumi.Context) error {{
\t\tredis, err := clevercloudtcp.NewTcpRedirection(ctx, "redis-tcp", &clevercloudtcp.TcpRedirectionArgs{{
\t\t\tAppId:     pulumi.String("{APP}"),
\t\t\tNamespace: pulumi.String("cleverapps"),
\t\t}})
\t\tif err != nil {{
\t\t\treturn err
\t\t}}
\t\tfound := clevercloudtcp.GetNamespacesOutput(ctx, clevercloudtcp.GetNamespacesOutputArgs{{AppId: pulumi.String("{APP}")}})
\t\tctx.Export("url", redis.Url)
\t\tctx.Export("port", redis.Port)
\t\tctx.Export("namespaces", found.Namespaces())
\t\treturn nil
\t}})
}}
"""


def test_go_sdk_builds_and_vets() -> None:
    require_tool("go", "the Go SDK is checked with go build and go vet")
    succeed(["go", "build", "./..."], ROOT / "sdk/go", GO_ENV)
    succeed(["go", "vet", "./..."], ROOT / "sdk/go", GO_ENV)


@pytest.fixture(scope="module")
def go_checker(tmp_path_factory: pytest.TempPathFactory) -> Checker:
    """go vet on a program in a module that uses sdk/go from the checkout, with the SDK's own dependency pins."""
    require_tool("go", "the Go SDK is checked with go vet")
    work = tmp_path_factory.mktemp("go-program")
    sdk_go_module(work, "example.com/redirections")

    def check(source: str) -> subprocess.CompletedProcess[str]:
        (work / "main.go").write_text(source)
        return run(["go", "vet", "."], work, GO_ENV)

    return check


# language: (a program written as the docs say, a property name in it, that name misspelled, the compiler's complaint)
PROGRAMS = {
    "typescript": (GOOD_TS, "appId: ", "appid: ", "'appid' does not exist in type 'TcpRedirectionArgs'"),
    "go": (GOOD_GO, "AppId:     ", "AppID:     ", "unknown field AppID in struct literal"),
}


@pytest.mark.parametrize("language", PROGRAMS)
def test_program_as_documented_type_checks(language: str, request: pytest.FixtureRequest) -> None:
    check: Checker = request.getfixturevalue(f"{language}_checker")
    done = check(PROGRAMS[language][0])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("language", PROGRAMS)
def test_misspelled_property_is_refused(language: str, request: pytest.FixtureRequest) -> None:
    check: Checker = request.getfixturevalue(f"{language}_checker")
    source, right, wrong, complaint = PROGRAMS[language]
    done = check(source.replace(right, wrong, 1))
    assert done.returncode != 0
    assert complaint in done.stdout + done.stderr, done.stdout + done.stderr


# --- Python -----------------------------------------------------------------------------------

PYTHON_CHECK = textwrap.dedent(
    """
    import inspect, json
    import clevercloud_tcp.dynamic, pulumi_clevercloud_tcp as native

    print(json.dumps({
        "version": native._utilities.get_version(),
        "args": list(inspect.signature(native.TcpRedirectionArgs).parameters),
        "get_namespaces": list(inspect.signature(native.get_namespaces).parameters),
        "get_tcp_redirections": list(inspect.signature(native.get_tcp_redirections_output).parameters),
        "dynamic": clevercloud_tcp.dynamic.TcpRedirection.__module__,
    }))
    """
)


def test_python_sdk_installs_and_imports_beside_the_dynamic_one(tmp_path: Path) -> None:
    # Built from a copy: pip builds in the source tree, and build output has no place in sdk/.
    source, target = tmp_path / "source", tmp_path / "site"
    shutil.copytree(ROOT / "sdk/python", source)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    succeed([*pip, "--target", str(target), str(source)], tmp_path)

    done = run([sys.executable, "-c", PYTHON_CHECK], ROOT, {**os.environ, "PYTHONPATH": str(target)})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)

    assert seen["version"] == VERSION
    assert seen["args"] == ["app_id", "adopt", "host", "namespace", "owner_id"]
    assert seen["get_namespaces"] == ["app_id", "owner_id", "opts"]
    assert seen["get_tcp_redirections"] == ["app_id", "owner_id", "opts"]
    assert seen["dynamic"] == "clevercloud_tcp.dynamic.tcp_redirection"
