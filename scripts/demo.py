"""Runs the examples of both faces with the real engine against the local API emulator (see scripts/demo).

examples/python-dynamic declares one application's redirections through the dynamic provider; examples/python
declares another's through the native plugin (`pulumi-resource-clevercloud-tcp`), with its generated SDK.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from clevercloud_tcp.emulator import DEFAULT_FIXTURE
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.faces.plugin.install import install
from clevercloud_tcp.run import echo, echo_without_stack_rm_hint, shell_lines
from clevercloud_tcp.runtime.local_stack import PASSPHRASE, local_stack
from clevercloud_tcp.testing import load_module

ROOT = Path(__file__).resolve().parents[1]

APP_ID = DEFAULT_FIXTURE.organisations[0].applications[1].id  # "mqtt-broker": two custom domains
PLUGIN_APP_ID = DEFAULT_FIXTURE.organisations[0].applications[0].id  # "redis-cache": one custom domain
TOKEN, SECRET = DEFAULT_FIXTURE.users[0].oauth[0].token, DEFAULT_FIXTURE.users[0].oauth[0].secret


def example_program(folder: str) -> Callable[[], None]:
    """`program` of examples/<folder>/redirections.py."""
    program: Callable[[], None] = load_module(f"{folder}_example", ROOT / "examples" / folder / "redirections.py").program
    return program


def banner(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def wait_for_signal() -> None:
    """Until Ctrl-C (SIGINT) or SIGTERM: works with no terminal on stdin too, unlike input()."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pulumi", type=Path, required=True, help="directory of the pulumi CLI")
    parser.add_argument("--keep", action="store_true", help="keep the stack and the emulator until Ctrl-C")
    parser.add_argument("--port", type=int, default=0, help="emulator port (default: any free one)")
    args = parser.parse_args()
    # Ctrl-C stops the demo however it was started: a process launched in the background (nohup, `cmd &`
    # in a script, some CI step runners) inherits SIGINT ignored, and Python then installs no handler.
    signal.signal(signal.SIGINT, _interrupt)

    with tempfile.TemporaryDirectory(prefix="clevercloud-tcp-demo-") as work, EmulatorProcess(
        state=Path(work) / "emulator.sqlite", port=args.port
    ) as emulator:
        banner(f"Clever Cloud API emulator listening on {emulator.url}")
        # The dynamic provider reads the clevercloud:* keys it shares with pulumi-clevercloud; the plugin
        # is handed its own namespace only, so its stack says clevercloud-tcp:*. The plugin goes where the
        # engine looks for it, that stack's PULUMI_HOME, as `pulumi plugin install` puts it for users;
        # plugins on PATH are ignored there.
        native_home = Path(work) / "pulumi-native" / "home"
        print(install(str(args.pulumi / "pulumi"), native_home), flush=True)
        stacks = {
            "dynamic provider (examples/python-dynamic)": local_stack(
                example_program("python-dynamic"),
                cli_dir=args.pulumi,
                state_dir=Path(work) / "pulumi",
                config={"clevercloud-tcp-example:appId": APP_ID, "clevercloud:endpoint": emulator.url, "clevercloud-tcp:allowHttp": "true"},
                secrets={"clevercloud:token": TOKEN, "clevercloud:secret": SECRET},
            ),
            "native plugin (examples/python)": local_stack(
                example_program("python"),
                cli_dir=args.pulumi,
                state_dir=Path(work) / "pulumi-native",
                project="clevercloud-tcp-python",
                config={"clevercloud-tcp-python:appId": PLUGIN_APP_ID, "clevercloud-tcp:endpoint": emulator.url, "clevercloud-tcp:allowHttp": "true"},
                secrets={"clevercloud-tcp:token": TOKEN, "clevercloud-tcp:secret": SECRET},
                env={"PULUMI_IGNORE_AMBIENT_PLUGINS": "true"},
            ),
        }
        for face, stack in stacks.items():
            banner(f"pulumi up, through the {face}")
            result = stack.up(on_output=echo)
            banner("stack outputs")
            for key, output in sorted(result.outputs.items()):
                print(f"  {key:16} {output.value}")
        banner("what the emulator holds (GET /_emulator/redirections)")
        print(json.dumps(emulator.redirections(), indent=2))
        if args.keep:
            clever = shlex.quote(str(ROOT / "scripts" / "install-clever-tools"))
            banner("still running; in another terminal, try:")
            print("  # the dynamic provider's stack, with the pulumi CLI")
            for line in shell_lines(args.pulumi, Path(work) / "pulumi", "dev", PASSPHRASE):
                print(f"  {line}")
            print("  # the emulator, with the official CLI (the pinned clever-tools, installed once by the script)")
            print(f"  export API_HOST={emulator.url} CLEVER_TOKEN={TOKEN} CLEVER_SECRET={SECRET}")
            print(f'  "$({clever})" tcp-redirs --app {APP_ID} --no-update-notifier')
            print(f"  curl -s {emulator.url}/_emulator/redirections")
            print(f"Ctrl-C (or kill -TERM {os.getpid()}) destroys the stack and stops the emulator.", flush=True)
            wait_for_signal()
        for face, stack in stacks.items():
            banner(f"pulumi destroy, through the {face}")
            stack.destroy(on_output=echo_without_stack_rm_hint)
            stack.workspace.remove_stack("dev")  # its folder goes next: nothing to keep a history for
        print(f"emulator holds {len(emulator.redirections())} redirection(s) after destroy", flush=True)


if __name__ == "__main__":
    main()
