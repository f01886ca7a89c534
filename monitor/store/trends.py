"""Daily counts per watchlist entry, kept by the store as it stores hits: what `monitor
trends`, spike alerts and the digest's Trends section read, so no question scans the hits.

``trend_days`` holds, per (watchlist, entry, day), the events and the articles that
mentioned the entry, the day being the article's publication date (when it was first seen
if unknown, or if the date claimed is later) in the configured timezone (``trends.timezone``).
``trend_keys`` holds what was counted, one row per (entry, article) and per (entry, event):
a count goes up only when its key is new, in the transaction that stores the hits, so
re-matching, backfill and replicas storing at once never count anything twice, on SQLite
and PostgreSQL alike.  An "event" is the story's event (``event_keys``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from monitor.store.models import Article, Base, Hit, Story, UTCDateTime
from monitor.store.rows import NewHit

if TYPE_CHECKING:
    from monitor.store.core import Store

ARTICLE: Final = "a"
EVENT: Final = "e"
_PENDING: Final = "monitor.trends"  # Connection.info key of the transaction's noted mentions


class TrendDay(Base):
    """One entry's counts on one day (migration 0012)."""

    __tablename__ = "trend_days"
    watchlist: Mapped[str] = mapped_column(String(255), primary_key=True)
    entry: Mapped[str] = mapped_column(String(255), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    events: Mapped[int] = mapped_column(Integer)
    articles: Mapped[int] = mapped_column(Integer)
    # When a live poll (not backfill) last counted something on this row: a spike alert
    # needs one, so backfilled articles never set one off by themselves.
    live_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TrendKey(Base):
    """Something counted: an article (unit "a") or an event (unit "e") of an entry."""

    __tablename__ = "trend_keys"
    watchlist: Mapped[str] = mapped_column(String(255), primary_key=True)
    entry: Mapped[str] = mapped_column(String(255), primary_key=True)
    unit: Mapped[str] = mapped_column(String(1), primary_key=True)
    ref: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    article_id: Mapped[int] = mapped_column(BigInteger)  # whose dates gave the day


def event_keys(c: Connection, story_ids: Iterable[int]) -> dict[int, int]:
    """What one event is, for each story: its event's id (``stories.event_id``: twenty
    outlets' stories of one happening count once), or, for a story with no event (stored
    before events), minus its own id.  An event merged later into another (a bridging
    article) keeps the counts it had: a merge can count one happening twice on its day.
    The only place that decides it (with ``event_stories``)."""
    ids = sorted(set(story_ids))
    found: dict[int, int] = {}
    for i in range(0, len(ids), 500):
        for story, event in c.execute(select(Story.id, Story.event_id)
                                      .where(Story.id.in_(ids[i:i + 500]))):
            found[int(story)] = -int(story) if event is None else int(event)
    return {story: found.get(story, -story) for story in ids}


def event_stories(c: Connection, refs: Sequence[int]) -> dict[int, list[int]]:
    """The stories of each counted event (the inverse of ``event_keys``)."""
    out: dict[int, list[int]] = {ref: [-ref] for ref in refs if ref < 0}
    events = sorted(ref for ref in refs if ref > 0)
    for i in range(0, len(events), 500):
        for story, event in c.execute(select(Story.id, Story.event_id)
                                      .where(Story.event_id.in_(events[i:i + 500]))
                                      .order_by(Story.id)):
            out.setdefault(int(event or 0), []).append(int(story))
    return out


def day_of(published: datetime | None, first_seen: datetime, zone: ZoneInfo) -> date:
    """The day an article counts on: its publication date in ``zone`` (DST included), or
    the day it was first seen when it has none or claims a later one (a clock ahead)."""
    moment = first_seen if published is None else min(published, first_seen)
    return moment.astimezone(zone).date()


class _Mention(NamedTuple):
    watchlist: str
    entry: str
    kind: str
    name: str
    article_id: int
    story_id: int
    day: date
    live_at: datetime | None
    event: int | None = None  # the story's event key when the caller knows it (event_keys)


def _live(hit: NewHit) -> bool:
    """A hit a poll found now (backfill marks its own: found_by "backfill")."""
    return hit.found_by == "poll"


class Keeper:
    """Keeps the counts, in the store's own transactions: ``note`` what an article's hits
    mention, then ``flush`` once before the commit (one sorted statement for keys and one for
    counts, so concurrent writers on PostgreSQL lock rows in one order and never deadlock)."""

    def __init__(self, dialect: str, timezone: str = "UTC") -> None:
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        keys = insert(TrendKey).on_conflict_do_nothing()
        self._insert_keys = keys.returning(TrendKey.watchlist, TrendKey.entry, TrendKey.unit,
                                           TrendKey.ref, TrendKey.day)
        days = insert(TrendDay)
        self._upsert_days = days.on_conflict_do_update(
            index_elements=[TrendDay.watchlist, TrendDay.entry, TrendDay.day],
            set_={"events": TrendDay.events + days.excluded.events,
                  "articles": TrendDay.articles + days.excluded.articles,
                  "kind": days.excluded.kind, "name": days.excluded.name,
                  "live_at": func.coalesce(days.excluded.live_at, TrendDay.live_at)})
        self.zone = ZoneInfo(timezone)

    def use(self, timezone: str) -> None:
        """Count on the days of ``timezone`` from now on (``trends.timezone``)."""
        self.zone = ZoneInfo(timezone)

    def note(self, c: Connection, article_id: int, story_id: int, published: datetime | None,
             first_seen: datetime, hits: Sequence[NewHit], event_id: int | None = None) -> None:
        """A stored article's hits (every entry it mentions, whether or not its story had
        a hit for it already), counted at the flush; ``event_id``: its story's event, when
        just assigned (saves the flush a query)."""
        if not hits:
            return
        day = day_of(published, first_seen, self.zone)
        pending = self._pending(c)
        for hit in hits:
            pending.append(_Mention(hit.watchlist, hit.entry, hit.kind, hit.name,
                                    article_id, story_id, day,
                                    first_seen if _live(hit) else None, event_id))

    def note_found(self, c: Connection, found: Sequence[tuple[int, int, Sequence[NewHit]]],
                   now: datetime) -> None:
        """Hits found again in stored articles (re-matching), as (article, story, hits)."""
        ids = sorted({article for article, _, hits in found if hits})
        when: dict[int, tuple[datetime | None, datetime]] = {}
        for i in range(0, len(ids), 500):
            rows = c.execute(select(Article.id, Article.published, Article.first_seen)
                             .where(Article.id.in_(ids[i:i + 500])))
            when.update((row.id, (row.published, row.first_seen)) for row in rows)
        pending = self._pending(c)
        for article_id, story_id, hits in found:
            if article_id not in when:
                continue
            day = day_of(*when[article_id], self.zone)
            pending.extend(_Mention(h.watchlist, h.entry, h.kind, h.name,
                                    article_id, story_id, day, now if _live(h) else None)
                           for h in hits)

    def flush(self, c: Connection) -> None:
        """Count what was noted in this transaction: the keys not there yet, and the days'
        counts by as many."""
        noted = c.info.pop(_PENDING, None)
        if noted is None or noted[0] is not c.get_transaction() or not noted[1]:
            return
        mentions: list[_Mention] = noted[1]
        events = {m.story_id: m.event for m in mentions if m.event is not None}
        events.update(event_keys(c, {m.story_id for m in mentions} - events.keys()))
        by_key: dict[tuple[str, str, str, int], _Mention] = {}
        for m in mentions:
            by_key.setdefault((m.watchlist, m.entry, ARTICLE, m.article_id), m)
            by_key.setdefault((m.watchlist, m.entry, EVENT, events[m.story_id]), m)
        rows = [{"watchlist": w, "entry": e, "unit": u, "ref": r, "day": by_key[w, e, u, r].day,
                 "article_id": by_key[w, e, u, r].article_id} for w, e, u, r in sorted(by_key)]
        added = c.execute(self._insert_keys, rows).all()
        counts: dict[tuple[str, str, date], dict[str, Any]] = {}
        for w, e, unit, ref, day in added:
            m = by_key[w, e, unit, ref]
            row = counts.setdefault((w, e, day), {
                "watchlist": w, "entry": e, "day": day, "kind": m.kind, "name": m.name,
                "events": 0, "articles": 0, "live_at": None})
            row["events" if unit == EVENT else "articles"] += 1
            if m.live_at is not None and (row["live_at"] is None or m.live_at > row["live_at"]):
                row["live_at"] = m.live_at
        if counts:
            c.execute(self._upsert_days, [counts[k] for k in sorted(counts)])

    @staticmethod
    def _pending(c: Connection) -> list[_Mention]:
        """This transaction's noted mentions (a rolled-back transaction's are dropped)."""
        transaction = c.get_transaction()
        noted = c.info.get(_PENDING)
        if noted is None or noted[0] is not transaction:
            noted = c.info[_PENDING] = (transaction, [])
        mentions: list[_Mention] = noted[1]
        return mentions


def recount(store: Store, timezone: str) -> int:
    """Put every count on its day in ``timezone`` (after ``trends.timezone`` changed): each
    key's day from its article's dates, then the days' counts from the keys.  One
    transaction that keeps other writers out (the counts are never half moved); the keys
    moved.  A day's live mark stays with the day it was on."""
    zone = ZoneInfo(timezone)
    with store.engine.begin() as c:
        if c.dialect.name == "sqlite":
            c.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            c.exec_driver_sql("LOCK TABLE trend_keys, trend_days IN SHARE ROW EXCLUSIVE MODE")
        names = {(w, e): (k, n) for w, e, k, n in c.execute(
            select(TrendDay.watchlist, TrendDay.entry, func.max(TrendDay.kind),
                   func.max(TrendDay.name)).group_by(TrendDay.watchlist, TrendDay.entry))}
        marks = {(w, e, d): t for w, e, d, t in c.execute(
            select(TrendDay.watchlist, TrendDay.entry, TrendDay.day, TrendDay.live_at)
            .where(TrendDay.live_at.is_not(None)))}
        keys = c.execute(
            select(TrendKey.watchlist, TrendKey.entry, TrendKey.unit, TrendKey.ref,
                   TrendKey.day, Article.published, Article.first_seen)
            .join(Article, Article.id == TrendKey.article_id, isouter=True)).all()
        counts: dict[tuple[str, str, date], list[int]] = {}
        moved = []
        for w, e, unit, ref, day, published, first_seen in keys:
            new = day if first_seen is None else day_of(published, first_seen, zone)
            if new != day:
                moved.append({"w": w, "e": e, "u": unit, "r": ref, "d": new})
            counts.setdefault((w, e, new), [0, 0])[unit == ARTICLE] += 1
        if moved:
            c.execute(update(TrendKey).where(
                TrendKey.watchlist == bindparam("w"), TrendKey.entry == bindparam("e"),
                TrendKey.unit == bindparam("u"), TrendKey.ref == bindparam("r")).values(
                day=bindparam("d")), moved)
        c.execute(delete(TrendDay))
        rows = [{"watchlist": w, "entry": e, "day": d, "kind": names.get((w, e), ("", e))[0],
                 "name": names.get((w, e), ("", e))[1], "events": n[0], "articles": n[1],
                 "live_at": marks.get((w, e, d))} for (w, e, d), n in sorted(counts.items())]
        for i in range(0, len(rows), 5000):
            c.execute(insert(TrendDay), rows[i:i + 5000])
    return len(moved)


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryCounts:
    """One entry's daily counts over a span of days (zero days included), oldest first."""

    watchlist: str
    entry: str
    kind: str
    name: str
    first_day: date  # the earliest day anything of it was counted: its history starts there
    events: list[int]
    articles: list[int]

    def history_days(self, today: date) -> int:
        """Days of history on ``today``, today included (0 if it starts later)."""
        return max(0, (today - self.first_day).days + 1)


def today(zone: str, now: datetime) -> date:
    """The current day in the trends' timezone."""
    return now.astimezone(ZoneInfo(zone)).date()


def entry_counts(store: Store, first: date, last: date, *, watchlist: str | None = None,
                 entry: str | None = None, kind: str | None = None,
                 entries: Sequence[tuple[str, str]] | None = None) -> list[EntryCounts]:
    """Every entry's counts from ``first`` to ``last`` (entries counted by then), from
    trend_days alone: two indexed queries, whatever the number of articles."""
    where: list[Any] = []
    if watchlist is not None:
        where.append(TrendDay.watchlist == watchlist)
    if entry is not None:
        where.append(TrendDay.entry == entry)
    if kind is not None:
        where.append(TrendDay.kind == kind)
    if entries is not None:
        if not entries:
            return []
        where.append(or_(*(and_(TrendDay.watchlist == w, TrendDay.entry == e)
                           for w, e in entries)) if len(entries) < 50
                     else tuple_(TrendDay.watchlist, TrendDay.entry).in_(list(entries)))
    span = (last - first).days + 1
    with store.engine.connect() as c:
        # the first day of each entry from the primary key alone (a covering index scan)
        known = c.execute(
            select(TrendDay.watchlist, TrendDay.entry, func.min(TrendDay.day))
            .where(*where).group_by(TrendDay.watchlist, TrendDay.entry)
            .having(func.min(TrendDay.day) <= last)).all()
        days = c.execute(
            select(TrendDay.watchlist, TrendDay.entry, TrendDay.day,
                   TrendDay.events, TrendDay.articles, TrendDay.kind, TrendDay.name)
            .where(*where, TrendDay.day >= first, TrendDay.day <= last)
            .order_by(TrendDay.day)).all()
        names = {(w, e): (k, n) for w, e, _, _, _, k, n in days}  # the latest day's
        quiet = [(w, e) for w, e, _ in known if (w, e) not in names]
        for i in range(0, len(quiet), 200):  # nothing counted in the span: any row's names
            part = quiet[i:i + 200]
            names.update(((w, e), (k, n)) for w, e, k, n in c.execute(
                select(TrendDay.watchlist, TrendDay.entry, func.max(TrendDay.kind),
                       func.max(TrendDay.name))
                .where(or_(*(and_(TrendDay.watchlist == w, TrendDay.entry == e)
                             for w, e in part)))
                .group_by(TrendDay.watchlist, TrendDay.entry)))
    out = {(w, e): EntryCounts(w, e, *names[w, e], f, [0] * span, [0] * span)
           for w, e, f in known}
    for w, e, day, n_events, n_articles, _, _ in days:
        counts = out.get((w, e))
        if counts is not None:
            i = (day - first).days
            counts.events[i], counts.articles[i] = n_events, n_articles
    return sorted(out.values(), key=lambda x: (x.watchlist, x.name.casefold(), x.entry))


def live_today(store: Store, day: date, min_events: int) -> list[tuple[str, str]]:
    """The entries a live poll counted something for on ``day``, with at least
    ``min_events`` events then: the only ones a spike alert may be about."""
    with store.engine.connect() as c:
        return [(w, e) for w, e in c.execute(
            select(TrendDay.watchlist, TrendDay.entry).where(
                TrendDay.day == day, TrendDay.live_at.is_not(None),
                TrendDay.events >= min_events)
            .order_by(TrendDay.watchlist, TrendDay.entry))]


def stories_on(store: Store, watchlist: str, entry: str, day: date) -> list[int]:
    """The stories of the events counted for an entry on a day."""
    with store.engine.connect() as c:
        refs = list(c.scalars(select(TrendKey.ref).where(
            TrendKey.watchlist == watchlist, TrendKey.entry == entry, TrendKey.unit == EVENT,
            TrendKey.day == day)))
        stories = event_stories(c, refs)
    return sorted({s for ref in refs for s in stories.get(ref, [])})


def days_back(last: date, count: int) -> date:
    """The first of ``count`` days ending ``last``."""
    return last - timedelta(days=count - 1)


def entry_hits_on(store: Store, watchlist: str, entry: str, day: date) -> list[dict[str, Any]]:
    """An entry's hits (digest rows, with marks) in the stories counted for it on ``day``."""
    from monitor.store.queries import hit_rows  # queries -> core -> trends: read at call time

    stories = stories_on(store, watchlist, entry, day)
    if not stories:
        return []
    return hit_rows(store, where=[Hit.story_id.in_(stories), Hit.watchlist == watchlist,
                                  Hit.entry == entry], marks=True)
