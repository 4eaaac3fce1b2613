"""Constants and helpers the tests share (importable as `support`: pytest puts tests/ on sys.path)."""

from __future__ import annotations

from pydantic import SecretStr

from clevercloud_tcp import OAuthCredentials, RetryPolicy
from clevercloud_tcp.emulator.fixture import ORG_ID

TOKEN, SECRET = "emulator-token", "emulator-secret"
APP = "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b"  # redis-cache in the default fixture, owned by ORG_ID
MQTT_APP = "app_1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c"  # two custom domains, favourite broker.acme.example
OWNER = ORG_ID
FAST_RETRIES = RetryPolicy(attempts=4, total_seconds=10, first_backoff=0.01, max_backoff=0.05)


def oauth(token: str = TOKEN, secret: str = SECRET) -> OAuthCredentials:
    return OAuthCredentials(token=SecretStr(token), secret=SecretStr(secret))
