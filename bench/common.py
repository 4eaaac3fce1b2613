"""What every benchmark is made of and sets up: its description (`Benchmark`), the run's context, the
emulator's fixture, the bare client, stacks of N redirections, and the check that a run did its work."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import SecretStr

from clevercloud_tcp import CleverCloudClient, OAuthCredentials
from clevercloud_tcp.dynamic import TcpRedirection
from clevercloud_tcp.emulator import App, Fixture, NamespaceSpec, organisation_fixture
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime.local_stack import find_pulumi, local_stack
from measure import Lap, lap
from table import Section

TOKEN, SECRET = "bench-token", "bench-secret"
USER_ID = "user_5e1f6a2b-0c3d-4e4f-8a5b-6c7d8e9f0a1b"
ORG_ID = "orga_0b1c2d3e-4f5a-4b6c-9d7e-8f9a0b1c2d3e"
SEED = 20240601
APP_NAMESPACE = uuid.UUID("6f1c0e3a-5b2d-4c8e-9a7f-1d2e3f4a5b6c")
TWO_NAMESPACES = {"default": (5001, 5999), "cleverapps": (5001, 5999)}


class CannotRun(RuntimeError):
    """A benchmark lacks what it needs (a tool not installed): its row says so, without a traceback."""


class Context:
    """What the benchmarks of one run share: a scratch directory, the tools found, the engine's environment.

    The `pulumi` CLI is found on PATH or in scripts/install-pulumi's cache; this never builds it.
    """

    def __init__(self, workdir: Path, clever: Path | None, engine_env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.engine_env = engine_env or {}
        self.cli_dir = find_pulumi()
        self.clever = clever
        self._stacks = 0

    def stack(self, emu: EmulatorProcess, targets: list[tuple[str, str]], *, skip_checkpoints: bool = False) -> Any:
        """A fresh stack on its own local backend whose program declares one redirection per target;
        `skip_checkpoints`: its engine writes the state at the end of each command only."""
        if self.cli_dir is None:
            raise CannotRun("no pulumi CLI found: run scripts/install-pulumi, or scripts/bench which does")
        self._stacks += 1
        return local_stack(
            redirections_program(targets),
            cli_dir=self.cli_dir,
            state_dir=self.workdir / f"stack-{self._stacks}",
            project="clevercloud-tcp-bench",
            stack="bench",
            config={"clevercloud:endpoint": emu.url, "clevercloud-tcp:allowHttp": "true"},
            secrets={"clevercloud:token": TOKEN, "clevercloud:secret": SECRET},
            env=self.engine_env,
            skip_checkpoints=skip_checkpoints,
        )


S = TypeVar("S")


@dataclass(frozen=True)
class Benchmark(Generic[S]):
    """One benchmark: `run(ctx, sizes, rows)` with the sizes of the mode, within the mode's time budget."""

    name: str
    run: Callable[[Context, S, Section], None]
    full: S
    quick: S
    budget_full: float  # seconds
    budget_quick: float
    needs_clever: bool = False  # the official CLI is installed (scripts/install-clever-tools) only if so

    def sizes(self, quick: bool) -> S:
        return self.quick if quick else self.full

    def budget(self, quick: bool) -> float:
        return self.budget_quick if quick else self.budget_full


def app_id(i: int) -> str:
    # uuid5: a real version nibble, so clever-tools takes it for an id and not for an app name.
    return f"app_{uuid.uuid5(APP_NAMESPACE, f'bench-app-{i}')}"


def make_fixture(
    n_apps: int,
    namespaces: dict[str, tuple[int, int]],
    *,
    two_custom_domains_every: int = 0,
) -> Fixture:
    """One user in one organisation owning `n_apps` apps, each with a cleverapps.io and a custom domain.

    With `two_custom_domains_every=k`, every k-th app has a second custom domain and a favourite,
    so that host resolution needs `vhosts/favourite` for it.
    """
    apps = []
    for i in range(n_apps):
        aid = app_id(i)
        vhosts = [f"{aid.replace('_', '-')}.cleverapps.io", f"bench-{i}.example.com"]
        favourite = None
        if two_custom_domains_every and i % two_custom_domains_every == 0:
            vhosts.append(f"alt-{i}.example.com")
            favourite = f"alt-{i}.example.com"
        apps.append(App(id=aid, name=f"bench-{i:04d}", vhosts=vhosts, favourite_vhost=favourite))
    return organisation_fixture(
        user_id=USER_ID,
        org_id=ORG_ID,
        token=TOKEN,
        secret=SECRET,
        apps=apps,
        namespaces=[NamespaceSpec(name=n, min_port=lo, max_port=hi) for n, (lo, hi) in namespaces.items()],
    )


def emulator(fixture: Fixture) -> EmulatorProcess:
    return EmulatorProcess(fixture, seed=SEED)


def provider_config(emu: EmulatorProcess) -> dict[str, str]:
    """The stack config a provider process is configured with, pointed at the emulator (plain http opted into)."""
    return {"clevercloud:token": TOKEN, "clevercloud:secret": SECRET, "clevercloud:endpoint": emu.url, "clevercloud-tcp:allowHttp": "true"}


def plugin_config(emu: EmulatorProcess) -> dict[str, str]:
    """The same, as the engine hands it to the native plugin: its own namespace, keys without the prefix."""
    return {"token": TOKEN, "secret": SECRET, "endpoint": emu.url, "allowHttp": "true"}


def bare_client(emu: EmulatorProcess) -> CleverCloudClient:
    return CleverCloudClient(emu.url, OAuthCredentials(token=SecretStr(TOKEN), secret=SecretStr(SECRET)))


def bare_lap(emu: EmulatorProcess, targets: list[tuple[str, str]]) -> Lap:
    """The bare minimum of provisioning: the client's POST of each target, one after the other, over one
    connection opened untimed."""
    with bare_client(emu) as client:
        client.summary()

        def posts() -> None:
            for app, namespace in targets:
                client.add_tcp_redirection(ORG_ID, app, namespace)

        return lap(posts)


def pairs(n: int) -> list[tuple[str, str]]:
    """n (app, namespace) pairs: n/2 apps, each in `default` and in `cleverapps`."""
    return [(app_id(i // 2), ("default", "cleverapps")[i % 2]) for i in range(n)]


def redirections_program(targets: list[tuple[str, str]]) -> Callable[[], None]:
    def program() -> None:
        for i, (app, namespace) in enumerate(targets):
            TcpRedirection(f"r{i:04d}", app_id=app, namespace=namespace)

    return program


def check_held(emu: EmulatorProcess, expected: int, what: str) -> None:
    """A fast wrong run must be an ERROR, not a good number."""
    held = len(emu.redirections())
    if held != expected:
        raise RuntimeError(f"{what}: the emulator holds {held} redirections, expected {expected}")
