"""Credentials and how they sign a request.

Secrets are held in `pydantic.SecretStr`, so `str`, `repr` and model dumps show `**********`. Where
credentials come from (stack config, environment, the clever-tools profile) is `clevercloud_tcp.config`'s
business, not the API layer's.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Literal

import httpx
from oauthlib import oauth1
from pydantic import BaseModel, ConfigDict, SecretStr

# clever-tools' public OAuth consumer, published by Clever Cloud on purpose: tokens from `clever login`
# were issued to it, so it is the right default.
CLEVER_TOOLS_CONSUMER_KEY = "T5nFjKeHH4AIlEveuGhB5S3xg8T19e"
CLEVER_TOOLS_CONSUMER_SECRET = "MgVMqTr6fWlf2M0tkC2MXOnhfqBWDT"
# oauthlib logs every request's token and signature base string at DEBUG: credentials never reach logs.
logging.getLogger("oauthlib").setLevel(logging.INFO)

class OAuthCredentials(BaseModel):
    """A `clever login` token pair. Each request is signed with HMAC-SHA512 (OAuth 1.0a: a nonce, a
    timestamp, the signature of the method, URL and parameters), as clever-tools signs: the secrets
    themselves never travel, so an endpoint that sees a request cannot reuse them elsewhere."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["oauth"] = "oauth"
    token: SecretStr
    secret: SecretStr
    consumer_key: SecretStr = SecretStr(CLEVER_TOOLS_CONSUMER_KEY)
    consumer_secret: SecretStr = SecretStr(CLEVER_TOOLS_CONSUMER_SECRET)

    def authorization(self, method: str, url: str) -> str:
        signer = oauth1.Client(
            self.consumer_key.get_secret_value(),
            client_secret=self.consumer_secret.get_secret_value(),
            resource_owner_key=self.token.get_secret_value(),
            resource_owner_secret=self.secret.get_secret_value(),
            signature_method=oauth1.SIGNATURE_HMAC_SHA512,
        )
        # JSON bodies are not part of an OAuth1 signature: the method and the URL with its query are.
        _, headers, _ = signer.sign(url, http_method=method)  # type: ignore[arg-type]  # httpx's methods are str
        return str(headers["Authorization"])


class ApiTokenCredentials(BaseModel):
    """A Clever Cloud API token, sent as a Bearer token."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["api_token"] = "api_token"
    api_token: SecretStr

    def authorization(self, method: str, url: str) -> str:
        return f"Bearer {self.api_token.get_secret_value()}"


Credentials = OAuthCredentials | ApiTokenCredentials


class CredentialsAuth(httpx.Auth):
    """Signs each request; holds the credentials so that nothing else has to."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def __repr__(self) -> str:
        return f"CredentialsAuth({self._credentials.kind})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._credentials.authorization(request.method, str(request.url))
        yield request
