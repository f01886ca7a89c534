"""Events in the store: each new story joins the events of the stored stories it reports the
same happening as (monitor/events.py decides a link), inside the transaction that stores it.

Candidates come through ``event_terms`` (a story's strongest profile terms with its
publication date, indexed by (key, published)): an arriving story compares itself with the
stories that share one of its keys and were published within ``window`` of it, never with a
scan of recent events.  A link needs the two stories alone, so the groups are the same
whatever the order of arrival; a story linked to several events merges them into the oldest
(the others record ``merged_into``, and their ids still resolve).  On PostgreSQL the event
step of every writer takes one advisory lock (after the story locks, until commit), so
replicas storing stories of one happening at the same moment see each other's stories;
SQLite's writers are serialised already (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from monitor import events as core
from monitor.headline import clean as clean_headline
from monitor.store.models import Base, Hit, Story, UTCDateTime

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.store.core import NewArticle

WINDOW = timedelta(hours=72)  # events.window: stories this far apart in publication join
MAX_AGE = timedelta(days=3)   # events.max_age: an article first seen later is not news
CANDIDATES_CAP = 2000  # index rows read per story: a key shared by more is a topic anyway
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
    __table_args__ = (Index("ix_event_terms_key_published", "key", "published"),)
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


_CANDIDATES = select(Story.id, Story.profile, Story.event_id).where(Story.id.in_(
    select(EventTerm.story_id).where(
        EventTerm.key.in_(bindparam("keys", expanding=True)),
        EventTerm.published >= bindparam("low"), EventTerm.published <= bindparam("high"))
    .limit(CANDIDATES_CAP)))
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
    hits kept out of digests and alerts.  The story's event id (None for an old story)."""
    if not is_news(new.published, now, settings.max_age):
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
    ids, keys = profile.ids(), profile.keys()
    linked: set[int] = set()
    if keys:
        for _, packed, event_id in c.execute(_CANDIDATES, {
                "keys": list(keys), "low": when - settings.window,
                "high": when + settings.window}):
            if event_id is not None and packed and core.same_event(ids, core.unpack(packed)):
                linked.add(int(event_id))
    roots = {_root(c, e) for e in linked}
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
    c.execute(_SET_STORY, {"story": story_id, "event": event_id, "profile": profile.pack(),
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
