"""A preview after `up` of an unchanged program shows no change at all, stack outputs included, with both
faces from a Python program: also for an application without a domain, whose `url` is empty."""

from __future__ import annotations

import pulumi
import pytest

from clevercloud_tcp.emulator.process import EmulatorProcess
from faces import FACES, Face
from support import GAME_APP, SECRET, TOKEN, StackFactory, quiet


@pytest.mark.parametrize("face", FACES, ids=[f.name for f in FACES])
def test_a_preview_after_up_shows_no_change_for_an_app_without_a_domain(
    face: Face, make_stack: StackFactory, e2e_emulator: EmulatorProcess
) -> None:
    def program() -> None:
        game = face.redirection("game", app_id=GAME_APP)
        pulumi.export("port", game.port)
        pulumi.export("url", game.url)

    ns = "clevercloud-tcp:"  # read by both faces
    stack = make_stack(program, config={ns + "endpoint": e2e_emulator.url}, secrets={ns + "token": TOKEN, ns + "secret": SECRET})
    up = stack.up(color="never", on_output=quiet)
    assert up.outputs["url"].value == ""  # no host: nothing to build an address from

    preview = stack.preview(color="never", diff=True, on_output=quiet)
    assert {op for op, n in preview.change_summary.items() if n} == {"same"}
    assert "[unknown]" not in preview.stdout and "url" not in preview.stdout, preview.stdout
