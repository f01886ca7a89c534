"""The ingestion commands (poll, feeds, hits, articles, backfill, db); cli.py wires them to
argparse."""

from __future__ import annotations

import argparse
import csv
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from monitor import archive, backfill
from monitor.config import Config, check_url, load_config, parse_duration
from monitor.errors import UsageError, did_you_mean
from monitor.feeds import OpmlFeed, parse_opml, to_opml
from monitor.pipeline import Context, Summary, cycle, sync_feeds, utc_now
from monitor.progress import Progress
from monitor.queries import article_rows, feed_rows, hit_rows
from monitor.store import Store, make_engine, upgrade
from monitor.watchlist import Watchlist, load_watchlists


def _config(args: argparse.Namespace) -> Config:
    return load_config(getattr(args, "config", None))


@contextmanager
def _opened(config: Config) -> Iterator[Store]:
    """The configured store, migrated, closed when the command is done."""
    store = Store(config.database)
    try:
        yield store
    finally:
        store.close()


def parse_since(value: str | None, option: str = "--since") -> datetime | None:
    """A date (2026-11-25), a date and time (ISO 8601), or an age (24h, 7d)."""
    if value is None:
        return None
    age = parse_duration(value) if value[-1:].isalpha() else None
    if age is not None:
        return utc_now() - timedelta(seconds=age)
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), UTC)
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"{option} {value!r}: expected a date (2026-11-25), an ISO date and "
                         "time, or an age (24h, 7d)") from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    config = _config(args)
    engine = make_engine(config.database)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    print(f"database {config.database}: schema up to date")
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    if not args.once:
        raise UsageError("poll runs one cycle: use `monitor poll --once` "
                         "(`monitor run` is the daemon)")
    config = _config(args)
    watchlists = load_watchlists(config.watchlists)
    with _opened(config) as store:
        now = utc_now()
        sync_feeds(store, config.feeds, now)
        if args.feed or args.all:
            feed = store.feed(args.feed) if args.feed else None
            if args.feed and feed is None:
                raise UsageError(f"no feed {args.feed!r}: see `monitor feeds list`")
            feeds = [feed] if feed else [f for f in store.feeds() if f.state != "disabled"]
            summary = cycle(Context.create(config, store, watchlists), feeds)
        else:  # the due feeds, claimed like the daemon does (no replica polls them too)
            from monitor.scheduler import Daemon

            summary = Daemon(config, store, watchlists).poll()
    print(summary.line())
    return report_failures(summary)


def report_failures(summary: Summary) -> int:
    """Print each error once, with its feed, page or channel; 1 when every polled feed
    failed (cron sees it), else 0."""
    for error in summary.errors[:20]:
        print(f"  {error}", file=sys.stderr)
    if len(summary.errors) > 20:
        print(f"  ... and {len(summary.errors) - 20} more (monitor feeds list)", file=sys.stderr)
    for _channel, error in summary.delivery_errors:
        print(f"  delivery failed: {error}", file=sys.stderr)
    if summary.feeds_polled and summary.failed == summary.feeds_polled:
        print(f"monitor: every polled feed failed ({summary.failed})", file=sys.stderr)
        return 1
    return 0


def cmd_feeds_add(args: argparse.Namespace) -> int:
    problem = check_url(args.url)
    if problem:
        raise UsageError(f"feeds add: {problem}")
    interval = parse_duration(args.interval) if args.interval else None
    if args.interval and (interval is None or interval < 60):
        raise UsageError(f"--interval {args.interval!r}: a duration of at least 1m (15m, 1h)")
    with _opened(_config(args)) as store:
        feed, added = store.add_feed(args.url, utc_now(), name=args.name, interval=interval)
    print(f"{'added' if added else 'updated'} feed {feed.id}: {feed.url}")
    return 0


def cmd_feeds_list(args: argparse.Namespace) -> int:
    with _opened(_config(args)) as store:
        rows = feed_rows(store)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    for row in rows:
        error = f"  ({row['error_count']} errors: {row['last_error']})" if row["last_error"] else ""
        print(f"{row['feed_id']:>4}  {row['state']:<8}  {row['last_status'] or '-':>3}  "
              f"next {row['next_poll'] or '-'}  {row['name'] or row['url']}{error}")
    if not rows:
        print("no feeds: add some with `monitor feeds add URL` or in monitor.yaml")
    return 0


def cmd_feeds_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    feeds = parse_opml(data, str(path))
    added = 0
    with _opened(_config(args)) as store:
        now = utc_now()
        for feed in feeds:
            added += store.add_feed(feed.url, now, name=feed.name,
                                    tags=" ".join(feed.tags) or None)[1]
    print(f"{path}: {len(feeds)} feeds, {added} new")
    return 0


def cmd_feeds_export(args: argparse.Namespace) -> int:
    with _opened(_config(args)) as store:
        feeds = [OpmlFeed(f.url, f.name, tuple(f.tags.split())) for f in store.feeds()]
    text = to_opml(feeds)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _print_rows(rows: list[dict[str, Any]], args: argparse.Namespace,
                columns: tuple[str, ...]) -> None:
    if getattr(args, "json", False):
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    elif getattr(args, "csv", False):
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
    else:
        for row in rows:
            print("  ".join(str(_cell(row.get(c))) for c in columns))


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return " ".join(str(v.get("url")) if isinstance(v, dict) else str(v) for v in value)
    return "" if value is None else value


def cmd_hits(args: argparse.Namespace) -> int:
    with _opened(_config(args)) as store:
        rows = hit_rows(store, parse_since(args.since), args.watchlist, args.entry)
    _print_rows(rows, args, ("hit_id", "first_seen", "watchlist", "entry", "matched", "score",
                             "title", "url", "sources", "snippet"))
    return 0


def cmd_articles(args: argparse.Namespace) -> int:
    with _opened(_config(args)) as store:
        rows = article_rows(store, parse_since(args.since))
    _print_rows(rows, args, ("article_id", "story_id", "published", "feed", "text_source",
                             "title", "url"))
    return 0


def _backfill_watchlists(config: Config, ref: str | None) -> list[Watchlist]:
    """All configured watchlists, the one named ``ref``, or the file or folder at ``ref``."""
    watchlists = load_watchlists(config.watchlists)
    if ref is None:
        return watchlists
    named = [w for w in watchlists if w.name == ref]
    if named:
        return named
    if Path(ref).exists():
        return load_watchlists(ref)
    raise UsageError(f"--watchlist {ref!r}: neither a configured watchlist nor a file"
                     f"{did_you_mean(ref, [w.name for w in watchlists])} (configured: "
                     f"{', '.join(w.name for w in watchlists)})")


def _backfill_options(args: argparse.Namespace) -> backfill.Options:
    source = Path(args.source) if args.source else None
    if source is not None and (args.feed or args.reextract):
        raise UsageError("--feed and --reextract select stored articles; they cannot be "
                         "combined with --from")
    if source is not None and not source.exists():
        raise UsageError(f"--from {args.source}: no such file or folder")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: at least 1")
    if args.batch < 1:
        raise UsageError(f"--batch {args.batch}: at least 1")
    since, until = parse_since(args.since), parse_since(args.until, "--until")
    if since and until and since >= until:
        raise UsageError(f"--since {args.since} is not before --until {args.until}")
    return backfill.Options(source=source, since=since, until=until, feed_id=None,
                            reextract=args.reextract, notify=args.notify, batch=args.batch,
                            workers=args.workers or backfill.default_workers())


def cmd_backfill(args: argparse.Namespace) -> int:
    config = _config(args)
    options = _backfill_options(args)
    watchlists = _backfill_watchlists(config, args.watchlist)
    stop = threading.Event()

    def on_interrupt(_signum: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("stopping after the current batch (Ctrl-C again to quit at once)",
              file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with _opened(config) as store:
            if args.feed:
                feed = store.feed(args.feed)
                if feed is None:
                    raise UsageError(f"--feed {args.feed!r}: no such feed (monitor feeds list)")
                options = replace(options, feed_id=feed.id)
            report = _run_backfill(store, watchlists, options, stop)
    finally:
        signal.signal(signal.SIGINT, previous)
    for problem in report.problems[:50]:
        print(f"skipped {problem.origin}: {problem.reason}", file=sys.stderr)
    if len(report.problems) > 50:
        print(f"... and {len(report.problems) - 50} more skipped", file=sys.stderr)
    print(f"backfill: {report.line()}")
    if report.interrupted:
        return 130
    return 1 if args.strict and report.skipped else 0


def _run_backfill(store: Store, watchlists: list[Watchlist], options: backfill.Options,
                  stop: threading.Event) -> backfill.Report:
    if options.source is not None:
        bar = Progress("files", sum(1 for _ in archive.files(options.source)))
        try:
            return backfill.import_files(store, watchlists, options, utc_now, stop.is_set,
                                         lambda report, done: bar.update(done))
        finally:
            bar.close()
    total = store.count_articles(since=options.since, until=options.until,
                                 feed_id=options.feed_id)
    bar = Progress("articles", total)
    try:
        report = backfill.rematch_stored(
            store, watchlists, options, utc_now, stop.is_set,
            lambda report, done: bar.update(done, f"{report.new_hits} new hits"))
    finally:
        bar.close()
    if report.resumed_after:
        print(f"resumed after article {report.resumed_after}", file=sys.stderr)
    return report


def add_commands(commands: Any) -> None:
    db = commands.add_parser("db", help="database schema")
    db_actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_actions.add_parser("upgrade", help="apply migrations (also done on start)").set_defaults(
        func=cmd_db_upgrade)

    p = commands.add_parser("poll", help="poll feeds once and store what is new")
    p.add_argument("--once", action="store_true", help="one cycle, then exit")
    p.add_argument("--feed", help="only this feed (id or URL), due or not")
    p.add_argument("--all", action="store_true", help="every enabled feed, due or not")
    p.set_defaults(func=cmd_poll)

    feeds = commands.add_parser("feeds", help="list, add, import or export feeds")
    actions = feeds.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a feed")
    add.add_argument("url")
    add.add_argument("--name")
    add.add_argument("--interval", help="poll interval (default 15m)")
    add.set_defaults(func=cmd_feeds_add)
    listing = actions.add_parser("list", help="feeds with their state and last error")
    listing.add_argument("--json", action="store_true", help="one JSON object per feed")
    listing.set_defaults(func=cmd_feeds_list)
    imp = actions.add_parser("import", help="add the feeds of an OPML file")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_feeds_import)
    exp = actions.add_parser("export", help="print the feeds as OPML")
    exp.add_argument("--output", "-o")
    exp.set_defaults(func=cmd_feeds_export)

    hits = commands.add_parser("hits", help="stored hits (one per story and entry)")
    hits.add_argument("--since", help="date, ISO date-time or age (24h, 7d)")
    hits.add_argument("--watchlist")
    hits.add_argument("--entry")
    fmt = hits.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object per line")
    fmt.add_argument("--csv", action="store_true")
    hits.set_defaults(func=cmd_hits)

    b = commands.add_parser(
        "backfill", help="match stored articles again, or import saved ones (--from)",
        description="Without --from: match stored articles with the watchlists again (after "
        "a watchlist change); new hits are stored, existing ones untouched.  With --from: "
        "import saved articles (.html/.htm[.gz], .txt, .jsonl/.json, .warc[.gz]) and match "
        "them.  Hits found by backfill stay out of digests and alerts unless --notify.  "
        "Ctrl-C stops after the current batch; the same command then carries on.")
    b.add_argument("--from", dest="source", metavar="PATH", help="file or folder to import")
    b.add_argument("--since", help="articles published from this date (or age: 30d)")
    b.add_argument("--until", help="articles published before this date")
    b.add_argument("--watchlist", metavar="NAME_OR_PATH",
                   help="only this configured watchlist, or a watchlist file or folder")
    b.add_argument("--feed", metavar="ID", help="only articles from this feed (id or URL)")
    b.add_argument("--reextract", action="store_true",
                   help="extract the text again from the kept page before matching")
    b.add_argument("--workers", type=int, metavar="N",
                   help="processes for extraction and matching (default: the cores)")
    b.add_argument("--notify", action="store_true",
                   help="send the hits found in the next digest and alerts")
    b.add_argument("--strict", action="store_true", help="exit 1 if any file was skipped")
    b.add_argument("--batch", type=int, default=100, metavar="N",
                   help="articles per transaction (default 100)")
    b.set_defaults(func=cmd_backfill)

    articles = commands.add_parser("articles", help="stored articles")
    articles.add_argument("--since", help="date, ISO date-time or age (24h, 7d)")
    articles.add_argument("--json", action="store_true", help="one JSON object per line")
    articles.set_defaults(func=cmd_articles)
