"""The dynamic face: `pulumi.dynamic`'s requests, and the program-side functions, translated to the core.

The engine pickles the provider instance into every resource's state (`__provider`) by reference to
`clevercloud_tcp.provider.TcpRedirectionProvider`, a promise to existing stacks: the class says that
module is its home, and that module re-exports it. The instance holds nothing when pickled; credentials
are read in `configure` and the HTTP client is built on first use, both inside the provider process only.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import pulumi.runtime
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

from .. import errors
from ..config import DYNAMIC_KEYS, OPTION_KEYS, key_problems, settings_problems
from ..core import functions, resource
from ..core.session import Deployment, Session
from ..hosting import engine_address, start_provider_process
from .engine_log import pass_warnings_to

# docs/recovery.md's routes for Python programs: in a project folder, or run by `clevercloud_tcp.run`.
RECOVERY = (
    "`python -m clevercloud_tcp.recover` in the project folder, or `python -m clevercloud_tcp.run PROGRAM "
    "recover` if you run the program that way (see the provider's docs/recovery.md)"
)
# The configuration this face reads: the whole stack config's keys of both namespaces.
CONFIG_KEYS = (*DYNAMIC_KEYS.all(), *OPTION_KEYS)


@functools.cache
def _deployment() -> Deployment:
    """The provider process's one deployment. `pulumi.dynamic` makes a provider instance per serialized
    provider it meets (an old state's and the program's may differ), and a rename's create and its old
    name's delete may meet different ones: what the process made must be known to all of them."""
    return Deployment(DYNAMIC_KEYS, run=engine_address())


# Said when the SDK does not list the stack config (see stack_config_keys).
NO_KEY_CHECK = (
    "clevercloud-tcp: the pulumi SDK {sdk} does not list the stack config to dynamic providers, so misspelt "
    "clevercloud:* and clevercloud-tcp:* config keys are not reported; everything else works "
    "(the pulumi versions this provider is tested with, in its docs, do list them)"
)


def stack_config_keys(req: ConfigureRequest) -> list[str] | None:
    """Every key of the stack config, or None when this SDK does not say. The SDK has no public way to list
    them: `Config._props` is read where it is (tests/test_sdk_internals.py says when it moves)."""
    props = getattr(req.config, "_props", None)
    return list(props) if isinstance(props, Mapping) else None


def _core_values(props: Mapping[str, Any]) -> dict[str, Any]:
    # check and diff get unknowns as `Unknown` objects; other paths as the sentinel string.
    return {k: resource.UNKNOWN if isinstance(v, Unknown) or v == UNKNOWN else v for k, v in props.items()}


class TcpRedirectionProvider(ResourceProvider):
    """Create, read, diff, update and delete one TCP redirection, keyed by application and namespace."""

    __module__ = "clevercloud_tcp.provider"  # where stacks find it when they unpickle it
    _config: dict[str, object]
    _refused: str  # what is wrong with the settings, found in configure

    def configure(self, req: ConfigureRequest) -> None:
        # Only the provider host calls configure: there, the user reads our message, not the host's
        # traceback (`pulumi.dynamic` formats every error with `traceback.format_exc`).
        sys.tracebacklimit = 0
        start_provider_process()
        pass_warnings_to(engine_address())
        self._config = {k: v for k in CONFIG_KEYS if (v := req.config.get(k)) is not None}
        # Every mistake that shows without the API: check reports it (at `pulumi preview`, before anything
        # is sent), every other call refuses to go on. Typos are looked for in the whole stack config.
        keys = stack_config_keys(req)
        if keys is None:  # the provider works on; only the typo check is lost
            logging.getLogger(__name__).warning(NO_KEY_CHECK.format(sdk=version("pulumi")))
        typos = key_problems(k for k in keys or () if k not in self._config)
        try:
            # The host configures each provider instance it unpickles with the settings of the engine's
            # one Configure; other settings come from another Configure, sent from outside the engine.
            _deployment().configure(self._config)
        except errors.ConfigurationError as exc:
            self._refused = str(exc)
            return
        problems = typos + settings_problems(self._config, _deployment().env, DYNAMIC_KEYS)
        fix = " (fix a key with `pulumi config rm KEY` and `pulumi config set RIGHT_KEY VALUE`)" if typos else ""
        self._refused = "; ".join(message for _, message in problems) + fix if problems else ""

    def session(self) -> Session:
        if getattr(self, "_refused", ""):
            raise errors.ConfigurationError(self._refused)
        return _deployment().session(getattr(self, "_config", {}))

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        checked = resource.check(_core_values(olds), _core_values(news))
        # No property: the engine then prints our reason alone, which names the field as Python spells it
        # (with one, it would also print the schema's name: two names for one field).
        failures = [CheckFailure("", str(errors.InputError(f.prop, f.reason))) for f in checked.failures]
        if getattr(self, "_refused", ""):
            failures.insert(0, CheckFailure("", self._refused))
        return CheckResult({k: UNKNOWN if v is resource.UNKNOWN else v for k, v in checked.inputs.items()}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        plan = resource.plan(_core_values(olds), _core_values(news), self.session)
        return DiffResult(
            changes=plan.changes,
            replaces=plan.replaces,
            stables=plan.stables,
            delete_before_replace=plan.delete_before_replace,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        try:
            id_, outs = resource.create(self.session(), props)
        except errors.Unrecorded as exc:
            raise exc.with_recovery(RECOVERY) from None
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


def invoke(function: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """One of the package's functions, run in the program's own process (a dynamic provider has no
    invokes), with the credentials the provider would read. A deployment per call: the program may
    change its environment between two."""
    config = {key: value for key in CONFIG_KEYS if (value := pulumi.runtime.get_config(key)) is not None}
    deployment = Deployment(DYNAMIC_KEYS)
    try:
        return functions.call(function, deployment.session(config), args)
    finally:
        deployment.close()
