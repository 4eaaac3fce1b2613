"""The stacks recorded as upgrade baselines: what a user of each face has live, one program per face.

Run by `record.py` under an earlier release's packages (to make a baseline) and by
tests/e2e/test_upgrade.py under this checkout's (to preview it): keep to the resource's public inputs,
as a user's program would. Each stack covers every input: the namespaces (the default, `cleverapps`, a
dedicated one), an owner given or found, a host given or left to the API, and an adopted redirection.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
from pulumi import automation as auto

from clevercloud_tcp.runtime.local_stack import local_stack

# The emulator's default fixture: three applications of the organisation ORG.
ORG = "orga_3b5a6c1e-6f0a-4c3e-9d7e-1f2a3b4c5d6e"
CACHE_APP = "app_0d4f6a4e-3c2b-4e1f-9a8b-7c6d5e4f3a2b"
BROKER_APP = "app_1e5a7b5f-4d3c-4f2a-8b9c-8d7e6f5a4b3c"
GAME_APP = "app_2f6b8c6a-5e4d-4a3b-9cad-9e8f7a6b5c4d"
# Made outside Pulumi before the first `up`, and adopted by the stack.
ADOPTED = (GAME_APP, "cleverapps")
# Both credentials are the emulator's fixture ones; the passphrase encrypts them in the recorded state.
PASSPHRASE = "upgrade-baseline-passphrase"
TOKEN, SECRET = "emulator-token", "emulator-secret"
FACES = ("dynamic", "plugin")


def config_namespace(face: str) -> str:
    return "clevercloud" if face == "dynamic" else "clevercloud-tcp"


def _redirection(face: str) -> Callable[..., Any]:
    if face == "dynamic":
        from clevercloud_tcp.dynamic import TcpRedirection

        return lambda name, **inputs: TcpRedirection(name, **inputs)
    import pulumi_clevercloud_tcp

    return lambda name, **inputs: pulumi_clevercloud_tcp.TcpRedirection(name, **inputs)


def program(face: str) -> Callable[[], None]:
    def run() -> None:
        redirection = _redirection(face)
        made = {
            "cache": redirection("cache", app_id=CACHE_APP, namespace="cleverapps"),
            "broker": redirection("broker", app_id=BROKER_APP, host="broker.acme.example"),
            "game": redirection("game", app_id=GAME_APP, namespace="acme-dedicated", owner_id=ORG),
            "adopted": redirection("adopted", app_id=ADOPTED[0], namespace=ADOPTED[1], adopt=True),
        }
        for name, made_one in made.items():
            pulumi.export(f"{name}Port", made_one.port)
            pulumi.export(f"{name}Url", made_one.url)

    return run


def engine_variables(endpoint: str) -> dict[str, str]:
    """The endpoint reaches the providers through the environment, so no address of a run is kept in its state."""
    return {"API_HOST": endpoint, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}


def baseline_stack(face: str, *, cli_dir: Path, state_dir: Path, endpoint: str) -> auto.Stack:
    """The face's stack on a local backend, its credentials as secret config, as the baselines were made."""
    namespace = config_namespace(face)
    return local_stack(
        program(face),
        cli_dir=cli_dir,
        state_dir=state_dir,
        project="upgrade-baseline",
        stack=face,
        secrets={f"{namespace}:token": TOKEN, f"{namespace}:secret": SECRET},
        env=engine_variables(endpoint),
    )
