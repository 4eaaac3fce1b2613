"""schema.json checked by the real `pulumi` CLI (`pulumi package get-schema` / `pulumi package info`).

`pulumi package gen-sdk` is not used: it needs the language plugins (pulumi-language-python…), which
cannot be built here.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from clevercloud_tcp.core.inputs import INPUTS, OUTPUTS

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = REPO_ROOT / "schema.json"
TOKEN = "clevercloud-tcp:index:TcpRedirection"


@pytest.fixture
def run_pulumi(pulumi_cli: Path, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    env = {
        **os.environ,
        "PATH": f"{pulumi_cli}{os.pathsep}{os.environ.get('PATH', '')}",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_HOME": str(tmp_path / "pulumi-home"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(pulumi_cli / "pulumi"), *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    return run


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA.read_text())


def test_get_schema_accepts_and_returns_the_schema(run_pulumi: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    done = run_pulumi("package", "get-schema", "./schema.json")
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert loaded["name"] == "clevercloud-tcp"
    resource = loaded["resources"][TOKEN]
    # The schema describes what the provider really takes and gives.
    assert set(resource["inputProperties"]) == set(INPUTS)
    assert set(resource["properties"]) == set(OUTPUTS)
    assert resource["requiredInputs"] == ["appId"]
    assert resource["properties"]["port"]["type"] == "integer"


def test_package_info_binds_the_schema(run_pulumi: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    done = run_pulumi("package", "info", "./schema.json")
    assert done.returncode == 0, done.stderr
    assert f"Resource: {TOKEN}" in done.stdout
    assert "port (integer*)" in done.stdout
    assert "appId (string*)" in done.stdout


def _broken_type(s: dict[str, Any]) -> None:
    s["resources"][TOKEN]["properties"]["port"]["type"] = "integr"


def _unknown_required(s: dict[str, Any]) -> None:
    s["resources"][TOKEN]["required"].append("nosuch")


@pytest.mark.parametrize("breakage", [_broken_type, _unknown_required], ids=["type-integr", "unknown-required"])
def test_package_info_rejects_a_broken_schema(
    run_pulumi: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
    breakage: Callable[[dict[str, Any]], None],
) -> None:
    """The check above can fail: a damaged copy is refused."""
    broken = copy.deepcopy(schema())
    breakage(broken)
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(broken, indent=2))

    done = run_pulumi("package", "info", str(path))

    assert done.returncode != 0, done.stdout
    assert "error" in done.stderr.lower(), done.stderr


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_local_type_reference_resolves() -> None:
    """The CLI (v3.259 to v3.277) accepts a dangling `#/types/...` reference, exit 0: check those here."""
    s = schema()
    local = [ref for ref in _refs(s) if ref.startswith("#/types/")]
    assert local, "the schema is expected to use at least one shared type"
    for ref in local:
        assert ref.removeprefix("#/types/") in s.get("types", {}), ref
