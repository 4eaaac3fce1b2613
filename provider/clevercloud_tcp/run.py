"""Runs a Pulumi program in Python with the real engine on this machine, with no Pulumi account and
no language host: `python -m clevercloud_tcp.run PROGRAM {up,preview,refresh,destroy,recover}`.

PROGRAM is a Python file, or a folder with `__main__.py` (a Pulumi project folder); it runs as an
Automation API inline program, as `pulumi up` would run it, with the project name of its `Pulumi.yaml`.
The stack lives in a local file backend (`--backend-dir`, `.pulumi-local` by default, private to the
user) with a passphrase secrets provider, and its config in a workspace of its project's own. Secrets
come from the environment or standard input, never the command line. `--emulator` runs it against a
local Clever Cloud API emulator instead of the real one.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import runpy
import shlex
import shutil
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TextIO

import yaml
from pulumi import automation as auto

from .config import ALLOW_HTTP_KEY, DYNAMIC_KEYS
from .emulator import missing_extra
from .runtime.local_stack import NO_PULUMI, PASSPHRASE, engine_env, find_pulumi, first_error, local_stack
from .runtime.recovery import RECOVER, StackSteps, recover

OPERATIONS = ("up", "preview", "refresh", "destroy", "recover")
# Pulumi's advice after a destroy, wrong for a backend the caller is about to delete.
STACK_RM_HINT = re.compile(r"history and configuration associated with the stack|run `pulumi stack rm ")
# Said by the SDK's inline program host on every failure, beside the real error: the engine ended
# the update. It says nothing of the cause, so it is not shown.
MONITOR_GONE = re.compile(r"error: Resource monitor has terminated, shutting down\s*$")


class UsageError(Exception):
    """A bad option or PROGRAM: one line for the user."""


def echo(line: str) -> None:
    """Prints one line of the engine's output as it comes."""
    if not MONITOR_GONE.search(line):
        print(line, end="" if line.endswith("\n") else "\n", flush=True)


def echo_without_stack_rm_hint(line: str) -> None:
    if not STACK_RM_HINT.search(line):
        echo(line)


def shell_lines(
    cli_dir: Path,
    state_dir: Path,
    stack: str,
    passphrase: str | None,
    command: str = "stack output",
    work_dir: Path | None = None,
) -> list[str]:
    """Commands that reach the stack (its config in `work_dir`, the backend folder unless given) from
    another shell; `passphrase` None: the caller's own is used."""
    env = engine_env(cli_dir, state_dir)
    names = ["PULUMI_HOME", "PULUMI_BACKEND_URL", "PULUMI_SKIP_UPDATE_CHECK"]
    exports = [f"PATH={shlex.quote(str(cli_dir))}:$PATH"] + [f"{name}={shlex.quote(env[name])}" for name in names]
    if passphrase is not None:
        exports.append(f"PULUMI_CONFIG_PASSPHRASE={shlex.quote(passphrase)}")
    return [
        "export " + " ".join(exports),
        f"pulumi --cwd {shlex.quote(str(work_dir or state_dir))} {command} -s {shlex.quote(stack)}",
    ]


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SECRET_HELP = (
    "encrypted stack config: KEY alone reads the value from standard input (one line per --secret, in "
    "order; asked for without echo on a terminal), KEY=ENV_VAR from that environment variable. Never the "
    "value itself: every local user reads a command line"
)
PASSPHRASE_NEEDED = (
    "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): it encrypts this stack's secrets, "
    f"and the default one ({PASSPHRASE}) is public, for --emulator only; a stack an earlier release made "
    f"with it opens with PULUMI_CONFIG_PASSPHRASE={PASSPHRASE}, then `pulumi stack change-secrets-provider passphrase`"
)


def _secret_spec(text: str) -> tuple[str, str | None]:
    """KEY, or (KEY, ENV_VAR); the text after `=` is never shown (a user may have put a value there)."""
    key, sep, name = text.partition("=")
    if not key:
        raise argparse.ArgumentTypeError("expected KEY or KEY=ENV_VAR")
    if sep and not (ENV_NAME.fullmatch(name) and name in os.environ):
        raise argparse.ArgumentTypeError(
            f"{key}=…: after `=` comes the name of a set environment variable holding the value (none such "
            "is set); --secret never takes the value itself (it would be in the process list): use "
            f"--secret {key} and give the value on standard input"
        )
    return key, name if sep else None


def secret_values(specs: Sequence[tuple[str, str | None]], stdin: TextIO) -> dict[str, str]:
    """The value of each --secret: from its environment variable, else a line of standard input."""
    values: dict[str, str] = {}
    for key, env_name in specs:
        if env_name is not None:
            values[key] = os.environ[env_name]
        elif stdin.isatty():
            values[key] = getpass.getpass(f"{key}: ")
        else:
            line = stdin.readline()
            if not line:
                raise UsageError(f"--secret {key}: standard input ended before its value (one line per --secret)")
            values[key] = line.rstrip("\n")
    return values


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m clevercloud_tcp.run", description=__doc__)
    parser.add_argument("program", type=Path, metavar="PROGRAM", help="a Python file, or a folder with __main__.py")
    parser.add_argument("operation", choices=OPERATIONS)
    parser.add_argument("--stack", "-s", default="dev", help="stack name (default: dev)")
    parser.add_argument("--project", help="project name (default: `name` of PROGRAM's Pulumi.yaml, else its name)")
    parser.add_argument(
        "--backend-dir",
        type=Path,
        default=Path(".pulumi-local"),
        help="folder of the local backend, PULUMI_HOME and the emulator's state (default: ./.pulumi-local)",
    )
    parser.add_argument(
        "--config", "-c", type=_pair, action="append", default=[], metavar="KEY=VALUE", help="plain stack config"
    )
    parser.add_argument("--secret", type=_secret_spec, action="append", default=[], metavar="KEY[=ENV_VAR]", help=SECRET_HELP)
    parser.add_argument(
        "--unset", action="append", default=[], metavar="KEY", help="removes KEY from the stack config (a mistaken key)"
    )
    parser.add_argument(
        "--destroy",
        action="store_true",
        help="with recover: the interrupted command was destroy, which the recovery finishes (it creates nothing)",
    )
    parser.add_argument(
        "--skip-checkpoints",
        action="store_true",
        help="the engine writes the state at the end only, not after every step (large stacks: see "
        "docs/large-stacks.md); a crash then leaves what it made unrecorded, which `recover` takes back",
    )
    parser.add_argument(
        "--emulator",
        action="store_true",
        help="start a local API emulator with the built-in fixture for this run and point the stack at it",
    )
    return parser.parse_args(argv)


def load_program(path: Path) -> tuple[Callable[[], None], Path]:
    """The inline program running PROGRAM as `__main__`, and the folder it runs in.

    The path is made absolute now, since `run` changes the working directory before the program runs,
    and the file is read and compiled now, so that a program that cannot load stops here, before any
    stack exists, rather than in the engine after the stack's first resource.
    """
    entry = (path / "__main__.py" if path.is_dir() else path).resolve()
    if not entry.is_file() or entry.suffix != ".py":
        raise UsageError(f"PROGRAM: {path} is neither a Python file nor a folder with __main__.py")
    try:
        compile(entry.read_bytes(), str(entry), "exec")
    except (OSError, SyntaxError, ValueError) as err:
        raise UsageError(f"PROGRAM: {entry} cannot be loaded: {err}") from None
    folder = entry.parent

    def program() -> None:
        if str(folder) not in sys.path:  # its own modules import as they do under `pulumi up`
            sys.path.insert(0, str(folder))
        runpy.run_path(str(entry), run_name="__main__")

    return program, folder


def project_name(program: Path, folder: Path) -> str:
    settings = folder / "Pulumi.yaml"
    if settings.is_file():
        try:
            name = (yaml.safe_load(settings.read_text()) or {}).get("name")
        except (yaml.YAMLError, AttributeError) as err:
            raise UsageError(f"{settings}: not a Pulumi.yaml with a `name` ({err}); give --project") from None
        if isinstance(name, str) and name:
            return name
    stem = program.resolve().stem if program.is_file() else folder.name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-") or "program"


@contextmanager
def _emulator(state_dir: Path, wanted: bool) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """Config and secrets that point the stack at a fresh emulator, or nothing."""
    if not wanted:
        yield {}, {}
        return
    from .emulator import DEFAULT_FIXTURE
    from .emulator.process import EmulatorProcess

    state, port_file = state_dir / "emulator.sqlite", state_dir / "emulator.port"
    state_dir.mkdir(parents=True, exist_ok=True)
    # The same port every time: destroy and refresh use the endpoint recorded by the last `up`.
    port = int(port_file.read_text()) if port_file.is_file() else 0
    with ExitStack() as running:
        try:
            emulator = running.enter_context(EmulatorProcess(state=state, port=port))
        except RuntimeError as err:
            kept = f" (port {port} is kept in {port_file} for this stack: free it, or delete that file)" if port else ""
            raise UsageError(f"--emulator: {err}{kept}") from None
        port_file.write_text(str(emulator.port))
        print(f"=== Clever Cloud API emulator on {emulator.url} (its state: {state})")
        for owner in [*DEFAULT_FIXTURE.users, *DEFAULT_FIXTURE.organisations]:
            for app in owner.applications:
                print(f"  app {app.id}  {app.name}  (owner {owner.id})")
        pair = DEFAULT_FIXTURE.users[0].oauth[0]
        # In both namespaces: the plugin reads its own only, the dynamic provider either.
        def in_both(settings: dict[str, str]) -> dict[str, str]:
            return {f"{ns}:{name}": value for ns in DYNAMIC_KEYS.namespaces for name, value in settings.items()}

        # Plain http to the emulator started here: opted into for this stack (its credentials are public).
        yield in_both({"endpoint": emulator.url}) | {ALLOW_HTTP_KEY: "true"}, in_both({"token": pair.token, "secret": pair.secret})


def up_or_nothing(stack: auto.Stack, show: Callable[[str], None]) -> None:
    """`up`; when it fails on a stack that held nothing and leaves only the stack's own resource (a
    program that raised before declaring anything), that resource goes too, so nothing is half-made."""
    before = stack.export_stack().deployment or {}
    try:
        stack.up(on_output=show, on_error=show)
    except auto.CommandError:
        after = (stack.export_stack().deployment or {}).get("resources") or []
        if not before.get("resources") and all(r.get("type") == "pulumi:pulumi:Stack" for r in after) and after:
            stack.destroy(on_output=lambda _: None)  # no provider is called: the stack resource is all there is
        raise


def private_folder(state_dir: Path) -> None:
    """The backend folder holds the state, the stack config and the emulator's: the user's alone."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = state_dir.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise UsageError(f"--backend-dir: {state_dir} is not a folder of yours; give one of your own")
    state_dir.chmod(0o700)  # one that an earlier release made with the default umask


def workspace_of(state_dir: Path, project: str, stack: str) -> Path:
    """The project's own workspace (its stack config) in the backend folder. The previous release kept one
    stack config for every project, in the backend folder itself: a project with this stack in the
    backend takes a copy of it, once."""
    work_dir = state_dir / "projects" / project
    shared = state_dir / f"Pulumi.{stack}.yaml"
    made = any((state_dir / "backend" / ".pulumi" / "stacks" / project).glob(f"{stack}.json*"))
    if shared.is_file() and made and not (work_dir / shared.name).exists():
        work_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(shared, work_dir / shared.name)
        print(f"  config: carried over from {shared}, where the previous release kept it for every project")
    return work_dir


def run(args: argparse.Namespace) -> None:
    if args.destroy and args.operation != "recover":
        raise UsageError("--destroy goes with recover: it says the interrupted command was a destroy")
    program, folder = load_program(args.program)
    project = args.project or project_name(args.program, folder)
    cli_dir = find_pulumi()
    if cli_dir is None:
        raise UsageError(NO_PULUMI)
    own_passphrase = os.environ.get("PULUMI_CONFIG_PASSPHRASE")
    if not own_passphrase and not args.emulator:
        raise UsageError(PASSPHRASE_NEEDED)
    if args.emulator and (missing := missing_extra()):  # said before the backend folder is made, so none is left empty
        raise UsageError(f"--emulator: {missing}")
    secrets = secret_values(args.secret, sys.stdin)
    passphrase = own_passphrase or PASSPHRASE
    os.umask(0o077)  # what the engine, the CLI and the emulator write here is the user's alone
    state_dir = args.backend_dir.resolve()
    private_folder(state_dir)
    print(f"=== stack {args.stack} of project {project}, backend folder {state_dir}")
    default = f"{PASSPHRASE} (the default, for --emulator only; set PULUMI_CONFIG_PASSPHRASE for another)"
    print(f"  passphrase: {'PULUMI_CONFIG_PASSPHRASE, as set' if own_passphrase else default}")
    work_dir = workspace_of(state_dir, project, args.stack)
    done = False
    try:
        with _emulator(state_dir, args.emulator) as (emulator_config, emulator_secrets):
            os.chdir(folder)  # programs read their files relative to their folder, as under `pulumi up`

            def make_stack() -> auto.Stack:
                stack = local_stack(
                    program,
                    cli_dir=cli_dir,
                    state_dir=state_dir,
                    work_dir=work_dir,
                    project=project,
                    stack=args.stack,
                    config={**emulator_config, **dict(args.config)},
                    secrets={**emulator_secrets, **secrets},
                    env={"PULUMI_CONFIG_PASSPHRASE": passphrase, **({RECOVER: "true"} if args.operation == "recover" else {})},
                    skip_checkpoints=args.skip_checkpoints,
                )
                if args.unset:
                    stack.remove_all_config(list(args.unset))
                return stack

            # Pulumi's own `pulumi stack rm` advice lacks the backend: the lines printed below have it.
            show = echo_without_stack_rm_hint if args.operation == "destroy" or args.destroy else echo
            try:
                if args.operation == "recover":
                    backend = engine_env(cli_dir, state_dir)["PULUMI_BACKEND_URL"]
                    recover(backend, StackSteps(make_stack, on_output=show, on_error=show), destroy=args.destroy)
                elif args.operation == "up":
                    up_or_nothing(make_stack(), show)
                else:
                    getattr(make_stack(), args.operation)(on_output=show, on_error=show)
            except auto.CommandError as err:
                raise UsageError(f"pulumi {args.operation} failed: {first_error(err)}") from None
            if args.emulator and (args.operation == "up" or (args.operation == "recover" and not args.destroy)):
                kept = state_dir / "emulator.sqlite"
                print(f"The emulator stops now; what it holds stays in {kept} (its --state), so a later")
                print(f"`python -m clevercloud_tcp.run {args.program} destroy --emulator` with the same --backend-dir")
                print("deletes these redirections.")
            done = True
    finally:  # after a failure too: the stack is there to look at
        destroyed = done and (args.operation == "destroy" or args.destroy)
        print("=== to forget the stack's history and config too:" if destroyed else "=== to reach the stack from a shell:")
        shown = None if own_passphrase else passphrase
        command = "stack rm" if destroyed else "stack output"
        for line in shell_lines(cli_dir, state_dir, args.stack, shown, command, work_dir):
            print(f"  {line}")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except UsageError as err:
        sys.exit(f"clevercloud_tcp.run: {err}")
    except auto.CommandError as err:  # a config or stack command before the operation
        sys.exit(f"clevercloud_tcp.run: {first_error(err)}")
    except KeyboardInterrupt:
        sys.exit("clevercloud_tcp.run: interrupted")


if __name__ == "__main__":
    main()
