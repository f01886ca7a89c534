"""What the interface reads and changes, as one small interface (``Data``) over the store's
read views and commands: the pages, the API and the Atom feeds use nothing else, and no SQL
is written under monitor/web.

Rows are the CLI's ``--json`` objects (README "Commands"), so the API has the same keys.
Listings are pages: newest first, at most ``limit`` rows, and ``next``, the last row's
(sort key, id) when more may follow (the API makes it an opaque cursor).

Events (#17), an entry's page and trends (#20) and search (#19) come with their issues:
until then their methods answer empty and ``available`` does not name them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from monitor import deliver as outbox
from monitor.cli.digests import history
from monitor.config import check_url
from monitor.errors import Problem, UsageError
from monitor.query import Query
from monitor.store import Store
from monitor.store.digests import digest_bodies
from monitor.store.queries import article_rows, feed_activity, feed_rows, hits
from monitor.watchlist import Watchlist, check_watchlists, watchlist_files

Row = dict[str, Any]
Key = tuple[str, int]  # a listing's sort key (an ISO time, or "") and the row's id
NOT_YET = "not available yet"


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


class Data(Protocol):
    """Everything the web reads or changes."""

    available: frozenset[str]  # of "events", "search", "trends", "entries"

    def feeds(self, *, removed: bool = False) -> list[Row]: ...
    def feed(self, feed_id: int) -> Row | None: ...
    def articles_per_day(self, days: int = 7) -> dict[int, float]: ...
    def pause_feed(self, feed_id: int) -> Row | None: ...
    def resume_feed(self, feed_id: int) -> Row | None: ...
    def add_feed(self, url: str, name: str | None = None) -> tuple[Row, bool]: ...
    def digests(self, *, before: int | None = None, limit: int = 50) -> Page: ...
    def digest(self, run_id: int) -> DigestView | None: ...
    def resend(self, delivery_id: int) -> str | None: ...
    def hits(self, *, since: datetime | None = None, watchlist: str | None = None,
             entry: str | None = None, before: Key | None = None, limit: int = 50) -> Page: ...
    def articles(self, *, since: datetime | None = None, before: Key | None = None,
                 limit: int = 50) -> Page: ...
    def watchlists(self) -> WatchlistsView: ...
    # --- filled by the later issues ---------------------------------------------------
    def events(self, *, since: datetime | None = None, watchlist: str | None = None,
               entry: str | None = None, before: Key | None = None,
               limit: int = 50) -> Page: ...
    def event(self, event_id: int) -> Row | None: ...
    def entry(self, watchlist: str, entry_id: str) -> Row | None: ...
    def search(self, query: Query, facets: Facets, *, before: Key | None = None,
               limit: int = 50) -> SearchResults: ...
    def trends(self, *, watchlist: str | None = None, entry: str | None = None,
               days: int = 90) -> list[Row]: ...


def _time(row: Row, key: str) -> datetime:
    return datetime.fromisoformat(str(row[key]))


@dataclass
class StoreData:
    """``Data`` over today's store: queries.py's views, outbox's resend, the store's feeds."""

    store: Store
    watchlist_path: str
    clock: Callable[[], datetime]
    available: frozenset[str] = frozenset()
    _watchlists: tuple[Any, WatchlistsView] | None = field(default=None, repr=False)

    # --- feeds ---------------------------------------------------------------------------

    def feeds(self, *, removed: bool = False) -> list[Row]:
        return [f.as_json() for f in feed_rows(self.store)
                if removed or f.shown_state != "removed"]

    def feed(self, feed_id: int) -> Row | None:
        return next((f.as_json() for f in feed_rows(self.store) if f.id == feed_id), None)

    def articles_per_day(self, days: int = 7) -> dict[int, float]:
        since = self.clock() - timedelta(days=days)
        return {k: n / days for k, n in feed_activity(self.store, since).items()}

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

    def add_feed(self, url: str, name: str | None = None) -> tuple[Row, bool]:
        """As `monitor feeds add`: UsageError for a URL that is not http(s)."""
        problem = check_url(url)
        if problem:
            raise UsageError(problem)
        feed, added = self.store.add_feed(url.strip(), self.clock(), name=name or None)
        row = self.feed(feed.id)
        assert row is not None
        return row, added

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
        rows = [h.as_json() for h in hits(self.store, since, watchlist, entry,
                                           newest_first=True, before=after, limit=limit + 1)]
        return self._page(rows, limit, "hit_id")

    def articles(self, *, since: datetime | None = None, before: Key | None = None,
                 limit: int = 50) -> Page:
        rows = [a.as_json() for a in article_rows(
            self.store, since, newest_first=True, before=None if before is None else before[1],
            limit=limit + 1)]
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, ("", int(rows[-1]["article_id"])) if more else None)

    @staticmethod
    def _page(rows: list[Row], limit: int, ident: str) -> Page:
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if rows else None
        return Page(rows, (_time(last, "first_seen").isoformat(), int(last[ident]))
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

    # --- the later issues' (empty until then) --------------------------------------------

    def events(self, *, since: datetime | None = None, watchlist: str | None = None,
               entry: str | None = None, before: Key | None = None,
               limit: int = 50) -> Page:
        return Page([])

    def event(self, event_id: int) -> Row | None:
        return None

    def entry(self, watchlist: str, entry_id: str) -> Row | None:
        return None

    def search(self, query: Query, facets: Facets, *, before: Key | None = None,
               limit: int = 50) -> SearchResults:
        return SearchResults(available=False)

    def trends(self, *, watchlist: str | None = None, entry: str | None = None,
               days: int = 90) -> list[Row]:
        return []
