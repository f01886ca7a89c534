"""`monitor events`: the stored events, best first, and why a story is in one (--explain)."""

from __future__ import annotations

import argparse
from typing import Any

from monitor.cli.core import _check_names, _config, _opened, parse_since
from monitor.display import json_line, safe
from monitor.errors import UsageError
from monitor.ingest import utc_now
from monitor.store.events import event_rows, explain


def cmd_events(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.limit < 1:
        raise UsageError(f"--limit {args.limit}: at least 1")
    since, until = parse_since(args.since), parse_since(args.until, "--until")
    if since and until and since >= until:
        raise UsageError(f"--since {args.since} is not before --until {args.until}")
    with _opened(config, readonly=True) as store:
        if args.explain is not None:
            found = explain(store, args.explain, store.events)
            if found is None:
                raise UsageError(f"--explain {args.explain}: no such event (`monitor events` "
                                 "lists them)")
            _print_explained(found, args.json)
            return 0
        _check_names(config, store, args.watchlist, args.entry)
        rows = event_rows(store, store.events, utc_now(), since=since, until=until,
                          watchlist=args.watchlist, entry=args.entry, limit=args.limit)
    for row in rows:
        print(json_line(row) if args.json else _text(row))
    if not rows and not args.json:
        print("no events")
    return 0


def _text(row: dict[str, Any]) -> str:
    when = (row["published"] or "")[:10]
    old = "" if row["news"] else f"  [not news: published {when}]"
    lines = [f"event {row['event_id']}  score {row['score']:g}  {when}  "
             f"{row['title'] or '(untitled)'}  ({row['articles']} articles){old}"]
    if row["summary"]:
        lines.append(f"    {row['summary']}")
    for outlet in row["outlets"]:
        lines.append(f"    - {outlet['feed']}: {outlet['title'] or '(untitled)'}  "
                     f"{(outlet['published'] or '')[:16]}  {outlet['url']}")
    if row["entries"]:
        lines.append("    entries: " + ", ".join(
            f"{e['name']} ({e['kind']}, {e['mentions']})" for e in row["entries"]))
    return safe("\n".join(lines))


def _print_explained(found: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json_line(found))
        return
    head = f"event {found['event_id']}"
    if found["asked"] != found["event_id"]:
        head = f"event {found['asked']} was merged into {head}"
    out = [f"{head}: {len(found['stories'])} stories; two stories are one event when "
           f"{found['rule']} ({found['window_hours']:g} h)"]
    for story in found["stories"]:
        out.append(f"  story {story['story_id']} ({story['feed']}, {story['language'] or '?'}, "
                   f"{(story['published'] or '')[:16]}): {story['title'] or '(untitled)'}")
        out.append(f"      strongest terms: {' '.join(story['terms'])}")
    for link in found["links"]:
        a, b = link["stories"]
        terms = ", ".join(f"{t} {w:g}" for t, w in link["shared"])
        out.append(f"  story {a} ~ story {b}: similarity {link['similarity']:g} ({terms})")
    if len(found["stories"]) > 1 and not found["links"]:
        out.append("  (the stories were linked through stories no longer stored)")
    print(safe("\n".join(out)))


def add_events_commands(commands: Any) -> None:
    events = commands.add_parser(
        "events", help="events: stories of one happening across outlets, best first",
        description="Each event once, ranked by its score (outlets, priority, prominence, "
        "recency), with every outlet's own headline and the entries it names.  --since and "
        "--until are on its publication date.")
    events.add_argument("--since", help="published from: date, ISO date-time or age (7d)")
    events.add_argument("--until", help="published before: date, ISO date-time or age")
    events.add_argument("--watchlist", help="only events naming an entry of this watchlist")
    events.add_argument("--entry", help="only events naming this entry (its id)")
    events.add_argument("--limit", type=int, default=50, metavar="N",
                        help="at most N events (default 50)")
    events.add_argument("--json", action="store_true", help="one JSON object per event")
    events.add_argument("--explain", type=int, metavar="ID",
                        help="why the stories of event ID are one event")
    events.set_defaults(func=cmd_events)
