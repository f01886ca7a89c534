"""`monitor web` (the interface alone, over a database a daemon elsewhere fills) and
`monitor web hash-password` (a hash for web.auth.users)."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import threading
from datetime import timedelta
from typing import Any

from monitor.cli.core import _config, _opened
from monitor.errors import UsageError
from monitor.health import Health, Metrics
from monitor.ingest import utc_now

log = logging.getLogger("monitor")


def cmd_web(args: argparse.Namespace) -> int:
    from monitor import logs
    from monitor.web.serve import serve

    fmt = os.environ.get("MONITOR_LOG_FORMAT", "text")
    if fmt not in ("text", "json"):
        raise UsageError(f"MONITOR_LOG_FORMAT={fmt!r}: text or json")
    logs.setup(fmt)  # quiets the store's migration logger too
    config = _config(args)
    host = args.host or config.server.host
    port = config.server.port if args.port is None else args.port
    if not config.web.enabled:
        raise UsageError("web: enabled is false in the configuration: nothing to serve")
    stop = threading.Event()
    with _opened(config) as store:
        health = Health(store, utc_now, timedelta(0), utc_now(), polls=False)
        server = serve(config, store, health, Metrics(store), host, port)
        previous = {s: signal.signal(s, lambda *_: stop.set())
                    for s in (signal.SIGTERM, signal.SIGINT)}
        log.info("web interface on http://%s:%d/", host, server.port)
        try:
            while not stop.wait(1.0):
                pass
        finally:
            server.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    log.info("stopped")
    return 0


def cmd_hash_password(args: argparse.Namespace) -> int:
    from monitor.web.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise UsageError("a password of at least 8 characters, please")
    print(hash_password(password))
    return 0


def add_web_commands(commands: Any) -> None:
    web = commands.add_parser("web", help="the web interface alone (or: web hash-password)")
    web.add_argument("--host", help="address to listen on (default: server.host)")
    web.add_argument("--port", type=int, help="port (default: server.port)")
    web.set_defaults(func=cmd_web)
    sub = web.add_subparsers(dest="web_command", metavar="COMMAND")
    hashing = sub.add_parser("hash-password", help="print an argon2 hash of a password "
                             "(read from the terminal, or one line of stdin)")
    hashing.set_defaults(func=cmd_hash_password)
