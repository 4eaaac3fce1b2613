"""The example program's wiring, with `pulumi.runtime.set_mocks` (no provider runs here)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "python"))

from redirections import declare_redirections  # noqa: E402
from support import RecordingMocks  # noqa: E402

APP = "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b"
PORTS = {"cleverapps": 5101, "default": 5202}


class FakeEngine(RecordingMocks):
    def outputs_for(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        namespace = inputs["namespace"]
        host = inputs.get("host") or (f"{APP.replace('_', '-')}.cleverapps.io" if namespace == "cleverapps" else None)
        port = float(PORTS[namespace])  # numbers cross the engine as doubles
        url = f"tcp://{host}:{int(port)}" if host else None
        return f"{inputs['appId']}/{namespace}", {**inputs, "host": host, "port": port, "url": url}


@pytest.fixture
def engine() -> RecordingMocks:
    return FakeEngine().install()


@pulumi.runtime.test
def test_declares_one_redirection_per_namespace_with_camel_case_inputs(engine: RecordingMocks) -> Any:
    outputs = declare_redirections(APP, "cache.example.com")

    def check(_: Any) -> None:
        assert sorted(inputs["namespace"] for _, inputs in engine.created) == ["cleverapps", "default"]
        for typ, inputs in engine.created:
            assert typ == "pulumi-python:dynamic/clevercloud-tcp:TcpRedirection"
            assert inputs["appId"] == APP and "__provider" in inputs
            assert "app_id" not in inputs

    # Once every output is known, both resources have been registered.
    return pulumi.Output.all(*outputs.values()).apply(check)


@pulumi.runtime.test
def test_outputs_are_ports_as_ints_and_urls(engine: RecordingMocks) -> Any:
    outputs = declare_redirections(APP, "cache.example.com")

    def check(values: list[Any]) -> None:
        cleverapps_port, cleverapps_url, default_port, default_url, redis_uri = values
        assert (cleverapps_port, default_port) == (5101, 5202)
        assert isinstance(default_port, int)
        assert cleverapps_url == f"tcp://{APP.replace('_', '-')}.cleverapps.io:5101"
        assert default_url == "tcp://cache.example.com:5202"
        assert redis_uri == "redis://cache.example.com:5202"

    return pulumi.Output.all(*(outputs[k] for k in ("cleverapps_port", "cleverapps_url", "default_port", "default_url", "redis_uri"))).apply(check)


@pulumi.runtime.test
def test_no_known_host_means_no_url_and_no_uri(engine: RecordingMocks) -> Any:
    outputs = declare_redirections(APP)

    def check(values: list[Any]) -> None:
        assert values == [None, None]

    return pulumi.Output.all(outputs["default_url"], outputs["redis_uri"]).apply(check)
