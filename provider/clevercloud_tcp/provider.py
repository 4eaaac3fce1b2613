"""The Pulumi dynamic provider of `TcpRedirection`: `pulumi.dynamic`'s requests, translated to the core.

The engine pickles the provider instance into every resource's state (`__provider`) by reference to
this module: `clevercloud_tcp.provider.TcpRedirectionProvider` is a promise to existing stacks, keep
it importable. The instance holds nothing when pickled; credentials are read in `configure` and the
HTTP client is built on first use, both inside the provider process only.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from . import resource
from .config import OPTION_KEYS, check_keys
from .credentials import ALL_CONFIG_KEYS
from .inputs import PYTHON_NAMES
from .session import Session, session_for
from .hosting import start_provider_process



def _plain(props: Mapping[str, Any]) -> dict[str, Any]:
    # check and diff get unknowns as `Unknown` objects; other paths as the sentinel string.
    return {k: resource.UNKNOWN if isinstance(v, Unknown) or v == UNKNOWN else v for k, v in props.items()}


class TcpRedirectionProvider(ResourceProvider):
    """Create, read, diff, update and delete one TCP redirection, keyed by application and namespace."""

    _config: dict[str, object]

    def configure(self, req: ConfigureRequest) -> None:
        # Only the provider host calls configure: there, the user reads our message, not the host's
        # traceback (`pulumi.dynamic` formats every error with `traceback.format_exc`).
        sys.tracebacklimit = 0
        start_provider_process()
        check_keys(getattr(req.config, "_props", {}))  # the whole stack config: typos of our keys are refused
        keys = (*ALL_CONFIG_KEYS, *OPTION_KEYS)
        self._config = {k: v for k in keys if (v := req.config.get(k)) is not None}

    def session(self) -> Session:
        return session_for(getattr(self, "_config", {}))

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        checked = resource.check(_plain(olds), _plain(news))
        failures = [CheckFailure(f.prop, f"{PYTHON_NAMES[f.prop]}: {f.reason}") for f in checked.failures]
        return CheckResult({k: UNKNOWN if v is resource.UNKNOWN else v for k, v in checked.inputs.items()}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        plan = resource.plan(_plain(olds), _plain(news), self.session)
        return DiffResult(
            changes=plan.changes,
            replaces=plan.replaces,
            stables=plan.stables,
            delete_before_replace=plan.delete_before_replace,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        id_, outs = resource.create(self.session(), props)
        return CreateResult(id_, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        found = resource.read(self.session(), id_, props, {})
        if found is None:
            return ReadResult(None, {})
        # No inputs returned: the engine keeps the stored ones, so a given host stays an input.
        return ReadResult(found.id, found.outputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(resource.update(self.session(), id_, olds, news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        resource.delete(self.session(), id_, props)
