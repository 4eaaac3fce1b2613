"""`python -m clevercloud_tcp.emulator`: a local Clever Cloud API over real HTTP.

The first line on stdout is `listening on http://HOST:PORT`, flushed, so scripts can read the URL.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
from pathlib import Path

import uvicorn

from .app import DroppedConnection, build_app
from .fixture import DEFAULT_FIXTURE, Fixture


class _QuietDrops(logging.Filter):
    """Injected connection drops are intended; keep them out of the server's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m clevercloud_tcp.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument("--state", type=Path, help="SQLite file that keeps redirections across restarts")
    parser.add_argument("--fixture", type=Path, help="JSON file of users, organisations, apps and namespaces")
    parser.add_argument("--seed", type=int, help="seed of the port picker, for reproducible runs")
    parser.add_argument("--print-fixture", action="store_true", help="print the built-in fixture as JSON and exit")
    parser.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.print_fixture:
        print(DEFAULT_FIXTURE.model_dump_json(indent=2))
        return
    fixture = Fixture.load(args.fixture) if args.fixture else DEFAULT_FIXTURE
    app = build_app(fixture, args.state, args.seed)
    # Bind before announcing, so the printed URL already accepts connections. The protocol is named
    # (IPPROTO_TCP) because asyncio sets TCP_NODELAY only on sockets that say they are TCP: without
    # it, Nagle's algorithm and delayed ACKs add about 40 ms to every answer.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"listening on http://{shown}:{port}", flush=True)
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    config = uvicorn.Config(app, log_level=args.log_level, access_log=False, timeout_graceful_shutdown=1)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
