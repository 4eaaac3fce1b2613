"""`python -m clevercloud_tcp.emulator`: a local Clever Cloud API over real HTTP.

The first line on stdout is `listening on http://HOST:PORT`, flushed, so scripts can read the URL.
A bad option, a busy port or an unusable fixture or state file: one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import socket
import sqlite3
import sys
from pathlib import Path
from typing import NoReturn

from . import missing_extra
from .fixture import DEFAULT_FIXTURE, Fixture, FixtureError

PROG = "python -m clevercloud_tcp.emulator"


class _QuietDrops(logging.Filter):
    """Injected connection drops are intended; keep them out of the server's error log."""

    def __init__(self, dropped: type[BaseException]) -> None:
        super().__init__()
        self.dropped = dropped

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], self.dropped))


class _OneLineParser(argparse.ArgumentParser):
    """A bad option is one line too, not argparse's usage block."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (--help lists the options)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _OneLineParser(prog=PROG, description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback (its credentials are public and /_emulator/ has no auth)",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument("--state", type=Path, help="SQLite file that keeps redirections across restarts")
    parser.add_argument("--fixture", type=Path, help="JSON file of users, organisations, apps and namespaces")
    parser.add_argument("--seed", type=int, help="seed of the port picker, for reproducible runs")
    parser.add_argument("--print-fixture", action="store_true", help="print the built-in fixture as JSON and exit")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    answers = parser.add_argument_group("answers", "where the real API may answer either way (overrides the fixture's `answers`)")
    answers.add_argument(
        "--empty-list", type=int, choices=[200, 404], help="an empty tcpRedirs or namespaces list: 200 [] (default) or 404"
    )
    answers.add_argument(
        "--delete-answer",
        choices=["message", "empty-json", "204"],
        help="a successful DELETE: 200 with a message (default), 200 {}, or 204 with no body",
    )
    answers.add_argument("--post-status", type=int, choices=[200, 201], help="a successful POST: 200 (default) or 201")
    return parser.parse_args(argv)


def fail(message: str) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def load_fixture(args: argparse.Namespace) -> Fixture:
    try:
        fixture = Fixture.load(args.fixture) if args.fixture else DEFAULT_FIXTURE
    except FixtureError as exc:
        fail(str(exc))
    given = {"empty_list": args.empty_list, "delete_answer": args.delete_answer, "post_status": args.post_status}
    overrides = {name: value for name, value in given.items() if value is not None}
    return fixture.model_copy(update={"answers": fixture.answers.model_copy(update=overrides)})


def listen(host: str, port: int) -> socket.socket:
    """A bound, listening socket, before anything is announced, so the printed URL accepts connections.

    The protocol is named (IPPROTO_TCP) because asyncio sets TCP_NODELAY only on sockets that say they
    are TCP: without it, Nagle's algorithm and delayed ACKs add about 40 ms to every answer.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except (OSError, OverflowError) as exc:
        sock.close()
        fail(f"--host {host} --port {port}: cannot listen there ({getattr(exc, 'strerror', None) or exc})")
    return sock


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.print_fixture:
        print(DEFAULT_FIXTURE.model_dump_json(indent=2))
        return
    if not is_loopback(args.host) and not args.allow_remote:
        fail(f"--host {args.host} is not a loopback address; add --allow-remote to listen there anyway")
    fixture = load_fixture(args)
    if missing := missing_extra():  # everything before works without the [emulator] extra
        fail(missing)
    import uvicorn

    from .app import DroppedConnection, build_app
    try:
        app = build_app(fixture, args.state, args.seed)
    except sqlite3.Error as exc:
        fail(f"--state {args.state}: {exc}")
    if not is_loopback(args.host):
        print(
            f"warning: --host {args.host} may be reachable from other machines: the emulator's credentials are "
            "public and /_emulator/ (reset, faults, the request log) has no authentication",
            file=sys.stderr,
            flush=True,
        )
    sock = listen(args.host, args.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"listening on http://{shown}:{port}", flush=True)
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops(DroppedConnection))
    config = uvicorn.Config(app, log_level=args.log_level, access_log=False, timeout_graceful_shutdown=1)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
