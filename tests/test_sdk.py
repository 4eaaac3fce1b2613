"""The SDK's call forms and argument errors, with `pulumi.runtime.set_mocks`."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from pulumi_clevercloud_tcp import TcpRedirection, TcpRedirectionArgs

APP = "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b"


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: list[dict[str, Any]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs.append(dict(args.inputs))
        return "id", {**args.inputs, "port": 5050.0}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {}, []


@pytest.fixture
def recorder() -> Recorder:
    mocks = Recorder()
    pulumi.runtime.set_mocks(mocks, preview=False)
    return mocks


@pulumi.runtime.test
def test_keyword_and_args_forms_send_the_same_inputs(recorder: Recorder) -> Any:
    by_keywords = TcpRedirection("a", app_id=APP, namespace="cleverapps", host="db.example.com")
    by_args = TcpRedirection(
        "b", TcpRedirectionArgs(app_id=APP, namespace="cleverapps", host="db.example.com"), pulumi.ResourceOptions()
    )

    def check(ports: list[Any]) -> None:
        assert ports == [5050, 5050]
        first, second = ({k: v for k, v in i.items() if k != "__provider"} for i in recorder.inputs)
        assert first == second == {"appId": APP, "namespace": "cleverapps", "host": "db.example.com"}

    return pulumi.Output.all(by_keywords.port, by_args.port).apply(check)


def test_app_id_is_required() -> None:
    with pytest.raises(TypeError, match="app_id"):
        TcpRedirection("r", namespace="default")


def test_args_and_keywords_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        TcpRedirection("r", TcpRedirectionArgs(app_id=APP), namespace="default")
