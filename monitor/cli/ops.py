"""`monitor run`, `monitor health`, `monitor status`: running the daemon and looking at it."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from monitor.cli.core import _config, _opened
from monitor.config import parse_duration
from monitor.display import json_line, safe
from monitor.errors import UsageError
from monitor.health import probe
from monitor.store import queries
from monitor.watchlist import load_watchlists


def cmd_run(args: argparse.Namespace) -> int:
    from monitor import logs, scheduler

    fmt = args.log_format or os.environ.get("MONITOR_LOG_FORMAT", "text")
    if fmt not in ("text", "json"):
        raise UsageError(f"MONITOR_LOG_FORMAT={fmt!r}: text or json")
    raw_grace = args.grace or os.environ.get("MONITOR_GRACE") or f"{scheduler.GRACE:g}s"
    grace = parse_duration(raw_grace)
    if grace is None:
        raise UsageError(f"--grace {raw_grace!r}: a duration (20s, 1m)")
    logs.setup(fmt)
    config = _config(args)
    watchlists = load_watchlists(config.watchlists)
    with _opened(config) as store:
        if args.once:
            summary = scheduler.Daemon(config, store, watchlists).once()
            print(summary.line())
            return 1 if summary.feeds_polled and summary.failed == summary.feeds_polled else 0
        return scheduler.run(config, store, watchlists, grace)


def cmd_health(args: argparse.Namespace) -> int:
    url = args.url or _config(args).server.healthz
    ok, said = probe(url, args.timeout)
    print(said.strip())
    return 0 if ok else 1


def cmd_status(args: argparse.Namespace) -> int:
    with _opened(_config(args), readonly=True) as store:
        data = queries.overview(store).as_json()
    if args.json:
        print(json_line(data))
        return 0
    feeds, queue = data["feeds"], data["deliveries"]
    print(f"feeds: {feeds['ok']} ok, {feeds['failing']} failing, {feeds['disabled']} disabled"
          + (f", {feeds['paused']} paused" if feeds["paused"] else "")
          + f"; last poll {data['last_poll'] or 'never'}")
    print(f"deliveries: {queue['pending']} pending, {queue['sent']} sent, "
          f"{queue['failed']} failed")
    print("stored: " + ", ".join(f"{n} {table}" for table, n in data["counts"].items()))
    for problem in data["problems"]:
        print(safe(f"  {problem['feed']}: {problem['errors']} errors, "
                   f"last: {problem['last_error']}"), file=sys.stdout)
    return 0


def add_ops_commands(commands: Any) -> None:
    r = commands.add_parser("run", help="the daemon: poll, digests, alerts, retries")
    r.add_argument("--once", action="store_true",
                   help="one cycle of everything (poll, digests due, deliveries), then exit")
    r.add_argument("--log-format", choices=("text", "json"),
                   help="log lines (default: text, or $MONITOR_LOG_FORMAT)")
    r.add_argument("--grace", metavar="DURATION",
                   help="after SIGTERM, how long in-flight work may finish before it is "
                   "cancelled (default: 20s, or $MONITOR_GRACE)")
    r.set_defaults(func=cmd_run)
    h = commands.add_parser("health", help="ask the running daemon's /healthz; exit 0 or 1")
    h.add_argument("--url", help="default: from the config's server: section")
    h.add_argument("--timeout", type=float, default=5.0)
    h.set_defaults(func=cmd_health)
    s = commands.add_parser("status", help="feeds, last poll, deliveries, counts")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_status)
