"""Provider configuration: which keys exist, how patient to be with the API, and typos refused.

Both faces read the same keys: this package's own namespace `clevercloud-tcp:*`, and the keys it shares
with pulumi-clevercloud (`clevercloud:*`), so one stack config serves both providers.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .credentials import SETTING_NAMES
from .errors import ConfigurationError
from .transport import RetryPolicy

PACKAGE = "clevercloud-tcp"
SHARED = "clevercloud"


class ProviderOptions(BaseModel):
    """`clevercloud-tcp:*` settings of how patient the provider is with the API."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    request_timeout: float = Field(default=15.0, gt=0, alias="requestTimeout")
    retry_attempts: int = Field(default=5, ge=1, le=20, alias="retryAttempts")
    retry_timeout: float = Field(default=60.0, gt=0, alias="retryTimeout")

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


def key_problems(keys: Iterable[str]) -> list[tuple[str, str]]:
    """(key, message) for each config key that is surely a mistake; an empty list when all are fine.

    Unknown `clevercloud-tcp:*` keys are refused; `clevercloud:*` keys only when they are near misses
    of a key this provider reads (that namespace also holds pulumi-clevercloud's own keys).
    """
    problems = []
    for key in keys:
        namespace, _, name = key.partition(":")
        if namespace == PACKAGE and name not in PACKAGE_NAMES:
            nearest = _nearest(name, PACKAGE_NAMES, 0.0)
            problems.append((key, f"{key} is not a setting of this provider; did you mean {PACKAGE}:{nearest}?"))
        elif namespace == SHARED and name not in SHARED_NAMES:
            nearest = _nearest(name, SHARED_NAMES, NEAR_MISS)
            if nearest is not None:
                problems.append((key, f"{key} is not a setting this provider reads; did you mean {SHARED}:{nearest}?"))
    return problems


def check_keys(keys: Iterable[str]) -> None:
    """Raises a ConfigurationError naming every mistaken key and its right spelling."""
    problems = key_problems(keys)
    if problems:
        fix = "fix it with `pulumi config rm KEY` and `pulumi config set RIGHT_KEY VALUE`"
        raise ConfigurationError("; ".join(message for _, message in problems) + f" ({fix})")


def options_from(config: Mapping[str, object]) -> ProviderOptions:
    """The options among full config keys (`clevercloud-tcp:requestTimeout`), each checked."""
    given = {key.partition(":")[2]: value for key, value in config.items() if key in OPTION_KEYS}
    try:
        return ProviderOptions.model_validate(given)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0])
        raise ConfigurationError(
            f"{PACKAGE}:{name}: {first['msg'].lower()}, got {given.get(name)!r} "
            f"(the default is {ProviderOptions.model_fields[_field_of(name)].default})"
        ) from None


def _field_of(alias: str) -> str:
    return next(name for name, field in ProviderOptions.model_fields.items() if field.alias == alias)
