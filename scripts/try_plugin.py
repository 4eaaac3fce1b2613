"""Tries an unpacked plugin executable as the engine runs it, against the emulator on 127.0.0.1:
`--version`, then check, create, read and delete over gRPC, each in a new plugin process.

    python scripts/try_plugin.py [--prefix 'COMMAND ...'] EXECUTABLE

`--prefix` runs the executable under another command: `chroot ROOT /usr/bin/env -i` (a Debian 11 root),
`docker run --rm -i --network host -v …:/plugin IMAGE` (a container sharing this network), `strace …`.
The release workflow runs it on every archive before publishing; the tests run it in a Debian 11 root.
Needs the package with its `emulator` extra. Exits 1 with one line saying what went wrong.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import grpc

from clevercloud_tcp.emulator import DEFAULT_FIXTURE
from clevercloud_tcp.emulator.process import EmulatorProcess
from clevercloud_tcp.testing.harness import StartupError
from clevercloud_tcp.testing.plugin_harness import PackagedPluginHost

ROOT = Path(__file__).resolve().parents[1]
APP = DEFAULT_FIXTURE.organisations[0].applications[0].id
OAUTH = DEFAULT_FIXTURE.users[0].oauth[0]


class TryError(Exception):
    """The plugin did not behave as the engine needs; the message says what it did instead."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise TryError(what)


def answers_version(command: Sequence[str], version: str) -> None:
    done = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120)
    said = done.stdout.strip()
    expect((done.returncode, said) == (0, version), f"`--version` exited {done.returncode} saying {said!r}, not {version}: {done.stderr.strip()[-2000:]}")


def serves_each_command(make: Callable[[int], PackagedPluginHost], emulator: EmulatorProcess) -> None:
    """check, create, read, delete, each in a new plugin process (`make(n)`, n = 1 to 4), as `pulumi up` and
    `pulumi destroy` run them; the emulator must hold the redirection after create and nothing after delete."""

    def held() -> list[tuple[str, str, int]]:
        return [(r["app_id"], r["namespace"], int(r["port"])) for r in emulator.redirections()]

    with make(1) as host:
        checked = host.check({"appId": APP, "namespace": "default"})
    expect(checked.failures == [] and checked.inputs.get("appId") == APP, f"check answered {checked}")
    with make(2) as host:
        id_, outputs = host.create(checked.inputs)
    expect(held() == [(APP, "default", int(outputs["port"]))], f"after create the API holds {held()}, not port {outputs.get('port')}")
    with make(3) as host:
        read_id, read_outputs, _ = host.read(id_, outputs)
    expect((read_id, read_outputs.get("port")) == (id_, outputs["port"]), f"read answered {read_id} {read_outputs}")
    with make(4) as host:
        host.delete(id_, outputs)
    expect(held() == [], f"after delete the API still holds {held()}")


def try_plugin(executable: str, prefix: Sequence[str] = (), version: str | None = None) -> None:
    answers_version([*prefix, executable], version or (ROOT / "VERSION").read_text().strip())
    with EmulatorProcess() as emulator:
        config = {"endpoint": emulator.url, "allowHttp": "true", "token": OAUTH.token, "secret": OAUTH.secret}
        serves_each_command(lambda _: PackagedPluginHost(executable, config, prefix), emulator)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="try_plugin", description=__doc__.splitlines()[0])
    parser.add_argument("executable", help="the plugin executable (as the prefix's command sees its path)")
    parser.add_argument("--prefix", default="", help="a command to run it under, split as a shell would")
    args = parser.parse_args(argv)
    try:
        try_plugin(args.executable, shlex.split(args.prefix))
    except (TryError, StartupError) as err:
        print(f"try_plugin: {args.executable}: {err}", file=sys.stderr)
        return 1
    except grpc.RpcError as err:
        print(f"try_plugin: {args.executable}: a request failed: {err.details()}", file=sys.stderr)
        return 1
    print(f"try_plugin: {args.executable} answered --version and served check, create, read and delete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
