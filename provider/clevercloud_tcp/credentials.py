"""Credentials, how they sign a request, and where they are found.

Secrets are held in `pydantic.SecretStr`, so `str`, `repr` and model dumps show `**********`.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from .errors import ConfigurationError, MissingCredentials

DEFAULT_ENDPOINT = "https://api.clever-cloud.com"
API_TOKEN_ENDPOINT = "https://api-bridge.clever-cloud.com"
# clever-tools' public OAuth consumer, published by Clever Cloud on purpose: tokens from `clever login`
# were issued to it, so it is the right default.
CLEVER_TOOLS_CONSUMER_KEY = "T5nFjKeHH4AIlEveuGhB5S3xg8T19e"
CLEVER_TOOLS_CONSUMER_SECRET = "MgVMqTr6fWlf2M0tkC2MXOnhfqBWDT"

# Where each setting is read, in order: this package's stack config key, the key shared with
# pulumi-clevercloud (so one stack config serves both), then environment variables (clever-tools' names).
SETTING_NAMES = {
    "token": "token",
    "secret": "secret",
    "api_token": "apiToken",
    "consumer_key": "consumerKey",
    "consumer_secret": "consumerSecret",
    "endpoint": "endpoint",
    "organization": "organization",
}
CONFIG_KEYS = {
    setting: (f"clevercloud-tcp:{name}", f"clevercloud:{name}") for setting, name in SETTING_NAMES.items()
}
ALL_CONFIG_KEYS = tuple(key for keys in CONFIG_KEYS.values() for key in keys)
ENV_VARS = {
    "token": ("CLEVER_TOKEN",),
    "secret": ("CLEVER_SECRET",),
    "api_token": ("CLEVER_API_TOKEN",),
    "consumer_key": ("OAUTH_CONSUMER_KEY",),
    "consumer_secret": ("OAUTH_CONSUMER_SECRET",),
    "endpoint": ("API_HOST",),
    "organization": ("CLEVER_ORGANIZATION",),
}


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


class Settings(BaseModel):
    """Everything the provider needs to reach the API; secrets stay `SecretStr`."""

    model_config = ConfigDict(frozen=True)
    credentials: Credentials
    endpoint: str
    organization: str | None = None
    source: str


def _first(name: str, config: Mapping[str, object], env: Mapping[str, str]) -> tuple[str | None, str]:
    for key in CONFIG_KEYS[name]:
        value = config.get(key)
        if value not in (None, ""):
            return str(value), "stack config"
    for var in ENV_VARS[name]:
        if env.get(var):
            return env[var], "environment"
    return None, ""


def _clever_tools_profile(env: Mapping[str, str]) -> tuple[str, str] | None:
    """The token pair `clever login` saved, if any (flat file, or the first of its profiles)."""
    base = Path(env.get("XDG_CONFIG_HOME") or Path(env.get("HOME", "~")) / ".config").expanduser()
    path = base / "clever-cloud" / "clever-tools.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and isinstance(data.get("profiles"), list) and data["profiles"]:
        data = data["profiles"][0]
    if isinstance(data, dict) and data.get("token") and data.get("secret"):
        return str(data["token"]), str(data["secret"])
    return None


ALLOW_HTTP = "CLEVERCLOUD_TCP_ALLOW_HTTP"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(endpoint: str, env: Mapping[str, str], field: str = "clevercloud:endpoint") -> str:
    """The endpoint without its trailing slash, or a ConfigurationError naming the field.

    Credentials travel in the Authorization header (OAuth PLAINTEXT sends the secrets themselves), so
    plain http is refused but to this machine, unless the user opts in.
    """
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"{field} must be an http(s) URL such as {DEFAULT_ENDPOINT}, not {endpoint!r}"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname or "") and env.get(ALLOW_HTTP) != "true":
        raise ConfigurationError(
            f"{field} is {endpoint!r}: plain http would send the credentials in clear to {parts.hostname}; "
            f"use https, or set {ALLOW_HTTP}=true in the environment to allow it anyway"
        )
    return endpoint.rstrip("/")


MISSING_CREDENTIALS = (
    "No Clever Cloud credentials found. Give them in one of three ways:\n"
    "  1. stack config: `pulumi config set --secret clevercloud:token …` and "
    "`pulumi config set --secret clevercloud:secret …` (or `pulumi config set --secret clevercloud:apiToken …`);\n"
    "  2. environment: CLEVER_TOKEN and CLEVER_SECRET (or CLEVER_API_TOKEN);\n"
    "  3. `clever login`, whose profile is read from ~/.config/clever-cloud/clever-tools.json."
)


def resolve_settings(config: Mapping[str, object], env: Mapping[str, str] | None = None) -> Settings:
    """Credentials and endpoint from stack config, then environment, then the clever-tools profile."""
    env = os.environ if env is None else env
    token, token_from = _first("token", config, env)
    secret, secret_from = _first("secret", config, env)
    api_token, api_from = _first("api_token", config, env)
    if (token is None) != (secret is None):
        given, missing = ("token", "secret") if token else ("secret", "token")
        raise ConfigurationError(
            f"clevercloud:{given} is set but clevercloud:{missing} is not "
            f"(nor CLEVER_{missing.upper()}): an OAuth token needs both halves."
        )
    # The kind of credentials comes from the better-ranked source (stack config before environment);
    # on a tie, the OAuth pair.
    rank = {"stack config": 0, "environment": 1}
    oauth_rank = max(rank[token_from], rank[secret_from]) if token and secret else None
    api_rank = rank[api_from] if api_token else None
    credentials: Credentials
    if oauth_rank is not None and (api_rank is None or oauth_rank <= api_rank):
        assert token is not None and secret is not None
        consumer_key, _ = _first("consumer_key", config, env)
        consumer_secret, _ = _first("consumer_secret", config, env)
        credentials = OAuthCredentials(
            token=SecretStr(token),
            secret=SecretStr(secret),
            consumer_key=SecretStr(consumer_key or CLEVER_TOOLS_CONSUMER_KEY),
            consumer_secret=SecretStr(consumer_secret or CLEVER_TOOLS_CONSUMER_SECRET),
        )
        source = token_from if token_from == secret_from else f"{token_from} and {secret_from}"
    elif api_token:
        credentials = ApiTokenCredentials(api_token=SecretStr(api_token))
        source = api_from
    elif profile := _clever_tools_profile(env):
        credentials = OAuthCredentials(token=SecretStr(profile[0]), secret=SecretStr(profile[1]))
        source = "clever-tools profile"
    else:
        raise MissingCredentials(MISSING_CREDENTIALS)
    endpoint, _ = _first("endpoint", config, env)
    default = API_TOKEN_ENDPOINT if credentials.kind == "api_token" else DEFAULT_ENDPOINT
    organization, _ = _first("organization", config, env)
    return Settings(
        credentials=credentials,
        endpoint=check_endpoint(endpoint or default, env),
        organization=organization,
        source=source,
    )
