"""The SDK's call forms and argument errors, with `pulumi.runtime.set_mocks`."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from clevercloud_tcp.dynamic import TcpRedirection, TcpRedirectionArgs
from support import RecordingMocks

APP = "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b"


class Recorder(RecordingMocks):
    def outputs_for(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return "id", {**inputs, "port": 5050.0}


@pytest.fixture
def recorder() -> RecordingMocks:
    return Recorder().install()


@pulumi.runtime.test
def test_keyword_and_args_forms_send_the_same_inputs(recorder: RecordingMocks) -> Any:
    by_keywords = TcpRedirection("a", app_id=APP, namespace="cleverapps", host="db.example.com")
    by_args = TcpRedirection(
        "b", TcpRedirectionArgs(app_id=APP, namespace="cleverapps", host="db.example.com"), pulumi.ResourceOptions()
    )

    def check(ports: list[Any]) -> None:
        assert ports == [5050, 5050]
        first, second = ({k: v for k, v in i.items() if k != "__provider"} for _, i in recorder.created)
        assert first == second == {"appId": APP, "namespace": "cleverapps", "host": "db.example.com"}

    return pulumi.Output.all(by_keywords.port, by_args.port).apply(check)


def test_app_id_is_required() -> None:
    with pytest.raises(TypeError, match="app_id"):
        TcpRedirection("r", namespace="default")


def test_args_and_keywords_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        TcpRedirection("r", TcpRedirectionArgs(app_id=APP), namespace="default")
