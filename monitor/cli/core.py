"""The ingestion commands (poll, feeds, hits, articles, backfill, db); cli/main.py wires them to
argparse."""

from __future__ import annotations

import argparse
import asyncio
import csv
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from monitor import backfill
from monitor import deliver as outbox
from monitor.config import Config, check_url, load_config, parse_duration
from monitor.display import csv_cell, json_line, mask_url, safe, shown
from monitor.errors import MonitorError, UsageError, did_you_mean
from monitor.feeds import OpmlFeed, read_opml, to_opml
from monitor.fetch import Fetcher
from monitor.ingest import Context, Summary, sync_feeds, utc_now
from monitor.progress import Progress
from monitor.sources import archive
from monitor.sources.base import fetch_with, sources
from monitor.sources.discover import Discovery, Unchecked, find_source
from monitor.store import FeedRow, Store, make_engine, upgrade
from monitor.store.events import event_settings
from monitor.store.queries import article_rows, feed_rows, hit_names, hits
from monitor.watchlist import Watchlist, load_watchlists


def _config(args: argparse.Namespace) -> Config:
    return load_config(getattr(args, "config", None))


@contextmanager
def _opened(config: Config, *, readonly: bool = False) -> Iterator[Store]:
    """The configured store, migrated, closed when the command is done.  ``readonly``: a
    command that only looks creates and migrates nothing (Store(readonly=True))."""
    store = Store(config.database, readonly=readonly)
    store.events = event_settings(config)
    store.trends.use(config.trends.timezone)  # the days the counts go on
    try:
        yield store
    finally:
        store.close()


def write_output(path: str, text: str) -> None:
    """Write a file the user named; a path that cannot be written is their mistake."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot be written: {exc.strerror or exc}") from exc


def parse_since(value: str | None, option: str = "--since") -> datetime | None:
    """A date (2026-11-25), a date and time (ISO 8601), or an age (24h, 7d)."""
    if value is None:
        return None
    age = parse_duration(value) if value[-1:].isalpha() else None
    if age is not None:
        try:
            return utc_now() - timedelta(seconds=age)
        except OverflowError as exc:
            raise UsageError(f"{option} {value}: reaches before the year 1") from exc
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
    from monitor.scheduler import Daemon, cycle

    with _opened(config) as store:
        now = utc_now()
        sync_feeds(store, config.feeds, now)
        if args.feed or args.all:
            feed = store.feed(args.feed) if args.feed else None
            if args.feed and feed is None:
                raise UsageError(f"no feed {args.feed!r}: see `monitor feeds list`")
            if feed is not None and feed.polling == "removed":
                raise UsageError(f"feed {feed.id} was removed: `monitor feeds resume "
                                 f"{feed.id}` to poll it again")
            feeds = [feed] if feed else [f for f in store.feeds()
                                         if f.state != "disabled" and f.polling == "on"]
            summary = cycle(Context.create(config, store, watchlists), feeds)
        else:  # the due feeds, claimed like the daemon does (no replica polls them too)
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


DISCOVERY_ACCEPT = ("text/html, application/xhtml+xml, application/rss+xml, "
                    "application/atom+xml, application/xml;q=0.9, */*;q=0.8")


def cmd_feeds_add(args: argparse.Namespace) -> int:
    problem = check_url(args.url)
    if problem:
        raise UsageError(f"feeds add: {problem}")
    interval = parse_duration(args.interval) if args.interval else None
    if args.interval and (interval is None or interval < 60):
        raise UsageError(f"--interval {args.interval!r}: a duration of at least 1m (15m, 1h)")
    config = _config(args)
    with _opened(config) as store:
        before = store.feed(args.url)
        url, kind = args.url, args.kind
        found: Discovery | Unchecked | None = None
        if before is None and kind is None:  # a new address: what is it?
            found = _find_source(args.url, config)
            if isinstance(found, Discovery):
                url, kind = found.url, found.kind
                before = store.feed(url)
        feed, added = store.add_feed(url, utc_now(), name=args.name, interval=interval,
                                     kind=kind)
    if added:
        print(f"added feed {feed.id} ({feed.kind}): {mask_url(feed.url)}")
    elif before is not None and before.polling == "removed":
        print(f"feed {feed.id} is back: {mask_url(feed.url)}")
    elif args.name or interval or (args.kind and before is not None
                                   and args.kind != before.kind):
        print(f"updated feed {feed.id} ({feed.kind}): {mask_url(feed.url)}")
    else:
        print(f"feed {feed.id} is already there: {mask_url(feed.url)}")
    _tell_found(found, feed.kind)
    return 0


def _find_source(url: str, config: Config) -> Discovery | Unchecked:
    """What ``url`` is, found through a Fetcher with the configured limits and address
    guard (sources/discover.py): the feed or sitemap to add, or Unchecked."""
    async def find() -> Discovery | Unchecked:
        async with Fetcher(config.fetch) as fetcher:
            return await find_source(url, fetch_with(fetcher, DISCOVERY_ACCEPT),
                                     max_items=config.fetch.max_items)

    return asyncio.run(find())


def _tell_found(found: Discovery | Unchecked | None, kind: str) -> None:
    """How the source was found and the others found (stdout), or why it could not be
    checked (stderr)."""
    if isinstance(found, Unchecked):
        print(f"monitor: {shown(found.reason)}: added as {kind}, as given; its polls will "
              "tell (`monitor feeds list`)", file=sys.stderr)
    elif isinstance(found, Discovery):
        print(f"  {shown(found.explanation)}")
        for other in found.alternatives:
            title = f"  {safe(other.title)!r}" if other.title else ""
            print(f"  also found ({other.kind}): {mask_url(other.url)}{title}")
        if found.alternatives:
            print("  (`monitor feeds add URL --kind rss|sitemap` adds one of them as it is)")


def _listed(config: Config, url: str) -> int | None:
    """The index of the config's feeds: entry with this (normalised) URL, if any."""
    return next((i for i, f in enumerate(config.feeds) if f.url == url), None)


def _target(store: Store, ref: str) -> FeedRow:
    feed = store.feed(ref)
    if feed is None:
        raise UsageError(f"no feed {ref!r}: see `monitor feeds list`")
    return feed


def cmd_feeds_remove(args: argparse.Namespace) -> int:
    config = _config(args)
    with _opened(config) as store:
        feed = _target(store, args.feed)
        index = _listed(config, feed.url)
        if index is not None:  # the config is the list of feeds it declares: it wins
            raise UsageError(
                f"feed {feed.id} is listed in {config.path or 'the configuration'} "
                f"(feeds[{index}]): delete it there and it is removed at the next start, "
                f"or `monitor feeds pause {feed.id}` to stop polling it")
        if feed.polling == "removed":
            print(f"feed {feed.id} was already removed: {mask_url(feed.url)}")
            return 0
        store.set_polling(feed.id, "removed", utc_now())
    print(f"removed feed {feed.id}: {mask_url(feed.url)} (its articles and hits stay; "
          f"`monitor feeds resume {feed.id}` polls it again)")
    return 0


def cmd_feeds_pause(args: argparse.Namespace) -> int:
    with _opened(_config(args)) as store:
        feed = _target(store, args.feed)
        if feed.polling == "removed":
            raise UsageError(f"feed {feed.id} was removed: nothing to pause")
        store.set_polling(feed.id, "paused", utc_now())
    print(f"paused feed {feed.id}: {mask_url(feed.url)} (`monitor feeds resume {feed.id}` polls it "
          "again; it stays paused even if the config lists it)")
    return 0


def cmd_feeds_resume(args: argparse.Namespace) -> int:
    with _opened(_config(args)) as store:
        feed = _target(store, args.feed)
        store.set_polling(feed.id, "on", utc_now())
    print(f"resumed feed {feed.id}: {mask_url(feed.url)} (polled at the next cycle)")
    return 0


def cmd_feeds_list(args: argparse.Namespace) -> int:
    with _opened(_config(args), readonly=True) as store:
        rows = [feed.as_json() for feed in feed_rows(store)]
    removed = [r for r in rows if r["state"] == "removed"]
    if not args.all:
        rows = [r for r in rows if r["state"] != "removed"]
    if args.json:
        for row in rows:
            print(json_line(row))
        return 0
    for row in rows:
        error = f"  ({row['error_count']} errors: {row['last_error']})" if row["last_error"] else ""
        print(safe(f"{row['feed_id']:>4}  {row['kind']:<7}  {row['state']:<8}  "
                   f"{row['last_status'] or '-':>3}  "
                   f"next {row['next_poll'] or '-'}  {row['name'] or row['url']}{error}"))
    if not rows:
        print("no feeds: add some with `monitor feeds add URL` or in monitor.yaml")
    if removed and not args.all:
        print(f"({len(removed)} removed feeds not shown: --all)")
    return 0


def cmd_feeds_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    feeds, skipped = read_opml(data, str(path))
    for problem in skipped:
        print(problem, file=sys.stderr)
    added = 0
    with _opened(_config(args)) as store:
        now = utc_now()
        for feed in feeds:
            added += store.add_feed(feed.url, now, name=feed.name,
                                    tags=" ".join(feed.tags) or None)[1]
    print(f"{path}: {len(feeds)} feeds, {added} new"
          + (f", {len(skipped)} outlines skipped" if skipped else ""))
    return 0


def cmd_feeds_export(args: argparse.Namespace) -> int:
    with _opened(_config(args), readonly=True) as store:
        feeds = [OpmlFeed(f.url, f.name, tuple(f.tags.split())) for f in store.feeds()
                 if f.polling != "removed"]
    text = to_opml(feeds)
    if args.output:
        write_output(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


def _print_rows(rows: list[dict[str, Any]], args: argparse.Namespace,
                columns: tuple[str, ...]) -> None:
    """JSON lines, CSV (cells safe for a spreadsheet) or text (safe for a terminal)."""
    if getattr(args, "json", False):
        for row in rows:
            print(json_line(row))
    elif getattr(args, "csv", False):
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(_cell(row.get(c))) for c in columns])
    else:
        for row in rows:
            print(safe("  ".join(str(_cell(row.get(c))) for c in columns)))


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return " ".join(str(v.get("url")) if isinstance(v, dict) else str(v) for v in value)
    return "" if value is None else value


def _check_names(config: Config, store: Store, watchlist: str | None,
                 entry: str | None) -> None:
    """An unknown --watchlist or --entry is a mistake (a typo would print nothing): the
    names known are the configured watchlists' and those of the stored hits."""
    if not watchlist and not entry:
        return
    try:
        configured = {(w.name, e.id) for w in load_watchlists(config.watchlists)
                      for e in w.entries}
    except MonitorError:  # unreadable watchlists: the stored names still tell
        configured = set()
    known = configured | hit_names(store)
    names = sorted({w for w, _ in known})
    if watchlist and watchlist not in names:
        raise UsageError(f"--watchlist {watchlist!r}: no such watchlist"
                         f"{did_you_mean(watchlist, names)} (known: "
                         f"{', '.join(names) or 'none'})")
    entries = sorted({e for w, e in known if not watchlist or w == watchlist})
    if entry and entry not in entries:
        where = f" in {watchlist!r}" if watchlist else ""
        raise UsageError(f"--entry {entry!r}: no such entry{where}"
                         f"{did_you_mean(entry, entries)} (entries are ids: "
                         "`monitor hits --json` shows them)")


HIT_COLUMNS = ("hit_id", "first_seen", "watchlist", "entry", "matched", "score", "title",
               "url", "sources", "snippet")
SHARED = "(shared alias)"  # the text output's mark of an ambiguous hit


def cmd_hits(args: argparse.Namespace) -> int:
    config = _config(args)
    since = parse_since(args.since)
    with _opened(config, readonly=True) as store:
        _check_names(config, store, args.watchlist, args.entry)
        rows = [hit.as_json() for hit in hits(store, since, args.watchlist, args.entry)]
    if not (args.json or args.csv):  # a shared alias's mention may be another entry's
        rows = [{**row, "matched": f"{row['matched']} {SHARED}"} if row["ambiguous"]
                else row for row in rows]
    _print_rows(rows, args, (*HIT_COLUMNS, "ambiguous") if args.csv else HIT_COLUMNS)
    return 0


def cmd_articles(args: argparse.Namespace) -> int:
    config, since = _config(args), parse_since(args.since)
    with _opened(config, readonly=True) as store:
        rows = [article.as_json() for article in article_rows(store, since)]
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
    options = replace(_backfill_options(args), max_bytes=config.fetch.max_bytes)
    watchlists = _backfill_watchlists(config, args.watchlist)
    stop = threading.Event()
    stopped_by: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        """Ctrl-C or SIGTERM (systemd, docker stop): the batch in hand is stored, then the
        run ends (128 + the signal); a second signal quits at once (its batch rolled back)."""
        if stop.is_set():
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise SystemExit(128 + signum)
        stopped_by.append(signum)
        stop.set()
        again = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        print(f"stopping after the current batch ({again} again to quit at once)",
              file=sys.stderr, flush=True)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _opened(config) as store:
            if args.feed:
                feed = store.feed(args.feed)
                if feed is None:
                    raise UsageError(f"--feed {args.feed!r}: no such feed (monitor feeds list)")
                options = replace(options, feed_id=feed.id)
            if options.notify:  # as a poll does: the digests' windows open before its hits
                outbox.ensure_schedules(store, config, utc_now())
            report = _run_backfill(store, watchlists, options, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for problem in report.problems[:50]:
        print(shown(f"skipped {problem.origin}: {problem.reason}"), file=sys.stderr)
    if report.skipped > len(report.problems[:50]):
        print(f"... and {report.skipped - len(report.problems[:50])} more skipped",
              file=sys.stderr)
    print(f"backfill: {report.line()}")
    if report.interrupted:
        return 128 + (stopped_by[0] if stopped_by else signal.SIGINT)
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

    feeds = commands.add_parser(
        "feeds", help="list, add, remove, pause, resume, import or export feeds")
    actions = feeds.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add", help="add a feed, a sitemap, or the feed a web page names",
        description="Add a feed.  A web page's address finds its <link rel=alternate> feeds "
        "(the first is added, the others listed), else a news sitemap its /robots.txt "
        "names.  --kind adds the URL as it is, without looking.")
    add.add_argument("url")
    add.add_argument("--kind", choices=sorted(sources()),
                     help="the source to read it with (default: found from the URL)")
    add.add_argument("--name")
    add.add_argument("--interval", help="poll interval (default 15m)")
    add.set_defaults(func=cmd_feeds_add)
    listing = actions.add_parser("list", help="feeds with their state and last error")
    listing.add_argument("--json", action="store_true", help="one JSON object per feed")
    listing.add_argument("--all", action="store_true", help="removed feeds too")
    listing.set_defaults(func=cmd_feeds_list)
    for name, func, what in (
            ("remove", cmd_feeds_remove, "stop polling a feed added by hand for good "
             "(its articles and hits stay)"),
            ("pause", cmd_feeds_pause, "stop polling a feed until `feeds resume`"),
            ("resume", cmd_feeds_resume, "poll a paused or removed feed again")):
        action = actions.add_parser(name, help=what)
        action.add_argument("feed", metavar="ID|URL")
        action.set_defaults(func=func)
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
        "Ctrl-C or SIGTERM stops after the current batch; the same command then carries "
        "on.")
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
