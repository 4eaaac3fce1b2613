"""What the faces rely on in Pulumi's Python SDK beyond its stable API, checked against the installed SDK.

pyproject.toml accepts every pulumi 3.x from the oldest that has what the plugin is built on;
scripts/test-matrix runs these against both ends of that range, and they fail first, saying what
moved, when a new SDK release changes something. The dynamic face's one private read has a fallback
(the provider works on without the config-key typo check); the last test runs it.
"""

from __future__ import annotations

import inspect
import os
from importlib.metadata import version
from pathlib import Path

import pulumi.dynamic
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.provider.experimental import provider as experimental
from pulumi.provider.experimental.server import ProviderServicer

from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.faces.dynamic import stack_config_keys
from clevercloud_tcp.faces.plugin.face import TcpRedirectionPlugin
from clevercloud_tcp.faces.plugin.server import RPCS, OneLineErrors
from clevercloud_tcp.testing.harness import ProviderHost
from support import APP, SECRET, TOKEN, held_ports

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


# Loaded by the provider host at start-up (PYTHONPATH): an SDK whose Config keeps the stack config elsewhere.
CONFIG_MOVED = """
import pulumi.dynamic.config as config

_init = config.Config.__init__

def _moved(self, raw_config, project_name):
    _init(self, raw_config, project_name)
    self._values = self.__dict__.pop("_props")

config.Config.__init__ = _moved
config.Config.get = lambda self, key: self._values.get(key if ":" in key else f"{self._project_name}:{key}")
"""


def test_a_dynamic_configure_request_without_props_gives_no_key_list() -> None:
    class Moved:
        def get(self, key: str) -> None:
            return None

    assert stack_config_keys(ConfigureRequest(Moved())) is None  # type: ignore[arg-type]


def test_when_the_sdk_moves_the_config_the_dynamic_provider_works_and_warns_that_typos_go_unchecked(
    emulator: EmulatorProcess, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sitecustomize.py").write_text(CONFIG_MOVED)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    config = {"clevercloud:endpoint": emulator.url, "clevercloud:token": TOKEN, "clevercloud:secret": SECRET}
    typo = {"clevercloud-tcp:requestTimout": "5s"}  # refused when the SDK lists the keys
    with ProviderHost({**config, **typo}, env=env) as host:
        checked = host.check({"appId": APP, "namespace": "cleverapps"})
        _, outputs = host.create(checked.inputs)
    assert held_ports(emulator, APP) == {"cleverapps": outputs["port"]}
    said = capfd.readouterr().err
    assert "does not list the stack config to dynamic providers" in said and "config keys are not reported" in said
