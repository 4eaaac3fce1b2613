"""End-to-end fixtures: the real `pulumi` engine, the real provider host, an emulator over HTTP.

Each test gets its own emulator, state directory and stack.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from clevercloud_tcp.emulator import EmulatorProcess, Fixture
from clevercloud_tcp.emulator.fixture import DEFAULT_FIXTURE
from clevercloud_tcp.local_stack import find_pulumi, local_stack

TOKEN, SECRET = "emulator-token", "emulator-secret"
StackFactory = Callable[..., auto.Stack]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    found = find_pulumi()
    if found is None:
        reason = "no `pulumi` CLI: run scripts/install-pulumi (scripts/test does)"
        if os.environ.get("CLEVERCLOUD_TCP_REQUIRE_ALL"):
            pytest.fail(reason + "; CLEVERCLOUD_TCP_REQUIRE_ALL is set, so this is a failure")
        pytest.skip(reason)
    return found


@pytest.fixture
def fixture_data() -> Fixture:
    """The emulator's fixture; override in a module for more apps."""
    return DEFAULT_FIXTURE


@pytest.fixture
def e2e_emulator(fixture_data: Fixture, tmp_path: Path) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(fixture_data, state=tmp_path / "emulator.sqlite") as emu:
        yield emu


@pytest.fixture
def make_stack(pulumi_cli: Path, e2e_emulator: EmulatorProcess, tmp_path: Path) -> StackFactory:
    """`make_stack(program, config={...}, secrets={...}, stack="dev")`: a stack on a local backend.

    Credentials go in as secret stack config and the endpoint as plain config, unless overridden.
    """

    def build(
        program: Callable[[], None],
        *,
        config: dict[str, str] | None = None,
        secrets: dict[str, str] | None = None,
        stack: str = "dev",
        state_dir: Path | None = None,
        env: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> auto.Stack:
        return local_stack(
            program,
            cli_dir=pulumi_cli,
            state_dir=state_dir or tmp_path / "pulumi",
            stack=stack,
            config={"clevercloud:endpoint": e2e_emulator.url, **(config or {})},
            secrets={"clevercloud:token": TOKEN, "clevercloud:secret": SECRET} if secrets is None else secrets,
            env=env,
            **kwargs,
        )

    return build
