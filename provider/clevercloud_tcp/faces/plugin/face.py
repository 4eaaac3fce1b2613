"""The plugin face: Pulumi's provider protocol (through its Python provider SDK), translated to the core.

Each method turns the request's property values into plain dicts, calls the core, and turns the answer
back. The rules themselves live in `clevercloud_tcp.core.resource` and `clevercloud_tcp.core.functions`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

from pulumi.provider.experimental import provider as p
from pulumi.provider.experimental.property_value import PropertyValue

from ... import errors
from ...config import PACKAGE, PLUGIN_KEYS, SECRET_NAMES, ConfigKeys, given_in_clear, settings_problems
from ...core import functions, resource
from ...core.inputs import FIND_HOST
from ...core.session import Deployment, Session
from ..engine_log import RESOURCE
from .values import plain, secret_names, wire

TYPE = f"{PACKAGE}:index:TcpRedirection"
# docs/recovery.md's route with the `pulumi` CLI alone, for programs in any language.
RECOVERY = (
    "`pulumi cancel --yes`, `pulumi refresh --clear-pending-creates --yes`, then "
    "`CLEVERCLOUD_TCP_RECOVER=true pulumi up` (see the provider's docs/recovery.md)"
)
# What the engine itself may put among a provider's config inputs.
ENGINE_KEYS = {"version", "pluginDownloadURL"}
T = TypeVar("T")
log = logging.getLogger("clevercloud_tcp")


def schema_text() -> str:
    return resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")


def keys_of(urn: str) -> ConfigKeys:
    """How the settings of the provider `urn` are spelled: stack config for the default provider (the
    engine names it `default` or `default_<version>`), the resource's arguments for an explicit one."""
    name = urn.rpartition("::")[2]
    return PLUGIN_KEYS if not name or name == "default" or name.startswith("default_") else PLUGIN_KEYS.for_provider(name)


def _settings(inputs: dict[str, Any]) -> dict[str, object]:
    """A provider's inputs as full config keys, without what the engine adds or nobody set."""
    return {f"{PACKAGE}:{k}": v for k, v in inputs.items() if k not in ENGINE_KEYS and v is not None}


def _failures(failures: list[resource.Failure]) -> list[p.CheckFailure]:
    # The engine prints "property appId value … has a problem: <reason>": the schema's name, once.
    return [p.CheckFailure(f.prop, errors.spell(f.reason, errors.schema_name)) for f in failures]


def _diff_kind(name: str, plan: resource.Plan, news: dict[str, Any]) -> p.PropertyDiffKind:
    if name in plan.replaces:
        return p.PropertyDiffKind.UPDATE_REPLACE
    return p.PropertyDiffKind.DELETE if news.get(name) == FIND_HOST else p.PropertyDiffKind.UPDATE


class TcpRedirectionPlugin(p.Provider):
    """One `TcpRedirection` resource and the package's two functions."""

    def __init__(self, run: str | None = None) -> None:
        """`run`: the engine's address, shared by the provider processes of one `pulumi` command."""
        self._config: dict[str, object] = {}
        self._engine = run
        # The engine hands a plugin its own config namespace only: messages name those keys alone.
        self._deployment = Deployment(PLUGIN_KEYS, run=run)

    def serve(self, urn: str) -> None:
        """The provider resource this process serves, as the engine names it before Configure (an
        explicit provider's messages name its arguments, not stack config keys)."""
        keys = keys_of(urn)
        if keys != self._deployment.keys and not self._deployment.configured:  # a later Configure changes nothing
            self._deployment = Deployment(keys, run=self._engine)

    def session(self) -> Session:
        return self._deployment.session(self._config)

    async def _run(self, work: Callable[[], T]) -> T:
        # The core is synchronous (one HTTP client, thread-safe): run it off the event loop so the
        # engine's parallel requests proceed in parallel.
        return await asyncio.to_thread(work)

    async def get_schema(self, request: p.GetSchemaRequest) -> p.GetSchemaResponse:
        return p.GetSchemaResponse(schema=schema_text())

    async def check_config(self, request: p.CheckRequest) -> p.CheckResponse:
        # Every mistake that shows without the API fails here, at preview, before anything is sent; a
        # value known only later (from another resource) is checked when the provider is configured.
        settings = _settings(plain(request.new_inputs))
        unknown = [k for k, v in settings.items() if v is resource.UNKNOWN]
        problems = settings_problems({k: v for k, v in settings.items() if k not in unknown}, self._deployment.env, keys_of(request.urn))
        if unknown:
            problems = [(key, message) for key, message in problems if key != "settings"]
        failures = [p.CheckFailure("", message) for _, message in problems]
        # The engine records these inputs in the state: a credential given in clear is made secret there.
        in_clear = [name for name in SECRET_NAMES if name in request.new_inputs and not request.new_inputs[name].contains_secret()]
        for name in in_clear:
            log.warning(given_in_clear(name, keys_of(request.urn)))
        inputs = {k: PropertyValue(v.value, is_secret=True) if k in in_clear else v for k, v in request.new_inputs.items()}
        return p.CheckResponse(inputs=inputs, failures=failures)

    async def configure(self, request: p.ConfigureRequest) -> p.ConfigureResponse:
        config = _settings(plain(request.args))
        self._deployment.configure(config)
        self._config = config
        problems = settings_problems(self._config, self._deployment.env, self._deployment.keys)
        if problems:
            raise errors.ConfigurationError("; ".join(message for _, message in problems))
        return p.ConfigureResponse(accept_secrets=True, supports_preview=True)

    async def invoke(self, request: p.InvokeRequest) -> p.InvokeResponse:
        package, _, name = request.tok.partition(":index:")
        args = plain(request.args)
        if package != PACKAGE:
            raise errors.ConfigurationError(f"{request.tok} is not a function of {PACKAGE}")
        try:
            return p.InvokeResponse(return_value=wire(await self._run(lambda: functions.call(name, self.session(), args))))
        except errors.InputError as exc:
            return p.InvokeResponse(failures=[p.CheckFailure(exc.field, exc.spelled(errors.schema_name))])

    async def check(self, request: p.CheckRequest) -> p.CheckResponse:
        checked = resource.check(plain(request.old_inputs), plain(request.new_inputs))
        secrets = secret_names(request.new_inputs)
        return p.CheckResponse(inputs=wire(checked.inputs, secrets), failures=_failures(checked.failures))

    async def diff(self, request: p.DiffRequest) -> p.DiffResponse:
        news = plain(request.new_inputs)
        plan = await self._run(lambda: resource.plan(plain(request.old_state), news, self.session))
        changed = [*plan.replaces, *plan.updates]
        return p.DiffResponse(
            changes=plan.changes,
            replaces=plan.replaces,
            stables=plan.stables,
            delete_before_replace=plan.delete_before_replace,
            diffs=changed,
            detailed_diff={name: p.PropertyDiff(_diff_kind(name, plan, news), True) for name in changed},
        )

    async def create(self, request: p.CreateRequest) -> p.CreateResponse:
        props = plain(request.properties)
        secrets = secret_names(request.properties)
        if request.preview:
            id_, outputs = resource.preview(props)
        else:
            try:
                id_, outputs = await self._run(lambda: resource.create(self.session(), props))
            except errors.Unrecorded as exc:
                raise exc.with_recovery(RECOVERY) from None
        return p.CreateResponse(resource_id=id_, properties=wire(outputs, secrets))

    async def read(self, request: p.ReadRequest) -> p.ReadResponse:
        outputs, inputs = plain(request.properties), plain(request.inputs)
        found = await self._run(lambda: resource.read(self.session(), request.resource_id, outputs, inputs))
        if found is None:
            return p.ReadResponse(resource_id="")  # gone: the engine drops it from the state
        secrets = secret_names(request.properties, request.inputs)
        return p.ReadResponse(
            resource_id=found.id, properties=wire(found.outputs, secrets), inputs=wire(found.inputs, secrets)
        )

    async def update(self, request: p.UpdateRequest) -> p.UpdateResponse:
        olds, news = plain(request.olds), plain(request.news)
        if request.preview:
            outputs = resource.preview_update(olds, news)
        else:
            outputs = await self._run(lambda: resource.update(self.session(), request.resource_id, olds, news))
        return p.UpdateResponse(properties=wire(outputs, secret_names(request.olds, request.news)))

    async def delete(self, request: p.DeleteRequest) -> None:
        props = plain(request.properties)
        RESOURCE.set(request.urn)  # this request's own context, which the worker thread copies
        await self._run(lambda: resource.delete(self.session(), request.resource_id, props))
