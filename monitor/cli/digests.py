"""`monitor digest preview|send` and `monitor digests list`; cli/main.py wires them in."""

from __future__ import annotations

import argparse
import sys
from typing import Any
from zoneinfo import ZoneInfo

from monitor import deliver as outbox
from monitor.cli.core import _config, _opened, parse_since, write_output
from monitor.config import Config
from monitor.config.delivery import DigestConfig
from monitor.digest import Digest, cron_trigger, fire_after
from monitor.digesttrends import with_trends
from monitor.display import json_line, safe, shown
from monitor.errors import UsageError, did_you_mean
from monitor.ingest import utc_now
from monitor.render import Renderer
from monitor.store import Store
from monitor.store import digests as db
from monitor.store.queries import iso


def _digest(config: Config, name: str | None) -> DigestConfig:
    if not config.digests:
        raise UsageError("no digests are configured (digests: in monitor.yaml)")
    if name is None:
        return config.digests[0]
    found = config.digest(name)
    if found is None:
        names = [d.name for d in config.digests]
        raise UsageError(f"no digest {name!r}{did_you_mean(name, names)} "
                         f"(configured: {', '.join(names)})")
    return found


def _overview(built: Digest) -> str:
    lines = [built.subject, f"window: {built.local(built.window_start)} – "
             f"{built.local(built.window_end)}"]
    for entry in built.entries:
        lines.append(f"  {entry.watchlist}/{entry.entry}  {entry.name}: "
                     f"{len(entry.stories)} stories")
    lines += [f"  health: {n.feed}: {n.problem}" for n in built.health]
    return "\n".join(safe(line) for line in lines)


def cmd_digest_preview(args: argparse.Namespace) -> int:
    config = _config(args)
    digest = _digest(config, args.name)
    since = parse_since(args.since)
    with _opened(config, readonly=True) as store:
        now = utc_now()
        start = since or outbox.window_start(store, digest.name,
                                             outbox.start_anchor(digest, now))
        if start >= now:
            raise UsageError(f"--since {args.since} is not in the past")
        built = with_trends(store, config, digest,
                            outbox.compose(store, digest, (start, now), start))
    rendered = Renderer(config.templates).render(built, outbox.domain(config))
    if args.html:
        write_output(args.html, rendered.html)
        print(f"wrote {args.html}", file=sys.stderr)
    if args.text:
        sys.stdout.write(rendered.text)
    elif not args.html:
        print(_overview(built))
    return 0


def cmd_digest_send(args: argparse.Namespace) -> int:
    config = _config(args)
    digest = _digest(config, args.name)
    renderer = Renderer(config.templates)
    with _opened(config) as store:
        now = utc_now()
        outbox.ensure_schedules(store, config, now)
        if args.now:
            start = outbox.window_start(store, digest.name, now)
            window = (start, now) if start < now else None
        else:
            window = outbox.due(store, digest, now)
        if window is None:
            trigger = cron_trigger(digest.schedule, ZoneInfo(digest.timezone))
            start = outbox.window_start(store, digest.name, now)
            print(f"{digest.name}: nothing due; the current window closes at "
                  f"{_local(fire_after(trigger, start), digest.timezone)} "
                  "(--now sends it early)")
        else:
            made = outbox.make_digest(store, config, renderer, digest, window, now)
            if made.run_id is None:
                print(f"{digest.name}: another process is sending this window")
            else:
                print(f"{digest.name}: {made.digest.subject} "
                      f"({len(made.digest.hit_ids)} hits; {made.deliveries} deliveries)")
        report = outbox.deliver(store, config, now)
    for error in report.errors:
        print(f"  {shown(error)}", file=sys.stderr)
    if report.retrying or report.failed:
        print(f"{report.sent} sent, {report.retrying} queued for retry, {report.failed} failed "
              "(monitor digests list)", file=sys.stderr)
        return 1
    return 0


def _local(moment: Any, timezone: str) -> str:
    if moment is None:
        return "never"
    return str(moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z"))


def status(deliveries: list[dict[str, Any]]) -> str:
    states = {d["status"] for d in deliveries}
    if not deliveries:
        return "empty"
    if "pending" in states:
        return "retrying" if any(d["attempts"] for d in deliveries) else "pending"
    if "failed" in states:
        return "partly failed" if "sent" in states else "failed"
    return "sent"


def history(store: Store, limit: int = 50, before: int | None = None) -> list[dict[str, Any]]:
    """The latest runs, newest first, with their deliveries (the stable JSON of the list);
    ``before``: the runs older than this run id (the web's next page)."""
    runs = db.runs(store, limit, before)
    by_run: dict[int, list[dict[str, Any]]] = {}
    for d in db.deliveries_of(store, [r.id for r in runs]):
        by_run.setdefault(d.run_id, []).append({
            "delivery_id": d.id, "channel": d.channel, "status": d.status, "attempts": d.attempts,
            "last_error": d.last_error, "sent": iso(d.sent),
            "next_attempt": iso(d.next_attempt) if d.status == "pending" else None})
    return [{
        "run_id": r.id, "digest": "alerts" if r.name == outbox.ALERTS else r.name,
        "kind": r.kind, "window_start": iso(r.window_start), "window_end": iso(r.window_end),
        "created": iso(r.created), "subject": r.subject, "stories": r.story_count,
        "hits": r.hit_count, "message_id": r.message_id,
        "status": status(by_run.get(r.id, [])), "deliveries": by_run.get(r.id, []),
    } for r in runs]


def cmd_digests_list(args: argparse.Namespace) -> int:
    with _opened(_config(args), readonly=True) as store:
        rows = history(store, args.limit)
    if args.json:
        for row in rows:
            print(json_line(row))
        return 0
    if not rows:
        print("no digests yet: `monitor digest preview` shows the next one")
    for row in rows:
        print(safe(f"{row['run_id']:>5}  {row['created']}  {row['digest']:<12} "
                   f"{row['status']:<13} {row['stories']} stories, {row['hits']} hits  "
                   f"{row['subject']}"))
        for d in row["deliveries"]:
            extra = f"  {d['last_error']}" if d["last_error"] else ""
            print(shown(f"       {d['status']:<8} {d['attempts']} attempts  "
                        f"{d['channel']}{extra}"))
    return 0


def add_digest_commands(commands: Any) -> None:
    digest = commands.add_parser("digest", help="preview or send a digest")
    actions = digest.add_subparsers(dest="digest_command", metavar="ACTION", required=True)
    preview = actions.add_parser("preview", help="render the next digest; send nothing")
    preview.add_argument("name", nargs="?", help="digest name (default: the first)")
    preview.add_argument("--since", help="start of the window (date, ISO time or age)")
    preview.add_argument("--html", metavar="FILE", help="write the HTML version here")
    preview.add_argument("--text", action="store_true", help="print the plain-text version")
    preview.set_defaults(func=cmd_digest_preview)
    send = actions.add_parser("send", help="send the due window (and retry pending ones)")
    send.add_argument("name")
    send.add_argument("--now", action="store_true",
                      help="send the current window now, without waiting for its end")
    send.set_defaults(func=cmd_digest_send)

    digests = commands.add_parser("digests", help="digest and alert history")
    lactions = digests.add_subparsers(dest="digests_command", metavar="ACTION", required=True)
    listing = lactions.add_parser("list", help="runs with status, recipients, attempts, errors")
    listing.add_argument("--json", action="store_true", help="one JSON object per run")
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=cmd_digests_list)
