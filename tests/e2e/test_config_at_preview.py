"""Settings that are wrong whatever the API says fail `pulumi preview`, in one line, before any request.

Through the real engine, both faces (docs/configuration.md, "Mistakes refused before anything is sent"):
an option of the wrong kind, no credentials anywhere, an endpoint with a path. And after credentials
move from the environment to stack config, `pulumi refresh` says why it does not see them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.runtime.local_stack import first_error
from faces import FACES, PLUGIN, Face
from support import APP, SECRET, TOKEN, StackFactory, no_profile, quiet

MISTAKES = {
    "an option of the wrong kind": ({"requestTimeout": "fast"}, "requestTimeout: input should be a valid number"),
    "no credentials": ({"token": None, "secret": None}, "No Clever Cloud credentials found"),
    "an endpoint with a path": ({"endpoint": "https://api.clever-cloud.com/v2"}, "give the API's base URL alone"),
}


def program(face: Face) -> Callable[[], None]:
    return lambda: pulumi.export("port", face.redirection("cache", app_id=APP).port)


@pytest.mark.parametrize("face", FACES, ids=[f.name for f in FACES])
@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_preview_refuses_the_settings_before_any_request(
    face: Face, mistake: str, make_stack: StackFactory, e2e_emulator: EmulatorProcess, tmp_path: Path
) -> None:
    changed, says = MISTAKES[mistake]
    settings = {"endpoint": e2e_emulator.url, "token": TOKEN, "secret": SECRET, **changed}
    ns = "clevercloud-tcp:"  # read by both faces
    config = {ns + k: v for k, v in settings.items() if v is not None and k not in ("token", "secret")}
    secrets = {ns + k: v for k, v in settings.items() if v is not None and k in ("token", "secret")}
    home = no_profile(tmp_path)
    stack = make_stack(program(face), config=config, secrets=secrets, env=home)

    with pytest.raises(auto.errors.CommandError) as refused:
        stack.preview(color="never", on_output=quiet)
    message = first_error(refused.value)
    assert says in message, message
    assert "Traceback" not in str(refused.value)
    assert e2e_emulator.log() == [], "a request went out before the settings were refused"


def test_refresh_says_it_uses_the_settings_of_the_last_up(make_stack: StackFactory, e2e_emulator: EmulatorProcess, tmp_path: Path) -> None:
    home = no_profile(tmp_path)
    with_env = {**home, "CLEVER_TOKEN": TOKEN, "CLEVER_SECRET": SECRET}
    stack = make_stack(program(PLUGIN), config={"clevercloud-tcp:endpoint": e2e_emulator.url}, secrets={}, env=with_env)
    stack.up(color="never", on_output=quiet)

    # The credentials move from the environment to stack config; the engine's refresh still configures
    # the provider with what the last `up` saved, which had none.
    moved = make_stack(program(PLUGIN), config={"clevercloud-tcp:endpoint": e2e_emulator.url},
                       secrets={"clevercloud-tcp:token": TOKEN, "clevercloud-tcp:secret": SECRET}, env=home)  # fmt: skip
    with pytest.raises(auto.errors.CommandError) as refused:
        moved.refresh(color="never", on_output=quiet)
    assert "`pulumi refresh` and `pulumi destroy` use the settings saved by the last `pulumi up`" in first_error(refused.value)
    moved.up(color="never", on_output=quiet)  # saves the new settings
    moved.refresh(color="never", on_output=quiet)
    moved.destroy(color="never", on_output=quiet)
