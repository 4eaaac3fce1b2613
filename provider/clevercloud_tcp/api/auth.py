"""Credentials and how they sign a request.

Secrets are held in `pydantic.SecretStr`, so `str`, `repr` and model dumps show `**********`. Where
credentials come from (stack config, environment, the clever-tools profile) is `clevercloud_tcp.config`'s
business, not the API layer's.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

# clever-tools' public OAuth consumer, published by Clever Cloud on purpose: tokens from `clever login`
# were issued to it, so it is the right default.
CLEVER_TOOLS_CONSUMER_KEY = "T5nFjKeHH4AIlEveuGhB5S3xg8T19e"
CLEVER_TOOLS_CONSUMER_SECRET = "MgVMqTr6fWlf2M0tkC2MXOnhfqBWDT"

def _enc(value: str) -> str:
    """OAuth1 percent-encoding (RFC 5849 3.6): everything but unreserved characters."""
    return quote(value, safe="~-._")


class OAuthCredentials(BaseModel):
    """A `clever login` token pair, sent as OAuth1 PLAINTEXT."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["oauth"] = "oauth"
    token: SecretStr
    secret: SecretStr
    consumer_key: SecretStr = SecretStr(CLEVER_TOOLS_CONSUMER_KEY)
    consumer_secret: SecretStr = SecretStr(CLEVER_TOOLS_CONSUMER_SECRET)

    def authorization(self) -> str:
        # PLAINTEXT: the signature is the encoded key "consumer_secret&token_secret", encoded once more
        # as every header parameter is.
        key = _enc(self.consumer_secret.get_secret_value()) + "&" + _enc(self.secret.get_secret_value())
        return (
            f'OAuth oauth_consumer_key="{_enc(self.consumer_key.get_secret_value())}", '
            f'oauth_token="{_enc(self.token.get_secret_value())}", '
            f'oauth_signature_method="PLAINTEXT", oauth_signature="{_enc(key)}"'
        )


class ApiTokenCredentials(BaseModel):
    """A Clever Cloud API token, sent as a Bearer token."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["api_token"] = "api_token"
    api_token: SecretStr

    def authorization(self) -> str:
        return f"Bearer {self.api_token.get_secret_value()}"


Credentials = OAuthCredentials | ApiTokenCredentials


class CredentialsAuth(httpx.Auth):
    """Signs each request; holds the credentials so that nothing else has to."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def __repr__(self) -> str:
        return f"CredentialsAuth({self._credentials.kind})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._credentials.authorization()
        yield request
