"""What the faces rely on in Pulumi's Python SDK beyond its stable API, checked against the installed SDK.

pyproject.toml pins pulumi to the tested range; when a new SDK release is taken into that range, these
fail first and say what moved, instead of a user's `pulumi up`.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

import pulumi.dynamic
from pulumi.dynamic import ConfigureRequest
from pulumi.provider.experimental import provider as experimental
from pulumi.provider.experimental.server import ProviderServicer

from clevercloud_tcp.faces.dynamic import stack_config_keys
from clevercloud_tcp.faces.plugin.face import TcpRedirectionPlugin
from clevercloud_tcp.faces.plugin.server import RPCS, OneLineErrors

SDK = f"pulumi {version('pulumi')}"


def test_a_dynamic_configure_request_still_lists_every_stack_config_key() -> None:
    config = pulumi.dynamic.Config({"clevercloud-tcp:organisation": "typo", "aws:region": "x"}, "project")
    assert stack_config_keys(ConfigureRequest(config)) == ["clevercloud-tcp:organisation", "aws:region"], (
        f"{SDK}: pulumi.dynamic.Config no longer keeps the stack config in `_props`"
    )


def test_the_servicer_still_has_every_rpc_the_plugin_wraps() -> None:
    for name in RPCS:
        inherited = getattr(ProviderServicer, name, None)
        assert inspect.iscoroutinefunction(inherited), f"{SDK}: ProviderServicer.{name} is gone or not async"
        assert list(inspect.signature(inherited).parameters)[1:] == ["request", "context"], f"{SDK}: {name}'s signature changed"
        assert name in OneLineErrors.__dict__, f"OneLineErrors does not wrap {name}"
    served = {n for n, f in vars(ProviderServicer).items() if inspect.iscoroutinefunction(f) and n[0].isupper()}
    implemented = {"CheckConfig", "Configure", "Check", "Diff", "Create", "Read", "Update", "Delete", "Invoke", "GetSchema"}
    assert implemented <= served and set(RPCS) == implemented


def test_the_experimental_provider_still_asks_for_what_the_plugin_implements() -> None:
    for name in ("get_schema", "check_config", "configure", "invoke", "check", "diff", "create", "read", "update", "delete"):
        assert hasattr(experimental.Provider, name), f"{SDK}: Provider.{name} is gone"
        assert name in TcpRedirectionPlugin.__dict__, f"the plugin does not implement {name}"
