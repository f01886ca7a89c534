"""What the interface reads and changes, as one small interface (``Data``) over the store's
read views and commands: the pages, the API and the Atom feeds use nothing else, and no SQL
is written under monitor/web.

Rows are the CLI's ``--json`` objects (README "Commands"), so the API has the same keys.
Listings are pages: newest first, at most ``limit`` rows, and ``next``, the last row's
(sort key, id) when more may follow (the API makes it an opaque cursor).

Events (#17) are read a page at a time by (last_seen, id), trends (#20) from the daily
counts, search (#19) through the full-text index: no request scans the articles or hits.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from monitor import deliver as outbox
from monitor.cli.digests import history
from monitor.config import check_url
from monitor.config.trends import TrendsConfig
from monitor.errors import Problem, UsageError
from monitor.query import Query
from monitor.sources.discover import Discovery, Unchecked
from monitor.store import Store
from monitor.store.digests import digest_bodies
from monitor.store.events import EventDetail, event_detail, event_page
from monitor.store.queries import article_rows, feed_activity, feed_rows, hits
from monitor.trendreport import EntryTrend, rising, trends
from monitor.trendview import svg_chart
from monitor.watchlist import Watchlist, check_watchlists, watchlist_files

T = TypeVar("T")
Row = dict[str, Any]
Key = tuple[str, int]  # a listing's sort key (an ISO time, or "") and the row's id
SPARK_DAYS = 30  # days of an entry's sparkline on the Today page
ENTRY_DAYS = 90  # days of an entry page's chart
MEMO_SECONDS = 5.0  # how long a read view's answer is reused (Memo)


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    next: Key | None = None


@dataclass(frozen=True, slots=True)
class DigestView:
    """A digest run (the ``digests list --json`` object) and its bodies as they were sent."""

    row: Row
    html: str
    text: str


@dataclass(frozen=True, slots=True)
class WatchlistsView:
    path: str
    watchlists: list[Watchlist]
    problems: list[Problem]  # the checker's findings (monitor watchlist check)


@dataclass(frozen=True, slots=True)
class Facets:
    """Search's narrowing (#19): watchlist, entry, feed, language, country, dates."""

    watchlist: str | None = None
    entry: str | None = None
    feed: str | None = None
    language: str | None = None
    country: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class SearchResults:
    available: bool
    rows: list[Row] = field(default_factory=list)
    next: Key | None = None
    exhausted: bool = True  # False: the candidates read were capped, more may match


@dataclass(frozen=True, slots=True)
class EntryView:
    """An entry's (or a rule's) page: its trend over ENTRY_DAYS days (the `trends --json`
    object) and chart, its latest events and the entries most often in them too."""

    watchlist: str
    entry: Any  # monitor.watchlist.Entry, or None for a rule
    rule: Any  # monitor.query.rules.Rule, or None for an entry
    trend: Row | None
    chart: str | None  # inline SVG (trendview.svg_chart), spikes marked
    events: list[Row]
    co_mentioned: list[Row]


def _chart(trend: EntryTrend, width: int, height: int) -> str:
    return svg_chart([d.count for d in trend.days], title=f"{trend.counts.name}: events a day",
                     spikes=[d.spike for d in trend.days], usual=trend.usual,
                     last_day=trend.today.day, width=width, height=height)


class Data(Protocol):
    """Everything the web reads or changes."""


    def feeds(self, *, removed: bool = False) -> list[Row]: ...
    def feed(self, feed_id: int) -> Row | None: ...
    def articles_per_day(self, days: int = 7) -> dict[int, float]: ...
    def pause_feed(self, feed_id: int) -> Row | None: ...
    def resume_feed(self, feed_id: int) -> Row | None: ...
    def add_feed(self, url: str, name: str | None = None) -> tuple[Row, bool, str]: ...
    def digests(self, *, before: int | None = None, limit: int = 50) -> Page: ...
    def digest(self, run_id: int) -> DigestView | None: ...
    def resend(self, delivery_id: int) -> str | None: ...
    def hits(self, *, since: datetime | None = None, watchlist: str | None = None,
             entry: str | None = None, before: Key | None = None, limit: int = 50) -> Page: ...
    def articles(self, *, since: datetime | None = None, before: Key | None = None,
                 limit: int = 50) -> Page: ...
    def watchlists(self) -> WatchlistsView: ...
    def events(self, *, since: datetime | None = None, watchlist: str | None = None,
               entry: str | None = None, before: Key | None = None,
               limit: int = 50) -> Page: ...
    def event(self, event_id: int) -> EventDetail | None: ...
    def entry(self, watchlist: str, entry_id: str) -> EntryView | None: ...
    def search(self, query: Query, facets: Facets, *, before: Key | None = None,
               limit: int = 50) -> SearchResults: ...
    def trends(self, *, watchlist: str | None = None, entry: str | None = None,
               days: int = 30) -> list[Row]: ...
    def rising(self, limit: int = 10) -> list[Row]: ...
    def sparks(self, entries: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]: ...
    def alerts(self, since: datetime, limit: int = 20) -> list[Row]: ...


class Memo:
    """Answers of read views kept ``seconds`` (monotonic) per (view, arguments), at most
    ``size`` of them: 20 analysts on the Today page cost one reading of it per few
    seconds, not one each; what they change (feeds) is never kept.  ``seconds`` 0: off."""

    def __init__(self, seconds: float, size: int = 512) -> None:
        self.seconds, self.size = seconds, size
        self._kept: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._gates: dict[Hashable, threading.Lock] = {}

    def _fresh(self, key: Hashable) -> tuple[float, Any] | None:
        kept = self._kept.get(key)
        if kept is not None and time.monotonic() - kept[0] < self.seconds:
            self._kept.move_to_end(key)
            return kept
        return None

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The kept answer, or ``make()``'s: one caller makes it while the others asking
        for the same wait for it (20 viewers arriving together read the store once)."""
        if self.seconds <= 0:
            return make()
        with self._lock:
            kept = self._fresh(key)
            if kept is not None:
                return cast(T, kept[1])
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                kept = self._fresh(key)
            if kept is not None:
                return cast(T, kept[1])
            started = time.monotonic()
            value = make()
            with self._lock:
                self._kept[key] = (started, value)
                self._kept.move_to_end(key)
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
                self._gates.pop(key, None)
        return value


def _time(row: Row, key: str) -> datetime:
    return datetime.fromisoformat(str(row[key]))


@dataclass
class StoreData:
    """``Data`` over the store: queries.py's, events.py's, search.py's and trends.py's
    views, outbox's resend, the store's feeds.  ``discover``: what a URL added from the
    Feeds page is (sources.discover.find_source, as `feeds add`); None adds it as given."""

    store: Store
    watchlist_path: str
    clock: Callable[[], datetime]
    trends_config: TrendsConfig = field(default_factory=TrendsConfig)
    discover: Callable[[str], Discovery | Unchecked] | None = None
    memo: Memo = field(default_factory=lambda: Memo(MEMO_SECONDS))
    _watchlists: tuple[Any, WatchlistsView] | None = field(default=None, repr=False)

    # --- feeds ---------------------------------------------------------------------------

    def feeds(self, *, removed: bool = False) -> list[Row]:
        return [f.as_json() for f in feed_rows(self.store)
                if removed or f.shown_state != "removed"]

    def feed(self, feed_id: int) -> Row | None:
        return next((f.as_json() for f in feed_rows(self.store) if f.id == feed_id), None)

    def articles_per_day(self, days: int = 7) -> dict[int, float]:
        since = (self.clock() - timedelta(days=days)).replace(second=0, microsecond=0)
        counted = self.memo.get(("activity", since), lambda: feed_activity(self.store, since))
        return {k: n / days for k, n in counted.items()}

    def _polling(self, feed_id: int, polling: str) -> Row | None:
        row = self.feed(feed_id)
        if row is None or row["state"] == "removed":
            return None
        self.store.set_polling(feed_id, polling, self.clock())
        return self.feed(feed_id)

    def pause_feed(self, feed_id: int) -> Row | None:
        return self._polling(feed_id, "paused")

    def resume_feed(self, feed_id: int) -> Row | None:
        return self._polling(feed_id, "on")

    def add_feed(self, url: str, name: str | None = None) -> tuple[Row, bool, str]:
        """As `monitor feeds add`: UsageError for a URL that is not http(s); a new address
        is looked at first (a page names its feed or sitemap), and the note says how."""
        problem = check_url(url)
        if problem:
            raise UsageError(problem)
        url, kind, note = url.strip(), None, ""
        if self.discover is not None and self.store.feed(url) is None:
            found = self.discover(url)
            if isinstance(found, Discovery):
                url, kind, note = found.url, found.kind, found.explanation
            else:
                note = f"{found.reason}: added as given; its polls will tell"
        feed, added = self.store.add_feed(url, self.clock(), name=name or None, kind=kind)
        row = self.feed(feed.id)
        assert row is not None
        return row, added, note

    # --- digests -------------------------------------------------------------------------

    def digests(self, *, before: int | None = None, limit: int = 50) -> Page:
        rows = history(self.store, limit + 1, before)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, ("", rows[-1]["run_id"]) if more else None)

    def digest(self, run_id: int) -> DigestView | None:
        rows = history(self.store, 1, run_id + 1)
        bodies = digest_bodies(self.store, run_id)
        if not rows or rows[0]["run_id"] != run_id or bodies is None:
            return None
        return DigestView(rows[0], *bodies)

    def resend(self, delivery_id: int) -> str | None:
        return outbox.resend(self.store, delivery_id, self.clock())

    # --- hits and articles ---------------------------------------------------------------

    def hits(self, *, since: datetime | None = None, watchlist: str | None = None,
             entry: str | None = None, before: Key | None = None, limit: int = 50) -> Page:
        after = None if before is None else (datetime.fromisoformat(before[0]), before[1])
        rows = self.memo.get(("hits", since, watchlist, entry, after, limit), lambda: [
            h.as_json() for h in hits(self.store, since, watchlist, entry, newest_first=True,
                                      before=after, limit=limit + 1)])
        return self._page(rows, limit, "hit_id")

    def articles(self, *, since: datetime | None = None, before: Key | None = None,
                 limit: int = 50) -> Page:
        rows = self.memo.get(("articles", since, before, limit), lambda: [
            a.as_json() for a in article_rows(
                self.store, since, newest_first=True,
                before=None if before is None else before[1], limit=limit + 1)])
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, ("", int(rows[-1]["article_id"])) if more else None)

    @staticmethod
    def _page(rows: list[Row], limit: int, ident: str, seen: str = "first_seen") -> Page:
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if rows else None
        return Page(rows, (_time(last, seen).isoformat(), int(last[ident]))
                    if more and last else None)

    # --- watchlists ----------------------------------------------------------------------

    def watchlists(self) -> WatchlistsView:
        """Read again when a file changed (its size or time), else the last reading."""
        path = Path(self.watchlist_path)
        try:
            files = watchlist_files(path)
            stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        except OSError:
            stamp = None
        if stamp is None or self._watchlists is None or self._watchlists[0] != stamp:
            loaded, problems = check_watchlists(self.watchlist_path)
            self._watchlists = (stamp, WatchlistsView(self.watchlist_path, loaded, problems))
        return self._watchlists[1]

    # --- events -----------------------------------------------------------------------

    def events(self, *, since: datetime | None = None, watchlist: str | None = None,
               entry: str | None = None, before: Key | None = None,
               limit: int = 50) -> Page:
        after = None if before is None else (datetime.fromisoformat(before[0]), before[1])
        rows = self.memo.get(("events", since, watchlist, entry, after, limit), lambda: (
            event_page(self.store, self.store.events, self.clock(), since=since,
                       watchlist=watchlist, entry=entry, before=after, limit=limit + 1)))
        return self._page(rows, limit, "event_id", "last_seen")

    def event(self, event_id: int) -> EventDetail | None:
        return self.memo.get(("event", event_id), lambda: event_detail(
            self.store, self.store.events, self.clock(), event_id))

    # --- trends and entries --------------------------------------------------------------

    def _trends(self, days: int, *, watchlist: str | None = None, entry: str | None = None,
                entries: Sequence[tuple[str, str]] | None = None) -> list[EntryTrend]:
        key = ("trends", days, watchlist, entry, None if entries is None else tuple(entries))
        return self.memo.get(key, lambda: trends(
            self.store, self.trends_config, self.clock(), days, watchlist=watchlist,
            entry=entry, entries=entries))

    def trends(self, *, watchlist: str | None = None, entry: str | None = None,
               days: int = 30) -> list[Row]:
        return [t.as_json() for t in self._trends(days, watchlist=watchlist, entry=entry)]

    def rising(self, limit: int = 10) -> list[Row]:
        """The entries rising most today (spikes first), with a small chart of each."""
        return [{**t.as_json(), "svg": _chart(t, 120, 28)}
                for t in rising(self._trends(SPARK_DAYS), limit)]

    def sparks(self, entries: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """A small SVG chart of each entry's last SPARK_DAYS days of events."""
        if not entries:
            return {}
        return {(t.counts.watchlist, t.counts.entry): _chart(t, 90, 20)
                for t in self._trends(SPARK_DAYS, entries=list(entries))}

    def alerts(self, since: datetime, limit: int = 20) -> list[Row]:
        """The alerts made since ``since`` (high-priority hits and spikes), newest first."""
        runs = self.memo.get(("runs",), lambda: history(self.store, 100, None))
        return [r for r in runs if r["kind"] == "alert" and _time(r, "created") >= since][:limit]

    def entry(self, watchlist: str, entry_id: str) -> EntryView | None:
        """An entry's (or a rule's) page: 90 days of events with spikes marked, its
        recent events and the entries mentioned with it."""
        view = self.watchlists()
        found = next((w for w in view.watchlists if w.name == watchlist), None)
        if found is None:
            return None
        known = next((e for e in found.entries if e.id == entry_id), None)
        rule = next((r for r in found.rules if r.id == entry_id), None)
        if known is None and rule is None:
            return None
        trend = next(iter(self._trends(ENTRY_DAYS, watchlist=watchlist, entry=entry_id)), None)
        chart = None
        if trend is not None:
            chart = svg_chart([d.count for d in trend.days],
                              title=f"{trend.counts.name}: events a day",
                              spikes=[d.spike for d in trend.days], usual=trend.usual,
                              last_day=trend.today.day, width=720, height=120)
        recent = self.events(watchlist=watchlist, entry=entry_id, limit=30).rows
        others: dict[tuple[str, str, str], int] = {}
        for row in recent:
            for e in row["entries"]:
                if (e["watchlist"], e["entry"]) != (watchlist, entry_id):
                    key = (e["watchlist"], e["entry"], e["name"])
                    others[key] = others.get(key, 0) + 1
        co = sorted(others.items(), key=lambda kv: (-kv[1], kv[0][2].casefold()))[:15]
        return EntryView(watchlist, known, rule, trend.as_json() if trend else None,
                         chart, recent, [{"watchlist": w, "entry": e, "name": n, "events": k}
                                         for (w, e, n), k in co])

    # --- search --------------------------------------------------------------------------

    def search(self, query: Query, facets: Facets, *, before: Key | None = None,
               limit: int = 50) -> SearchResults:
        """The query's matches, best first: the index's candidates, evaluated exactly.
        ``before``: ("", n) skips the first n matches (the next page of the same search)."""
        from monitor.query import EntryIndex, search_plan
        from monitor.query.nodes import EntryRef, KindRef, walk
        from monitor.store.search import Filters, Outcome
        from monitor.store.search import search as run

        feed_id = None
        if facets.feed:
            feed = self.store.feed(facets.feed)
            if feed is None:
                raise UsageError(f"feed {facets.feed!r}: no such feed (the Feeds page lists "
                                 "them)")
            feed_id = feed.id
        skip = before[1] if before else 0
        filters = Filters(facets.since, facets.until, feed_id, facets.language,
                          facets.watchlist, facets.entry, facets.country)

        def find() -> Outcome:
            loaded = self.watchlists().watchlists
            plan = search_plan(query, EntryIndex.from_watchlists(loaded))
            mentions = None
            if any(isinstance(n, EntryRef | KindRef) for n in walk(query.root)):
                from monitor.matchcache import matcher_for

                mentions = matcher_for(loaded).match
            return run(self.store, query, plan, filters, skip + limit + 1, mentions)

        outcome = self.memo.get(("search", query.text, filters, skip + limit), find)
        rows = [{**f.row, "score": round(f.score, 6),
                 "highlights": [list(h) for h in f.highlights], "snippet": f.snippet,
                 "snippet_marks": [list(m) for m in f.snippet_marks]}
                for f in outcome.found[skip:]]
        more = len(rows) > limit
        return SearchResults(True, rows[:limit], ("", skip + limit) if more else None,
                             outcome.exhausted)
