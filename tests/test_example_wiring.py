"""The example program's own wiring, with `pulumi.runtime.set_mocks` (no provider runs here).

The mocks answer as the provider would, with ports and hosts the program cannot guess; the tests
check what the program does with them: which inputs it passes to which resource, which output feeds
which export, and the connection string it builds.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "python-dynamic"))

import redirections

from support import RecordingMocks

APP = "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b"
TYPE = "pulumi-python:dynamic/clevercloud-tcp:TcpRedirection"
EXPORTS = ["cleverapps_port", "cleverapps_url", "default_port", "default_url", "redis_uri"]


class FakeEngine(RecordingMocks):
    """Answers each namespace with its own port, and a host found for it when none is given."""

    def __init__(self, found: dict[str, str | None], ports: dict[str, int]) -> None:
        super().__init__()
        self.found, self.ports = found, ports
        self.names: dict[str, dict[str, Any]] = {}  # resource name -> its inputs

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.names[args.name] = dict(args.inputs)
        return super().new_resource(args)

    def outputs_for(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        namespace = inputs["namespace"]
        host = inputs.get("host") or self.found[namespace]
        port = self.ports[namespace]
        url = f"tcp://{host}:{port}" if host else ""
        # Numbers cross the engine as doubles.
        return f"{inputs['appId']}/{namespace}", {**inputs, "host": host, "port": float(port), "url": url}


def engine(found: dict[str, str | None]) -> FakeEngine:
    return FakeEngine(found, {"cleverapps": 5101, "default": 5202}).install()


def when_known(outputs: list[pulumi.Output[Any]], check: Any) -> Any:
    """Runs `check` on the values once every output is known, that is once every resource is registered."""
    return pulumi.Output.all(*outputs).apply(check)


@pulumi.runtime.test
def test_the_app_goes_to_both_redirections_and_the_host_to_the_default_one_only() -> Any:
    fake = engine({"cleverapps": "a.cleverapps.io", "default": None})
    outputs = redirections.declare_redirections(APP, "cache.example.com")

    def check(_: Any) -> None:
        assert {typ for typ, _ in fake.created} == {TYPE}
        cleverapps, default = fake.names["redis-cleverapps"], fake.names["redis-default"]
        assert (cleverapps["appId"], cleverapps["namespace"], cleverapps.get("host")) == (APP, "cleverapps", None)
        assert (default["appId"], default["namespace"], default["host"]) == (APP, "default", "cache.example.com")
        assert set(fake.names) == {"redis-cleverapps", "redis-default"}

    return when_known(list(outputs.values()), check)


@pulumi.runtime.test
def test_each_export_comes_from_its_own_redirection_and_the_uri_from_the_default_ones_outputs() -> Any:
    # No host given: the provider found one; the URI must use what it found, and the port it assigned.
    engine({"cleverapps": "a.cleverapps.io", "default": "found.example.com"})
    outputs = redirections.declare_redirections(APP)

    def check(values: list[Any]) -> None:
        got = dict(zip(EXPORTS, values, strict=True))
        assert got == {
            "cleverapps_port": 5101,
            "cleverapps_url": "tcp://a.cleverapps.io:5101",
            "default_port": 5202,
            "default_url": "tcp://found.example.com:5202",
            "redis_uri": "redis://found.example.com:5202",
        }
        assert isinstance(got["default_port"], int)  # not "5202.0" in a connection string

    return when_known([outputs[name] for name in EXPORTS], check)


@pulumi.runtime.test
def test_no_known_host_means_no_uri() -> Any:
    engine({"cleverapps": "a.cleverapps.io", "default": None})
    outputs = redirections.declare_redirections(APP)

    def check(values: list[Any]) -> None:
        assert values == ["", None]  # url is empty, not absent; no host, no URI

    return when_known([outputs["default_url"], outputs["redis_uri"]], check)


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, pulumi.Output[Any]]]:
    """What `program()` exports, with `appId` set and `host` set but empty in the stack config."""
    exports: dict[str, pulumi.Output[Any]] = {}
    monkeypatch.setattr(pulumi, "export", lambda name, value: exports.__setitem__(name, value))
    pulumi.runtime.set_all_config({"project:appId": APP, "project:host": ""})
    yield exports
    pulumi.runtime.set_all_config({})


@pulumi.runtime.test
def test_the_program_reads_its_config_and_exports_every_output(exported: dict[str, pulumi.Output[Any]]) -> Any:
    fake = engine({"cleverapps": "a.cleverapps.io", "default": None})
    redirections.program()

    def check(values: list[Any]) -> None:
        assert dict(zip(EXPORTS, values, strict=True)) == {
            "cleverapps_port": 5101,
            "cleverapps_url": "tcp://a.cleverapps.io:5101",
            "default_port": 5202,
            "default_url": "",
            "redis_uri": None,
        }
        assert fake.names["redis-default"]["appId"] == APP
        assert fake.names["redis-default"].get("host") is None  # an empty host is no host

    assert sorted(exported) == sorted(EXPORTS)
    return when_known([exported[name] for name in EXPORTS], check)
