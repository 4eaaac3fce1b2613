"""Shared fixtures: a real emulator process on 127.0.0.1 and clients of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from clevercloud_tcp import CleverCloudClient, OAuthCredentials, RetryPolicy
from clevercloud_tcp.emulator import EmulatorProcess
from clevercloud_tcp.emulator.fixture import ORG_ID

TOKEN, SECRET = "emulator-token", "emulator-secret"
APP = "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b"  # redis-cache in the default fixture, owned by ORG_ID
OWNER = ORG_ID
FAST_RETRIES = RetryPolicy(attempts=4, total_seconds=10, first_backoff=0.01, max_backoff=0.05)


def oauth(token: str = TOKEN, secret: str = SECRET) -> OAuthCredentials:
    return OAuthCredentials(token=SecretStr(token), secret=SecretStr(secret))


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
