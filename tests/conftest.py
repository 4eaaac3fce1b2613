"""Shared fixtures: a real emulator process on 127.0.0.1 and clients of it."""

from __future__ import annotations

import os
from collections.abc import Iterator

# Imported at collection on purpose: failing `up`s leave an unraisable coroutine of the Automation
# API's in-process language server behind; after that, CPython 3.11.7 (gh-106905, fixed in 3.11.8)
# may raise "AST constructor recursion depth mismatch" when pytest's hypothesis plugin imports
# hypothesis late in its terminal summary: an INTERNALERROR although every test passed.
import hypothesis
import pytest

from clevercloud_tcp import CleverCloudClient
from clevercloud_tcp.config import ALLOW_HTTP
from clevercloud_tcp.emulator.process import EmulatorProcess
from support import APP, FAST_RETRIES, OWNER, SECRET, TOKEN, oauth

__all__ = ["APP", "FAST_RETRIES", "OWNER", "SECRET", "TOKEN", "oauth"]

# Two modes, each honest: on a developer's machine Hypothesis explores (random examples, failures kept in
# the example database and replayed first); in CI it replays one fixed sequence, so that a run's answer
# depends on the commit alone. Every property must pass in both. HYPOTHESIS_PROFILE picks one by hand.
hypothesis.settings.register_profile("explore", print_blob=True)
hypothesis.settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
# The suite's opt-in to plain http, for every process it starts: each endpoint it names is on 127.0.0.1,
# its own emulator or a server of its own. A user's shell (support.bare_env) has none: the routes users
# take to the emulator (the kit, `run --emulator`) are seen to opt in by themselves.
os.environ[ALLOW_HTTP] = "true"
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "explore"))


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess() as emu:
        yield emu


@pytest.fixture
def emulator(shared_emulator: EmulatorProcess) -> EmulatorProcess:
    """The session's emulator, emptied: no redirection, no fault, an empty request log."""
    shared_emulator.reset()
    return shared_emulator


@pytest.fixture
def client(emulator: EmulatorProcess) -> Iterator[CleverCloudClient]:
    with CleverCloudClient(emulator.url, oauth(), timeout=2.0, retry=FAST_RETRIES) as c:
        yield c
