"""End-to-end fixtures: the real `pulumi` engine, the real provider host, an emulator over HTTP.

Each test gets its own emulator, state directory and stack.
"""

from __future__ import annotations

import contextvars
import gc
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi.runtime.settings
import pytest
from pulumi import automation as auto

from clevercloud_tcp.emulator import Fixture
from clevercloud_tcp.emulator.fixture import DEFAULT_FIXTURE
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime.local_stack import find_pulumi, local_stack
from support import SECRET, TOKEN, StackFactory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            # A failed inline program leaves the Automation API's `run_pulumi_func` coroutine
            # unfinished; collected later, it warns "no running event loop". Noise from the SDK.
            item.add_marker(pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"))


def _running_inline_program() -> bool:
    """Whether a thread still runs an inline program for the Automation API's language server."""
    for frame in sys._current_frames().values():
        while frame is not None:
            code = frame.f_code
            if code.co_name == "Run" and code.co_filename.replace(os.sep, "/").endswith("pulumi/automation/_server.py"):
                return True
            frame = frame.f_back
    return False


def settle_failed_program(timeout: float = 120.0) -> None:
    """Lets a failed inline program end, and finalises what it left behind now, not in a later test.

    When an update fails, `stack.up` raises as soon as the CLI exits, while the program may still run
    in a thread of the Automation API's language server. It leaves suspended coroutines and tasks
    that stay reachable after it ends: from the tracebacks of the log records pytest's log capture
    keeps (grpc logs "Exception calling application" with exc_info), and from the Pulumi runtime's
    settings, which are `ContextVar`s whose last value CPython caches until the variable is next set.
    Collected later, their finalisers raise ("no running event loop", an unraisable-exception
    warning) and formatting that traceback calls `ast.parse`; when this happens inside another
    `ast.parse` (pytest rewriting a late import at the end of the session), CPython 3.11.7's shared
    AST recursion counter comes out unbalanced: "SystemError: AST constructor recursion depth
    mismatch", a pytest INTERNALERROR (CPython gh-106905, fixed in 3.11.8).
    """
    deadline = time.monotonic() + timeout
    while _running_inline_program() and time.monotonic() < deadline:
        time.sleep(0.05)
    for handler in logging.getLogger().handlers:  # pytest's log capture keeps the records until the next test
        for record in getattr(handler, "records", ()):
            if record.exc_info or record.args:  # the text is already captured: drop the tracebacks
                record.msg, record.args, record.exc_info = record.getMessage(), (), None
    contextvars.Context().run(pulumi.runtime.settings.reset_options)
    gc.collect()


@pytest.fixture(autouse=True)
def _settled_programs() -> Iterator[None]:
    """After every test, lets any failed inline program end and clears what it left behind."""
    yield
    settle_failed_program()


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
def e2e_emulator(fixture_data: Fixture, shared_emulator: EmulatorProcess, tmp_path: Path) -> Iterator[EmulatorProcess]:
    """The session's emulator, emptied, for the default fixture; a process of its own for another."""
    if fixture_data is DEFAULT_FIXTURE:
        shared_emulator.reset()
        yield shared_emulator
        return
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
