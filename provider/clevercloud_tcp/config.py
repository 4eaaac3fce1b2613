"""Provider configuration, resolved in one place: credentials, endpoint and options, from stack config,
then the environment, then the clever-tools profile; typos of keys refused.

The dynamic face reads this package's namespace `clevercloud-tcp:*` and the keys it shares with
pulumi-clevercloud (`clevercloud:*`), so one stack config serves both providers; the engine hands the
plugin its own namespace only. Each face says which it reads (`ConfigKeys`), and every message here
names the keys of that face, so a user is never sent to a key their provider cannot see.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from .api.auth import (
    CLEVER_TOOLS_CONSUMER_KEY,
    CLEVER_TOOLS_CONSUMER_SECRET,
    ApiTokenCredentials,
    Credentials,
    OAuthCredentials,
)
from .api.transport import Origin, RetryPolicy
from .core.inputs import OWNER_ID
from .errors import ConfigurationError, MissingCredentials, named

PACKAGE = "clevercloud-tcp"
SHARED = "clevercloud"
DEFAULT_ENDPOINT = "https://api.clever-cloud.com"
API_TOKEN_ENDPOINT = "https://api-bridge.clever-cloud.com"
ALLOW_HTTP = "CLEVERCLOUD_TCP_ALLOW_HTTP"
ALLOW_HTTP_KEY = f"{PACKAGE}:allowHttp"  # the opt-in in stack config, read from the package's namespace only

# Each setting's name in stack config, and the environment variables read after it (clever-tools' names).
SETTING_NAMES = {
    "token": "token",
    "secret": "secret",
    "api_token": "apiToken",
    "consumer_key": "consumerKey",
    "consumer_secret": "consumerSecret",
    "endpoint": "endpoint",
    "organization": "organization",
}
# The settings that are credentials: kept secret wherever they are recorded.
SECRET_NAMES = tuple(SETTING_NAMES[s] for s in ("token", "secret", "api_token", "consumer_secret"))
ENV_VARS = {
    "token": ("CLEVER_TOKEN",),
    "secret": ("CLEVER_SECRET",),
    "api_token": ("CLEVER_API_TOKEN",),
    "consumer_key": ("OAUTH_CONSUMER_KEY",),
    "consumer_secret": ("OAUTH_CONSUMER_SECRET",),
    "endpoint": ("API_HOST",),
    "organization": ("CLEVER_ORGANIZATION",),
}


@dataclass(frozen=True)
class ConfigKeys:
    """The stack config namespaces a face reads, its own first; `unread` ones are named as pitfalls.

    With `provider`, the settings are the arguments of that explicit provider resource, not stack
    config: they are looked up under the package's keys all the same, and messages name the argument.
    """

    namespaces: tuple[str, ...]
    unread: tuple[str, ...] = ()
    provider: str | None = None

    def of(self, setting: str) -> tuple[str, ...]:
        """The full keys of a setting (`token`, `api_token`…), in the order they are read."""
        return tuple(f"{namespace}:{SETTING_NAMES[setting]}" for namespace in self.namespaces)

    def all(self) -> tuple[str, ...]:
        return tuple(key for setting in SETTING_NAMES for key in self.of(setting))

    def spell(self, where: str) -> str:
        """A full key, or an environment variable, as the user wrote it."""
        if self.provider is None or ":" not in where:
            return where
        return f"{where.partition(':')[2]} of provider {self.provider}"

    def named(self, setting: str) -> str:
        """The setting as a message names it: this face's own key, and the others it also reads."""
        first, *others = (self.spell(key) for key in self.of(setting))
        return first + (f" (or {' or '.join(others)})" if others else "")

    def for_provider(self, name: str) -> ConfigKeys:
        """These keys, as the arguments of the explicit provider `name`."""
        return ConfigKeys(self.namespaces, (), name)


# The dynamic provider sees the whole stack config; the engine hands a plugin its own namespace only.
DYNAMIC_KEYS = ConfigKeys((PACKAGE, SHARED))
PLUGIN_KEYS = ConfigKeys((PACKAGE,), unread=(SHARED,))


class Settings(BaseModel):
    """Everything the provider needs to reach the API; secrets stay `SecretStr`."""

    model_config = ConfigDict(frozen=True)
    credentials: Credentials
    endpoint: str
    organization: str | None = None
    source: str
    origin: Origin = Origin()


def _first(setting: str, config: Mapping[str, object], env: Mapping[str, str], keys: ConfigKeys) -> tuple[str | None, str]:
    """The setting's value and where it was found (the config key or the environment variable)."""
    for key in keys.of(setting):
        value = config.get(key)
        if value not in (None, ""):
            return str(value), key
    for var in ENV_VARS[setting]:
        if env.get(var):
            return env[var], var
    return None, ""


def _source(where: str, keys: ConfigKeys) -> str:
    if ":" not in where:
        return "environment"
    return "stack config" if keys.provider is None else f"the arguments of provider {keys.provider}"


def _profile_path(env: Mapping[str, str]) -> Path:
    base = Path(env.get("XDG_CONFIG_HOME") or Path(env.get("HOME", "~")) / ".config").expanduser()
    return base / "clever-cloud" / "clever-tools.json"


def _clever_tools_profile(env: Mapping[str, str]) -> tuple[str, str] | None:
    """The token pair `clever login` saved, if any (flat file, or the first of its profiles)."""
    try:
        data = json.loads(_profile_path(env).read_text())
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and isinstance(data.get("profiles"), list) and data["profiles"]:
        data = data["profiles"][0]
    if isinstance(data, dict) and data.get("token") and data.get("secret"):
        return str(data["token"]), str(data["secret"])
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(endpoint: str, allow_http: bool, field: str = f"{PACKAGE}:endpoint", opt_in: str = ALLOW_HTTP_KEY) -> str:
    """The endpoint without its trailing slash, or a ConfigurationError naming `field`, where it was set.

    Plain http, even to this machine (any local user may listen on a loopback port), is refused unless
    the user opts in (`opt_in`, as the message names it): an API token travels in every request, and a
    signed OAuth request can be replayed. A user name or password in the URL is refused and never echoed.
    """
    if "@" in endpoint:  # a base URL has no other place for one, so with or without a scheme
        raise ConfigurationError(
            f"{field} holds a user name or password (user:pass@…), which would be sent with every request "
            "and shown in messages: remove it; credentials go in token and secret (or apiToken)"
        )
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{field} must be an http(s) URL such as {DEFAULT_ENDPOINT}, not {endpoint!r}")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ConfigurationError(
            f"{field} is {endpoint!r}: give the API's base URL alone, such as {DEFAULT_ENDPOINT} "
            f"({parts.scheme}://{parts.netloc}); the provider adds the /v2/… paths itself"
        )
    if parts.scheme == "http" and not allow_http:
        where = "this machine (where any local user may listen on a port)" if _is_loopback(parts.hostname or "") else parts.hostname
        raise ConfigurationError(
            f"{field} is {endpoint!r}: plain http would send the requests' credentials unencrypted to {where}; "
            f"use https, or opt in with {opt_in} set to true (or {ALLOW_HTTP}=true in the environment)"
        )
    return endpoint.rstrip("/")


def given_in_clear(name: str, keys: ConfigKeys) -> str:
    """The warning for a credential that arrived as plain (non-secret) config: it is kept secret from
    here on, and this says how to give it as a secret in the first place."""
    key = keys.spell(f"{PACKAGE}:{name}")
    how = (
        f"pass it as a secret (pulumi.secret, config.requireSecret…) to provider {keys.provider}"
        if keys.provider is not None
        else f"set it with `pulumi config set --secret {key} …`, since Pulumi.<stack>.yaml holds it in clear"
    )
    return f"{key} was given in clear: the provider keeps it secret in the state; {how}"


def missing_credentials(keys: ConfigKeys) -> str:
    """One line: where credentials may be given, for this face (or explicit provider)."""
    token, secret, api_token = (keys.of(setting)[0] for setting in ("token", "secret", "api_token"))
    if keys.provider is not None:
        given = f"give provider {keys.provider} token and secret (or apiToken)"
    else:
        given = f"set {token} and {secret} (or {api_token}) with `pulumi config set --secret`"
        if len(keys.namespaces) > 1:
            given += " (" + ", ".join(k for s in ("token", "secret", "api_token") for k in keys.of(s)[1:]) + " are read too)"
    unread = "".join(f"; {namespace}:* keys do not reach this plugin" for namespace in keys.unread)
    return (
        f"No Clever Cloud credentials found: {given}, or export CLEVER_TOKEN and CLEVER_SECRET (or CLEVER_API_TOKEN), "
        f"or run `clever login` (its profile: ~/.config/clever-cloud/clever-tools.json){unread}. "
        "`pulumi refresh` and `pulumi destroy` use the settings saved by the last "
        "`pulumi up`, and the environment of the moment."
    )


def _missing_half(given: str, missing: str, keys: ConfigKeys) -> ConfigurationError:
    # Named in the namespace the given half was found in, or the face's own when it came from the environment.
    namespace = given.partition(":")[0] if ":" in given else keys.namespaces[0]
    return ConfigurationError(
        f"{keys.spell(given)} is set but {keys.spell(f'{namespace}:{SETTING_NAMES[missing]}')} is not "
        f"(nor {ENV_VARS[missing][0]}): an OAuth token needs both halves."
    )


def resolve_settings(
    config: Mapping[str, object], env: Mapping[str, str] | None = None, keys: ConfigKeys = DYNAMIC_KEYS
) -> Settings:
    """Credentials and endpoint from stack config (the keys `keys` reads), then environment, then the
    clever-tools profile; every message names where a value was, or may be, given."""
    env = os.environ if env is None else env
    token, token_from = _first("token", config, env, keys)
    secret, secret_from = _first("secret", config, env, keys)
    api_token, api_from = _first("api_token", config, env, keys)
    if token is not None and secret is None:
        raise _missing_half(token_from, "secret", keys)
    if secret is not None and token is None:
        raise _missing_half(secret_from, "token", keys)
    # The kind of credentials comes from the better-ranked source (stack config before environment);
    # on a tie, the OAuth pair.
    def rank(where: str) -> int:
        return 1 if _source(where, keys) == "environment" else 0

    oauth_rank = max(rank(token_from), rank(secret_from)) if token and secret else None
    api_rank = rank(api_from) if api_token else None
    credentials: Credentials
    if oauth_rank is not None and (api_rank is None or oauth_rank <= api_rank):
        assert token is not None and secret is not None
        consumer_key, _ = _first("consumer_key", config, env, keys)
        consumer_secret, _ = _first("consumer_secret", config, env, keys)
        credentials = OAuthCredentials(
            token=SecretStr(token),
            secret=SecretStr(secret),
            consumer_key=SecretStr(consumer_key or CLEVER_TOOLS_CONSUMER_KEY),
            consumer_secret=SecretStr(consumer_secret or CLEVER_TOOLS_CONSUMER_SECRET),
        )
        sources = {_source(token_from, keys), _source(secret_from, keys)}
        source = " and ".join(sorted(sources, key=lambda s: s == "environment"))
        credentials_from = f"{keys.spell(token_from)} and {keys.spell(secret_from)}"
    elif api_token:
        credentials = ApiTokenCredentials(api_token=SecretStr(api_token))
        source, credentials_from = _source(api_from, keys), keys.spell(api_from)
    elif profile := _clever_tools_profile(env):
        credentials = OAuthCredentials(token=SecretStr(profile[0]), secret=SecretStr(profile[1]))
        source = "clever-tools profile"
        credentials_from = f"the clever-tools profile {_profile_path(env)} (`clever login`)"
    else:
        raise MissingCredentials(missing_credentials(keys))
    endpoint, endpoint_from = _first("endpoint", config, env, keys)
    default = API_TOKEN_ENDPOINT if credentials.kind == "api_token" else DEFAULT_ENDPOINT
    organization, organization_from = _first("organization", config, env, keys)
    if organization is not None and not OWNER_ID.fullmatch(organization):
        # It goes into URL paths (/v2/organisations/{owner}/…): checked as owner_id is.
        raise ConfigurationError(
            f"{keys.spell(organization_from)} is {organization[:60]!r}: expected an organisation id "
            "orga_<uuid> or a user id user_<uuid>"
        )
    origin = Origin(
        endpoint=keys.spell(endpoint_from) if endpoint_from else f"{keys.named('endpoint')} (unset: the default {default} is used)",
        credentials=credentials_from,
        owner=f"{named('ownerId')} (orga_<uuid> or user_<uuid>), or {keys.named('organization')} when {named('ownerId')} is left out",
    )
    allow_http = _allows_http(config) or env.get(ALLOW_HTTP) == "true"
    field = keys.spell(endpoint_from or keys.of("endpoint")[0])
    return Settings(
        credentials=credentials,
        endpoint=check_endpoint(endpoint or default, allow_http, field, keys.spell(ALLOW_HTTP_KEY)),
        organization=organization,
        source=source,
        origin=origin,
    )


class ProviderOptions(BaseModel):
    """`clevercloud-tcp:*` settings of how the provider talks to the API: how patient it is, and whether
    plain http is allowed (`resolve_settings` applies that one, to the endpoint)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    request_timeout: float = Field(default=15.0, gt=0, alias="requestTimeout")
    retry_attempts: int = Field(default=5, ge=1, le=20, alias="retryAttempts")
    retry_timeout: float = Field(default=60.0, gt=0, alias="retryTimeout")
    allow_http: bool = Field(default=False, alias="allowHttp")

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.retry_attempts, total_seconds=self.retry_timeout)


OPTION_NAMES = tuple(field.alias for field in ProviderOptions.model_fields.values() if field.alias)
OPTION_KEYS = tuple(f"{PACKAGE}:{name}" for name in OPTION_NAMES)
# Every name of the package's own namespace, and the subset pulumi-clevercloud shares.
PACKAGE_NAMES = (*SETTING_NAMES.values(), *OPTION_NAMES)
SHARED_NAMES = tuple(SETTING_NAMES.values())
# A shared key this close to one of ours is taken for a typo of it (`organisation`, `endpiont`); other
# `clevercloud:*` keys belong to pulumi-clevercloud and are left alone.
NEAR_MISS = 0.8


def _nearest(name: str, names: Iterable[str], cutoff: float) -> str | None:
    by_case = {n.lower(): n for n in names}
    found = difflib.get_close_matches(name.lower(), list(by_case), n=1, cutoff=cutoff)
    return by_case[found[0]] if found else None


def key_problems(keys: Iterable[str], spelled: ConfigKeys | None = None) -> list[tuple[str, str]]:
    """(key, message) for each config key that is surely a mistake; an empty list when all are fine.

    Unknown `clevercloud-tcp:*` keys are refused; `clevercloud:*` keys only when they are near misses
    of a key this provider reads (that namespace also holds pulumi-clevercloud's own keys). Messages
    spell keys as `spelled` does (the arguments of an explicit provider), else as stack config keys.
    """
    spell = spelled.spell if spelled is not None else str
    problems = []
    for key in keys:
        namespace, _, name = key.partition(":")
        if namespace == PACKAGE and name not in PACKAGE_NAMES:
            nearest = _nearest(name, PACKAGE_NAMES, 0.0)
            problems.append((key, f"{spell(key)} is not a setting of this provider; did you mean {spell(f'{PACKAGE}:{nearest}')}?"))
        elif namespace == SHARED and name not in SHARED_NAMES:
            nearest = _nearest(name, SHARED_NAMES, NEAR_MISS)
            if nearest is not None:
                problems.append((key, f"{key} is not a setting this provider reads; did you mean {SHARED}:{nearest}?"))
    return problems


def options_from(config: Mapping[str, object], spelled: ConfigKeys | None = None) -> ProviderOptions:
    """The options among full config keys (`clevercloud-tcp:requestTimeout`), each checked."""
    given = {key.partition(":")[2]: value for key, value in config.items() if key in OPTION_KEYS}
    try:
        return ProviderOptions.model_validate(given)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0])
        key = spelled.spell(f"{PACKAGE}:{name}") if spelled is not None else f"{PACKAGE}:{name}"
        value = given.get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # numbers cross the protocol as floats; show the one the user wrote
        raise ConfigurationError(
            f"{key}: {first['msg'].lower()}, got {value!r} "
            f"(the default is {ProviderOptions.model_fields[_field_of(name)].default})"
        ) from None


def settings_problems(config: Mapping[str, object], env: Mapping[str, str], keys: ConfigKeys) -> list[tuple[str, str]]:
    """(key, message) for every mistake these settings show without asking the API: a mistyped key, an
    option out of its bounds, credentials missing or half given, an endpoint that is no API base URL.
    Both faces ask it before anything is sent (at `pulumi preview`); `config` holds full keys."""
    problems = key_problems(config, keys)
    try:
        options_from(config, keys)
    except ConfigurationError as exc:
        problems.append(("options", str(exc)))
    try:
        resolve_settings(config, env, keys)
    except ConfigurationError as exc:
        problems.append(("settings", str(exc)))
    return problems


def _allows_http(config: Mapping[str, object]) -> bool:
    try:
        return ProviderOptions.model_validate({"allowHttp": config.get(ALLOW_HTTP_KEY) or False}).allow_http
    except ValidationError:
        return False  # not a boolean: options_from names the key and the value


def _field_of(alias: str) -> str:
    return next(name for name, field in ProviderOptions.model_fields.items() if field.alias == alias)
