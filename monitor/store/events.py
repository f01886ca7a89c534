"""Events in the store: each new story joins the events of the stored stories it reports the
same happening as (monitor/events.py decides a link), inside the transaction that stores it.

Candidates come through ``event_terms`` (a story's strongest rare profile terms with its
publication date, indexed by (key, published, story_id)): an arriving story compares itself
with the stories that share one of its keys and were published within ``window`` of it,
never with a scan of recent events.  Each key gives at most ``PER_KEY`` of them, the newest
first (by publication date, then story id), so a lookup reads at most KEYS x PER_KEY rows
whatever the store's size.  A link needs the two stories alone, so the groups are the same
whatever the order of arrival as long as no key reaches the cap; above it (a name in more
than PER_KEY stories within the window) a story meets the older ones of that key only
through its other keys, and the result can depend on the order (on the dev data, where
2,419 texts share one day, no same-event pair was lost to it).  A story linked to several
events merges them into the oldest
(the others record ``merged_into``, and their ids still resolve).  On PostgreSQL the event
step of every writer takes one advisory lock (after the story locks, until commit), so
replicas storing stories of one happening at the same moment see each other's stories;
SQLite's writers are serialised already (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from threading import Lock
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import (
    BigInteger,
    Connection,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    bindparam,
    func,
    insert,
    select,
    text,
    union,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from monitor import events as core
from monitor.headline import clean as clean_headline
from monitor.store.models import Article, Base, Feed, Hit, Story, UTCDateTime

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.store.core import Store
    from monitor.store.rows import NewArticle

WINDOW = timedelta(hours=72)  # events.window: stories this far apart in publication join
MAX_AGE = timedelta(days=3)   # events.max_age: an article first seen later is not news
PER_KEY = 20  # index rows read per key, newest first: a key shared by more is a topic
_LOCK = text("SELECT pg_advisory_xact_lock(727275, 2)")


class Event(Base):
    """A happening: stories from several outlets, joined by their profiles."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)  # its first story's headline, cleaned
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    published: Mapped[datetime] = mapped_column(UTCDateTime)  # its earliest story's date
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("events.id"), index=True)


class EventTerm(Base):
    """One of a story's index keys (monitor.events.Profile.keys), with its date."""

    __tablename__ = "event_terms"
    __table_args__ = (Index("ix_event_terms_key_published", "key", "published", "story_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"),
                                          index=True)
    published: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True, slots=True)
class EventSettings:
    """config's ``events:``: the window of one happening, and the age of news."""

    window: timedelta = WINDOW
    max_age: timedelta = MAX_AGE


def event_settings(config: Config) -> EventSettings:
    return EventSettings(timedelta(seconds=config.events.window),
                         timedelta(seconds=config.events.max_age))


def is_news(published: datetime | None, first_seen: datetime, max_age: timedelta) -> bool:
    """An article is news unless it was first seen more than ``max_age`` after its
    publication date (an old page found today); an undated article is news."""
    return published is None or first_seen - published <= max_age


@cache
def _candidates(keys: int) -> Select[int, bytes | None, int | None, int | None]:
    """The stories sharing one of ``keys`` keys (binds k0, k1, ...) within the window (low,
    high): per key the newest PER_KEY, each an index range read backwards."""
    per_key = [select(EventTerm.story_id).where(
        EventTerm.key == bindparam(f"k{i}"), EventTerm.published >= bindparam("low"),
        EventTerm.published <= bindparam("high"))
        .order_by(EventTerm.published.desc(), EventTerm.story_id.desc())
        .limit(PER_KEY).subquery() for i in range(keys)]
    found = union(*(select(q.c.story_id) for q in per_key))
    return (select(Story.id, Story.profile, Story.event_id, Event.merged_into)
            .join(Event, Event.id == Story.event_id)
            .where(Story.id.in_(found)).order_by(Story.id))


_SET_STORY = update(Story).where(Story.id == bindparam("story")).values(
    event_id=bindparam("event"), profile=bindparam("profile"), published=bindparam("when"))
_INSERT_EVENT = insert(Event).returning(Event.id)
_INSERT_TERM = insert(EventTerm)
_SEEN = (update(Event).where(Event.id == select(Story.event_id).where(
    Story.id == bindparam("story")).scalar_subquery(), Event.last_seen < bindparam("now"))
    .values(last_seen=bindparam("now")))
_QUIET = update(Hit).where(Hit.article_id == bindparam("article")).values(notify=False)


def on_article(c: Connection, settings: EventSettings, story_id: int, article_id: int,
               new_story: bool, new: NewArticle, now: datetime) -> int | None:
    """The store's hook, in the article's transaction: a new story gets its event (joined or
    new), a copy of a known story marks its event seen; an article that is not news has its
    hits kept out of digests and alerts (unless a backfill was asked to notify: its hits
    say so themselves).  The story's event id (None for an old story)."""
    backfilled = any(h.found_by == "backfill" for h in new.hits)
    if not backfilled and not is_news(new.published, now, settings.max_age):
        c.execute(_QUIET, {"article": article_id})
    if not new_story:
        c.execute(_SEEN, {"story": story_id, "now": now})
        return None
    return assign(c, settings, story_id, new.title, new.text, new.language,
                  new.published or now, now, new.url)


def assign(c: Connection, settings: EventSettings, story_id: int, title: str | None,
           body: str, language: str | None, when: datetime, now: datetime,
           url: str | None = None) -> int:
    """Put a new story in its event: the events of the candidates it links with (merged
    into the oldest if several), else a new one.  Returns the event id."""
    if c.dialect.name == "postgresql":
        c.execute(_LOCK)
    profile = core.profile(title, body, language)
    packed, keys = profile.pack(), profile.keys()
    linked: set[tuple[int, bool]] = set()
    if keys:
        found = [(event_id, stored, merged) for _, stored, event_id, merged in c.execute(
            _candidates(len(keys)), {**{f"k{i}": k for i, k in enumerate(keys)},
                                     "low": when - settings.window,
                                     "high": when + settings.window}) if stored]
        joined = core.links(packed, [stored for _, stored, _ in found])
        # an event not merged away is its own root: no lookup for it
        linked = {(int(event_id), merged is None)
                  for (event_id, _, merged), yes in zip(found, joined, strict=True)
                  if yes and event_id is not None}
    roots = {e if alive else _root(c, e) for e, alive in linked}
    if roots:
        event_id = min(roots)
        _merge(c, event_id, sorted(roots - {event_id}))
        c.execute(update(Event).where(Event.id == event_id, Event.last_seen < now)
                  .values(last_seen=now))
        c.execute(update(Event).where(Event.id == event_id, Event.published > when)
                  .values(published=when))
    else:
        cleaned = clean_headline(title, url=url) if title else None
        event_id = c.execute(_INSERT_EVENT, {
            "title": cleaned, "language": profile.language, "published": when,
            "first_seen": now, "last_seen": now}).scalar_one()
    c.execute(_SET_STORY, {"story": story_id, "event": event_id, "profile": packed,
                           "when": when})
    if keys:
        c.execute(_INSERT_TERM, [{"key": k, "story_id": story_id, "published": when}
                                 for k in keys])
    return int(event_id)


def _root(c: Connection, event_id: int) -> int:
    """The event an id stands for now (merged ones point to where they went)."""
    seen = set()
    while event_id not in seen:
        seen.add(event_id)
        into = c.execute(select(Event.merged_into).where(Event.id == event_id)).scalar()
        if into is None:
            return event_id
        event_id = int(into)
    return event_id


def _merge(c: Connection, into: int, others: Sequence[int]) -> None:
    """Join ``others`` into ``into``: their stories move, and they (and any event merged
    into them before) point to it."""
    if not others:
        return
    c.execute(update(Story).where(Story.event_id.in_(others)).values(event_id=into))
    c.execute(update(Event).where(Event.merged_into.in_(others)).values(merged_into=into))
    first = c.execute(select(func.min(Event.published), func.min(Event.first_seen))
                      .where(Event.id.in_([into, *others]))).one()
    c.execute(update(Event).where(Event.id.in_(others)).values(merged_into=into))
    c.execute(update(Event).where(Event.id == into).values(published=first[0],
                                                           first_seen=first[1]))


def resolve(c: Connection, event_ids: Iterable[int]) -> dict[int, int]:
    """Each id's event now (itself, or where it was merged)."""
    return {e: _root(c, e) for e in set(event_ids)}


# --- reading: `monitor events` ---------------------------------------------------------------


@dataclass(slots=True)
class _Member:
    """One article of an event, as `monitor events` shows it."""

    story_id: int
    feed: str
    url: str
    title: str | None
    published: datetime | None
    first_seen: datetime
    lead: str
    language: str | None


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[list[int]]:
    for i in range(0, len(ids), size):
        yield list(ids[i:i + size])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _outlet(feed: str | None, url: str) -> str:
    return feed or urlsplit(url).hostname or "unknown"


def event_rows(store: Store, settings: EventSettings, now: datetime, *,
               since: datetime | None = None, until: datetime | None = None,
               watchlist: str | None = None, entry: str | None = None,
               limit: int = 50, candidates: int = 2000) -> list[dict[str, Any]]:
    """Events (merged ones under the event they joined), best first: one object per event
    with its title, lead, outlets, entries, score and whether it is news.  ``since`` and
    ``until`` are on its publication date; the ``candidates`` latest are ranked."""
    query = select(Event).where(Event.merged_into.is_(None))
    if since is not None:
        query = query.where(Event.published >= since)
    if until is not None:
        query = query.where(Event.published < until)
    if watchlist or entry:
        named = select(Story.event_id).join(Hit, Hit.story_id == Story.id)
        if watchlist:
            named = named.where(Hit.watchlist == watchlist)
        if entry:
            named = named.where(Hit.entry == entry)
        query = query.where(Event.id.in_(named))
    query = query.order_by(Event.published.desc(), Event.id.desc()).limit(candidates)
    with store.session() as s:
        found = list(s.scalars(query))
        rows = _describe(s.connection(), found, settings, now)
    rows.sort(key=lambda r: (-r["score"], r["published"] or "", r["event_id"]))
    return rows[:limit]


def _describe(c: Connection, found: Sequence[Event], settings: EventSettings,
              now: datetime) -> list[dict[str, Any]]:
    ids = [e.id for e in found]
    profiles: dict[int, dict[int, float]] = {}
    story_event: dict[int, int] = {}
    for chunk in _chunks(ids):
        for story_id, event_id, packed in c.execute(
                select(Story.id, Story.event_id, Story.profile).where(
                    Story.event_id.in_(chunk))):
            story_event[story_id] = int(event_id or 0)
            profiles[story_id] = core.unpack(packed or b"")
    members: dict[int, list[_Member]] = defaultdict(list)
    hits: dict[int, list[Any]] = defaultdict(list)
    stories = sorted(story_event)
    for chunk in _chunks(stories):
        for row in c.execute(
                select(Article.story_id, Feed.name, Article.url, Article.canonical_url,
                       Article.title, Article.published, Article.first_seen,
                       func.substr(Article.text, 1, 2000), Article.language)
                .join(Feed, Feed.id == Article.feed_id, isouter=True)
                .where(Article.story_id.in_(chunk)).order_by(Article.id)):
            members[story_event[row[0]]].append(_Member(
                row[0], _outlet(row[1], row[2]), row[3] or row[2], row[4], row[5], row[6],
                row[7] or "", row[8]))
        for hit in c.execute(
                select(Hit.story_id, Hit.watchlist, Hit.entry, Hit.name, Hit.kind,
                       Hit.priority, Hit.start, Article.title)
                .join(Article, Article.id == Hit.article_id).where(Hit.story_id.in_(chunk))):
            hits[story_event[hit[0]]].append(hit)
    by_story: dict[int, list[int]] = defaultdict(list)
    for story_id, event_id in story_event.items():
        by_story[event_id].append(story_id)
    return [_event_row(e, members[e.id], hits[e.id],
                       [profiles[s] for s in sorted(by_story[e.id])], sorted(by_story[e.id]),
                       settings, now) for e in found if members[e.id]]


_PRESENTED: OrderedDict[Hashable, tuple[str | None, str, tuple[dict[str, Any], ...]]] = \
    OrderedDict()
PRESENTED = 20_000  # events whose headline, lead and outlets are kept (about 20 MB at most)
_PRESENTED_LOCK = Lock()


def _presented(event: Event, members: list[_Member], profiles: list[dict[int, float]],
               stories: list[int]) -> tuple[str | None, str, tuple[dict[str, Any], ...]]:
    """An event's headline, lead sentence and outlets (each headline cleaned): the costly
    part of its object (the representative story, every headline's site name), kept per
    event and members, so a listing read again computes only what changes with time."""
    key = (event.id, event.title, tuple(stories),
           tuple((m.url, m.title, m.published) for m in members))
    with _PRESENTED_LOCK:
        kept = _PRESENTED.get(key)
        if kept is not None:
            _PRESENTED.move_to_end(key)
            return kept
    typical = stories[core.representative(profiles)] if profiles else members[0].story_id
    lead = next(m for m in members if m.story_id == typical)
    title = clean_headline(lead.title or "", site_names=[lead.feed], url=lead.url) or None
    outlets = tuple({"feed": m.feed, "url": m.url,
                     "title": clean_headline(m.title, site_names=[m.feed], url=m.url)
                     if m.title else None, "published": _iso(m.published)}
                    for m in sorted(members, key=lambda m: (m.published or m.first_seen,
                                                            m.url)))
    found = (title, core.lead_sentence(lead.lead), outlets)
    with _PRESENTED_LOCK:
        _PRESENTED[key] = found
        while len(_PRESENTED) > PRESENTED:
            _PRESENTED.popitem(last=False)
    return found


def _event_row(event: Event, members: list[_Member], hits: list[Any],
               profiles: list[dict[int, float]], stories: list[int], settings: EventSettings,
               now: datetime) -> dict[str, Any]:
    title, summary, shown = _presented(event, members, profiles, stories)
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for _, watchlist, entry, name, kind, priority, start, article_title in hits:
        found = entries.setdefault((watchlist, entry), {
            "watchlist": watchlist, "entry": entry, "name": name, "kind": kind,
            "mentions": 0, "priority": priority, "weight": 0.0})
        found["mentions"] += 1
        found["weight"] += core.prominence(start, article_title)
        if priority == "high":
            found["priority"] = "high"
    ranked = sorted(entries.values(), key=lambda e: core.specificity(
        e["priority"], e["kind"], e["weight"], e["name"]))
    outlets = sorted({m.feed for m in members})
    published = min((m.published for m in members if m.published), default=event.published)
    age = (now - max(m.published or m.first_seen for m in members)).total_seconds() / 3600
    news = any(is_news(m.published, m.first_seen, settings.max_age) for m in members)
    return {
        "event_id": event.id, "title": title or event.title,
        "summary": summary, "first_seen": _iso(event.first_seen),
        "last_seen": _iso(event.last_seen), "published": _iso(published),
        "articles": len(members),
        "outlets": [dict(o) for o in shown],
        "entries": [{k: e[k] for k in ("watchlist", "entry", "name", "kind", "mentions")}
                    for e in ranked],
        "score": core.score(len(outlets), any(e["priority"] == "high" for e in ranked),
                            ranked[0]["weight"] if ranked else 0.0, age,
                            settings.window.total_seconds() / 3600),
        "news": news,
    }


def explain(store: Store, event_id: int, settings: EventSettings) -> dict[str, Any] | None:
    """Why an event's stories are one event: each story (its first article), and each pair
    of them that links directly (they share an index key, were published within the window
    and their profiles are alike), with the similarity and the terms that made it.  None if
    there is no such event; a merged id explains the event it joined."""
    with store.engine.connect() as c:
        if c.execute(select(Event.id).where(Event.id == event_id)).scalar() is None:
            return None
        root = _root(c, event_id)
        rows = c.execute(
            select(Story.id, Story.published, Article.title, Article.text, Article.language,
                   Article.url, Feed.name)
            .join(Article, Article.story_id == Story.id)
            .join(Feed, Feed.id == Article.feed_id, isouter=True)
            .where(Story.event_id == root).order_by(Story.id, Article.id)).all()
    first: dict[int, Any] = {}
    for row in rows:
        first.setdefault(row[0], row)
    stories = list(first.values())[:200]
    made = {r[0]: core.profile(r[2], r[3], r[4]) for r in stories}
    stored = {s: core.unpack(p.pack()) for s, p in made.items()}  # as assign compares them
    links = []
    for i, a in enumerate(stories):
        for b in stories[i + 1:]:
            pa, pb = made[a[0]], made[b[0]]
            close = a[1] is None or b[1] is None or abs(a[1] - b[1]) <= settings.window
            if not close or not set(pa.keys()) & set(pb.keys()):
                continue
            ia, ib = stored[a[0]], stored[b[0]]
            if core.same_event(ia, ib):
                links.append({"stories": [a[0], b[0]],
                              "similarity": round(core.similarity(ia, ib), 3),
                              "shared": [[t, round(w, 3)] for t, w in core.shared(pa, pb)]})
    return {
        "event_id": root, "asked": event_id, "window_hours": settings.window / timedelta(hours=1),
        "rule": f"cosine >= {core.SAME_EVENT} and >= {core.BEYOND_ONE_WORD} without the "
                "strongest shared term, a shared index key, same language, within the window",
        "stories": [{"story_id": r[0], "title": r[2], "url": r[5],
                     "feed": _outlet(r[6], r[5]), "published": _iso(r[1]),
                     "language": made[r[0]].language,
                     "terms": list(made[r[0]].key_terms())} for r in stories],
        "links": links,
    }


def with_event_outlets(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hit rows (queries.hit_rows) with ``event_sources``: every news article of their
    event, whichever entry it matched ({feed, url: canonical, title, published}), so that
    a digest shows each event with all its outlets and their own headlines."""
    events = sorted({int(r["event_id"]) for r in rows if r.get("event_id") is not None})
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    with store.engine.connect() as c:
        for chunk in _chunks(events):
            for event_id, feed, url, canonical, title, published, first_seen in c.execute(
                    select(Story.event_id, Feed.name, Article.url, Article.canonical_url,
                           Article.title, Article.published, Article.first_seen)
                    .join(Article, Article.story_id == Story.id)
                    .join(Feed, Feed.id == Article.feed_id, isouter=True)
                    .where(Story.event_id.in_(chunk)).order_by(Article.id)):
                if is_news(published, first_seen, store.events.max_age):
                    found[int(event_id or 0)].append({
                        "feed": _outlet(feed, url), "url": canonical or url, "title": title,
                        "published": _iso(published or first_seen)})
    return [{**r, "event_sources": found.get(r["event_id"], [])}
            if r.get("event_id") is not None else r for r in rows]


# --- reading: the web interface's pages -------------------------------------------------------


def event_page(store: Store, settings: EventSettings, now: datetime, *,
               since: datetime | None = None, watchlist: str | None = None,
               entry: str | None = None, before: tuple[datetime, int] | None = None,
               limit: int = 50) -> list[dict[str, Any]]:
    """One page of events (the `monitor events --json` objects), the latest active first:
    keyset paging on (last_seen, id) from just before ``before``, so a page costs the
    same whatever the number of events (never OFFSET, never ranking every candidate)."""
    query = select(Event).where(Event.merged_into.is_(None))
    if since is not None:
        query = query.where(Event.last_seen >= since)
    if watchlist or entry:
        named = select(Hit.id).join(Story, Story.id == Hit.story_id).where(
            Story.event_id == Event.id)
        if watchlist:
            named = named.where(Hit.watchlist == watchlist)
        if entry:
            named = named.where(Hit.entry == entry)
        query = query.where(named.exists())
    if before is not None:
        query = query.where((Event.last_seen < before[0])
                            | ((Event.last_seen == before[0]) & (Event.id < before[1])))
    query = query.order_by(Event.last_seen.desc(), Event.id.desc()).limit(limit)
    with store.session() as s:
        found = list(s.scalars(query))
        rows = _describe(s.connection(), found, settings, now)
    return rows


@dataclass(frozen=True, slots=True)
class EventDetail:
    """An event as its page shows it: the `monitor events --json` object, its hits (with
    snippet marks) and its articles (the `articles --json` objects, texts included)."""

    asked: int
    row: dict[str, Any]
    hits: list[dict[str, Any]]
    articles: list[dict[str, Any]]


def event_detail(store: Store, settings: EventSettings, now: datetime, event_id: int,
                 max_articles: int = 100) -> EventDetail | None:
    """The event ``event_id`` stands for now (a merged id gives the event it joined), or
    None if there never was one."""
    from monitor.store.queries import hit_rows
    from monitor.store.search import article_details

    with store.session() as s:
        c = s.connection()
        if c.execute(select(Event.id).where(Event.id == event_id)).scalar() is None:
            return None
        root = _root(c, event_id)
        event = s.get(Event, root)
        assert event is not None
        described = _describe(c, [event], settings, now)
        ids = list(c.scalars(select(Article.id).join(Story, Story.id == Article.story_id)
                             .where(Story.event_id == root).order_by(Article.id)
                             .limit(max_articles)))
        articles = article_details(c, ids)
    if not described:
        return None
    stories = select(Story.id).where(Story.event_id == root).scalar_subquery()
    hits = hit_rows(store, where=[Hit.story_id.in_(stories)], marks=True)
    return EventDetail(event_id, described[0], hits, [articles[i] for i in ids if i in articles])
