"""`monitor trends`: each entry's last days as a sparkline, today's count, its usual range and
a mark for a spike; or one JSON object per entry.  Reads only the daily counts."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from monitor.display import json_line, safe
from monitor.errors import UsageError
from monitor.trendview import sparkline

if TYPE_CHECKING:
    from monitor.trendreport import EntryTrend

MAX_DAYS = 365


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{value!r}: a number of days from 1 to {MAX_DAYS}")
    return days


def cmd_trends(args: argparse.Namespace) -> int:
    # Imported here, not the pipeline's modules: the command starts in a fraction of the
    # time the others take (cli/main.py builds only this command's parser for it).
    from monitor.config import load_config
    from monitor.store import Store
    from monitor.trendreport import trends

    config = load_config(args.config)
    if args.recount:
        return _recount(config.database, config.trends.timezone)
    entry = args.entry or args.rule
    store = Store(config.database, readonly=True)
    try:
        store.trends.use(config.trends.timezone)
        found = trends(store, config.trends, datetime.now(UTC), args.days,
                       watchlist=args.watchlist, entry=entry,
                       kind="rule" if args.rule else None)
    finally:
        store.close()
    if not found and (entry or args.watchlist):
        what = (f"rule {args.rule}" if args.rule else f"entry {args.entry}" if args.entry
                else f"watchlist {args.watchlist}")
        raise UsageError(f"{safe(what)}: nothing counted (counts start when hits are stored; "
                         "check the id with `monitor hits`)")
    if args.json:
        for trend in found:
            print(json_line(trend.as_json()))
    else:
        print_table(found)
    return 0


def _recount(database: str, timezone: str) -> int:
    from monitor.store import Store
    from monitor.store.trends import recount

    store = Store(database)
    try:
        moved = recount(store, timezone)
    finally:
        store.close()
    print(f"counts now on the days of {timezone}: {moved} articles and events moved")
    return 0


def print_table(found: list[EntryTrend]) -> None:
    """One row per entry: name, sparkline of events a day, today, usual range, spike mark."""
    if not found:
        print("No entry counted yet: counts start when hits are stored.")
        return
    top = max((max(t.counts.events[-len(t.days):]) for t in found), default=0)
    names = [safe(f"{t.counts.name} ({t.counts.watchlist}/{t.counts.entry})") for t in found]
    width = min(max(len(n) for n in names), 48)
    days = len(found[0].days)
    print(f"{'ENTRY':<{width}}  {f'EVENTS, LAST {days} DAYS':<{days}}  TODAY  USUAL")
    for name, trend in zip(names, found, strict=True):
        line = sparkline([d.count for d in trend.days], top=top or None)
        usual = trend.usual
        cells: list[Any] = [f"{name[:width]:<{width}}", line, f"{trend.today.count:>5}",
                            f"{usual[0]}-{usual[1]}" if usual else "-"]
        if trend.today.spike:
            cells.append(f"^ spike (score {trend.today.score:.1f})")
        print("  ".join(str(c) for c in cells).rstrip())


def add_trends_commands(commands: Any) -> None:
    t = commands.add_parser(
        "trends", help="entries' daily events: sparkline, today, usual range, spikes",
        description="Events (one per happening, across outlets) a day per watchlist entry, by "
        "publication date in trends.timezone; a spike is a day far above the entry's usual "
        "days of the same kind (weekday or weekend), with at least "
        "alerts.spikes.min_events events.")
    t.add_argument("--watchlist", "-w", metavar="W", help="only this watchlist's entries")
    which = t.add_mutually_exclusive_group()
    which.add_argument("--entry", metavar="ID", help="only this entry")
    which.add_argument("--rule", metavar="ID", help="only this rule")
    t.add_argument("--days", type=_days, default=30, metavar="N",
                   help="days shown, today included (default 30)")
    t.add_argument("--json", action="store_true", help="one JSON object per entry")
    t.add_argument("--recount", action="store_true",
                   help="after trends.timezone changed: put every count on its day there")
    t.set_defaults(func=cmd_trends)
