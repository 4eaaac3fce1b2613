"""Runs examples/python with the real engine against the local API emulator (see scripts/demo)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "python"))

from redirections import program  # noqa: E402

from clevercloud_tcp.emulator import DEFAULT_FIXTURE, EmulatorProcess  # noqa: E402
from clevercloud_tcp.local_stack import local_stack  # noqa: E402

APP_ID = DEFAULT_FIXTURE.organisations[0].applications[1].id  # "mqtt-broker": two custom domains
TOKEN, SECRET = DEFAULT_FIXTURE.users[0].oauth[0].token, DEFAULT_FIXTURE.users[0].oauth[0].secret


def banner(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pulumi", type=Path, required=True, help="directory of the pulumi CLI")
    parser.add_argument("--keep", action="store_true", help="keep the stack and the emulator until Ctrl-C")
    parser.add_argument("--port", type=int, default=0, help="emulator port (default: any free one)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="clevercloud-tcp-demo-") as work, EmulatorProcess(
        state=Path(work) / "emulator.sqlite", port=args.port
    ) as emulator:
        banner(f"Clever Cloud API emulator listening on {emulator.url}")
        stack = local_stack(
            program,
            cli_dir=args.pulumi,
            state_dir=Path(work) / "pulumi",
            config={"clevercloud-tcp-example:appId": APP_ID, "clevercloud:endpoint": emulator.url},
            secrets={"clevercloud:token": TOKEN, "clevercloud:secret": SECRET},
        )
        banner("pulumi up")
        result = stack.up(on_output=lambda line: print(line, end="" if line.endswith("\n") else "\n", flush=True))
        banner("stack outputs")
        for key, output in sorted(result.outputs.items()):
            print(f"  {key:16} {output.value}")
        banner("what the emulator holds (GET /_emulator/redirections)")
        print(json.dumps(emulator.redirections(), indent=2))
        if args.keep:
            banner("still running; in another terminal, try:")
            print(f"  export API_HOST={emulator.url} CLEVER_TOKEN={TOKEN} CLEVER_SECRET={SECRET}")
            print(f"  npx clever-tools tcp-redirs --app {APP_ID} --no-update-notifier")
            print(f"  curl -s {emulator.url}/_emulator/redirections")
            print("Ctrl-C destroys the stack and stops the emulator.", flush=True)
            try:
                while True:
                    input()
            except (KeyboardInterrupt, EOFError):
                pass
        banner("pulumi destroy")
        stack.destroy(on_output=lambda line: print(line, end="" if line.endswith("\n") else "\n", flush=True))
        print(f"emulator holds {len(emulator.redirections())} redirection(s) after destroy")


if __name__ == "__main__":
    main()
