"""One version, in VERSION: what the plugin reports to users and to the engine, and the schema it serves.

The SDKs' side of it is in test_sdk_generation.py; the release archive's in e2e/test_release_from_outside.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import tomllib
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2

from clevercloud_tcp.testing.plugin_harness import PLUGIN, PluginHost

ROOT = Path(__file__).resolve().parents[1]
VERSION = (ROOT / "VERSION").read_text().strip()


def test_the_package_and_the_plugin_executable_report_the_version_of_VERSION() -> None:
    assert version("clevercloud-tcp") == VERSION
    done = subprocess.run([str(Path(sys.executable).parent / PLUGIN), "--version"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, VERSION), done.stderr


def test_the_engine_is_told_the_same_version_and_schema() -> None:
    with PluginHost(configure=False) as host:  # GetPluginInfo and GetSchema come before any Configure
        info = host.stub.GetPluginInfo(empty_pb2.Empty())
        served = json.loads(host.stub.GetSchema(provider_pb2.GetSchemaRequest(version=0)).schema)
    assert info.version == VERSION
    assert served["version"] == VERSION
    assert served == json.loads((ROOT / "schema.json").read_text())


def test_every_published_address_is_the_schemas_repository() -> None:
    """schema.json's `repository` is the one address: the plugin's download URL, the Go import path,
    the packages' links and the docs all derive from it."""
    schema = json.loads((ROOT / "schema.json").read_text())
    repository = schema["repository"]
    path = repository.removeprefix("https://")
    assert schema["homepage"] == repository
    assert schema["pluginDownloadURL"] == f"{repository}/releases/download/v${{VERSION}}"
    assert schema["language"]["go"]["importBasePath"] == f"{path}/sdk/go/clevercloudtcp"
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert urls and all(url.startswith(repository) for url in urls.values()), urls
    addresses = {m for text in map(Path.read_text, [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
                 for m in re.findall(r"github\.com/[\w.-]+/[\w.-]+", text)}
    ours = {address for address in addresses if "clevercloud-tcp" in address}  # others' (pulumi's) are fine
    assert ours == {path}, f"the docs name this project at another address: {ours - {path}}"
