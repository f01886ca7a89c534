"""Read views of the store, shared by the CLI (`hits`, `articles`, `feeds list`, `status`),
/healthz and /metrics, digests and the web: each is counted or joined here once, and comes
back as typed rows (rows.py), whose ``as_json`` is the CLI's ``--json``."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from monitor.digest import HealthNote
from monitor.display import mask_url, shown
from monitor.store.core import Store
from monitor.store.models import Article, Delivery, Feed, Hit, Item, Story
from monitor.store.rows import (
    ArticleRow,
    DeliveryCounts,
    FeedCounts,
    FeedProblem,
    FeedRow,
    HitRow,
    Overview,
    SourceRow,
    iso,
)

__all__ = ["article_rows", "delivery_counts", "feed_activity", "feed_counts",
           "feed_health", "feed_rows", "hit_names", "hit_rows", "hits", "iso", "overview",
           "sources"]


def feed_rows(store: Store) -> list[FeedRow]:
    """Every feed, removed ones too, by id (`feeds list`, the web's feeds)."""
    return store.feeds()


def sources(store: Store, story_ids: list[int]) -> dict[int, tuple[SourceRow, ...]]:
    """Every (url, feed, published) that carried each story, oldest first."""
    out: dict[int, list[SourceRow]] = defaultdict(list)
    if not story_ids:
        return {}
    with store.session() as s:
        for i in range(0, len(story_ids), 500):
            rows = s.execute(
                select(Article.story_id, Article.url, Item.url, Feed.name, Feed.url,
                       Item.published, Article.published, Article.first_seen)
                .join(Item, Item.article_id == Article.id, isouter=True)
                .join(Feed, Feed.id == Item.feed_id, isouter=True)
                .where(Article.story_id.in_(story_ids[i:i + 500]))
                .order_by(Article.first_seen, Article.id, Item.id)).all()
            for story, url, item_url, feed_name, feed_url, item_pub, art_pub, _ in rows:
                feed = feed_name or (mask_url(feed_url) if feed_url else None)
                out[story].append(SourceRow(item_url or url, feed, item_pub or art_pub))
    return {story: tuple(found) for story, found in out.items()}


def _page(query: Any, seen: Any, key: Any, before: tuple[datetime, int] | None,
          limit: int | None) -> Any:
    """Newest first, from just before ``before`` (the last (first_seen, id) of the previous
    page), ``limit`` rows: keyset paging on an indexed column, never OFFSET."""
    if before is not None:
        query = query.where(or_(seen < before[0], and_(seen == before[0], key < before[1])))
    query = query.order_by(None).order_by(seen.desc(), key.desc())
    return query if limit is None else query.limit(limit)


def hits(store: Store, since: datetime | None = None, watchlist: str | None = None,
         entry: str | None = None, where: Sequence[ColumnElement[bool]] = (), *,
         newest_first: bool = False, before: tuple[datetime, int] | None = None,
         limit: int | None = None) -> list[HitRow]:
    """Hits with their story's title, URL and sources, oldest first; ``where``: more
    conditions (digests).  ``newest_first`` (with ``before`` and ``limit``): one page of a
    listing, for the web API."""
    query = (select(Hit, Story.title, Article.url, Article.title, Article.published,
                    Story.event_id)
             .join(Story, Story.id == Hit.story_id).join(Article, Article.id == Hit.article_id)
             .where(*where).order_by(Hit.first_seen, Hit.id))
    if newest_first:
        query = _page(query, Hit.first_seen, Hit.id, before, limit)
    if since is not None:
        query = query.where(Hit.first_seen >= since)
    if watchlist:
        query = query.where(Hit.watchlist == watchlist)
    if entry:
        query = query.where(Hit.entry == entry)
    with store.session() as s:
        rows = s.execute(query).all()
    by_story = sources(store, sorted({hit.story_id for hit, *_ in rows}))
    return [HitRow(
        hit_id=hit.id, story_id=hit.story_id, watchlist=hit.watchlist, entry=hit.entry,
        kind=hit.kind, name=hit.name, matched=hit.matched, alias=hit.alias, score=hit.score,
        priority=hit.priority, ambiguous=bool(hit.ambiguous),
        title=article_title or story_title, url=url, sources=by_story.get(hit.story_id, ()),
        published=published, first_seen=hit.first_seen, snippet=hit.snippet,
        snippet_marks=None if hit.snippet_marks is None else json.loads(hit.snippet_marks),
        found_by=hit.found_by, watchlist_version=hit.entry_version, notify=hit.notify,
        event_id=event_id, start=hit.start,
    ) for hit, story_title, url, article_title, published, event_id in rows]


def hit_rows(store: Store, since: datetime | None = None, watchlist: str | None = None,
             entry: str | None = None, where: Sequence[ColumnElement[bool]] = (),
             marks: bool = False) -> list[dict[str, Any]]:
    """``hits`` as their JSON objects (``marks``: with ``snippet_marks``): what digests and
    alerts are built from (deliver.py, digest.build take these until they take HitRow)."""
    return [h.as_json(marks=marks) for h in hits(store, since, watchlist, entry, where)]


def article_rows(store: Store, since: datetime | None = None, *, newest_first: bool = False,
                 before: int | None = None, limit: int | None = None) -> list[ArticleRow]:
    """Articles as stored, oldest first; ``newest_first`` (with ``before``, an article id,
    and ``limit``): one page of a listing, newest stored first, for the web API."""
    query = (select(Article, Feed.name, Feed.url, Story.event_id)
             .join(Feed, Feed.id == Article.feed_id, isouter=True)
             .join(Story, Story.id == Article.story_id)
             .order_by(Article.first_seen, Article.id))
    if newest_first:
        query = query.order_by(None).order_by(Article.id.desc())
        if before is not None:
            query = query.where(Article.id < before)
        if limit is not None:
            query = query.limit(limit)
    if since is not None:
        query = query.where(Article.first_seen >= since)
    with store.session() as s:
        rows = s.execute(query).all()
    return [ArticleRow(
        article_id=a.id, story_id=a.story_id,
        feed=feed_name or (mask_url(feed_url) if feed_url else None),
        url=a.url, canonical_url=a.canonical_url, claimed_canonical=a.claimed_canonical,
        title=a.title, published=a.published, language=a.language,
        text_source=a.text_source, text=a.text, first_seen=a.first_seen, event_id=event_id,
    ) for a, feed_name, feed_url, event_id in rows]


# --- counts: status, /metrics ----------------------------------------------------------------


def feed_counts(store: Store) -> FeedCounts:
    """Polled feeds by state, and the paused ones (removed feeds are not counted)."""
    with store.engine.connect() as c:
        states = {state: int(n) for state, n in c.execute(
            select(Feed.state, func.count()).where(Feed.polling == "on").group_by(Feed.state))}
        paused = c.execute(select(func.count()).select_from(Feed)
                           .where(Feed.polling == "paused")).scalar()
    return FeedCounts(active=states.get("active", 0), failing=states.get("failing", 0),
                      disabled=states.get("disabled", 0), paused=int(paused or 0))


def delivery_counts(store: Store) -> DeliveryCounts:
    """The delivery queue by status (status, /metrics; deliver.py may reuse it)."""
    with store.engine.connect() as c:
        queue = {status: int(n) for status, n in c.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status))}
    return DeliveryCounts(pending=queue.get("pending", 0), sent=queue.get("sent", 0),
                          failed=queue.get("failed", 0))


def overview(store: Store, problems: int = 20) -> Overview:
    """What `monitor status` shows: feeds, the last poll, the delivery queue, the stored
    counts and the first ``problems`` feeds that are failing or disabled."""
    with store.engine.connect() as c:
        last = c.execute(select(func.max(Feed.last_polled))).scalar()
        failing = c.execute(select(Feed.name, Feed.url, Feed.error_count, Feed.last_error)
                            .where(Feed.state != "active", Feed.polling == "on")
                            .order_by(Feed.id).limit(problems)).all()
    return Overview(
        feeds=feed_counts(store), last_poll=last, deliveries=delivery_counts(store),
        counts=store.counts(),
        problems=tuple(FeedProblem(name or mask_url(url), n,
                                   None if error is None else shown(error))
                       for name, url, n, error in failing))


def _ago(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{max(1, round(seconds / 60))} minutes"


def feed_health(store: Store, now: datetime) -> list[HealthNote]:
    """Feeds failing, disabled, or silent for much longer than their usual cadence (the
    average gap between the polls that brought new items over the last 30 days)."""
    notes: list[HealthNote] = []
    with store.session() as s:
        feeds = s.execute(select(Feed).where(Feed.polling == "on").order_by(Feed.id)
                          ).scalars().all()
        recent = {row[0]: row[1:] for row in s.execute(
            select(Item.feed_id, func.count(func.distinct(Item.first_seen)),
                   func.min(Item.first_seen), func.max(Item.first_seen))
            .where(Item.first_seen >= now - timedelta(days=30)).group_by(Item.feed_id))}
        latest = {feed_id: when for feed_id, when in s.execute(
            select(Item.feed_id, func.max(Item.first_seen)).group_by(Item.feed_id))}
    for feed in feeds:
        url = mask_url(feed.url)  # shown in digests: never its credentials
        name = shown(feed.name) if feed.name else url
        if feed.state == "disabled":
            notes.append(HealthNote(name, url, f"disabled: {shown(feed.last_error or 'by hand')}"))
        elif feed.state == "failing":
            notes.append(HealthNote(name, url, f"failing: {feed.error_count} polls in a "
                                    f"row, last error: {shown(feed.last_error)}"))
        elif feed.id in latest and feed.last_polled is not None:
            polls, first, last = recent.get(feed.id, (0, None, None))
            usual = ((last - first).total_seconds() / (polls - 1)
                     if polls >= 3 and first and last else None)
            quiet = (now - _aware(latest[feed.id])).total_seconds()
            if usual and quiet > max(3 * usual, 2 * feed.interval, 3600):
                notes.append(HealthNote(name, url, f"silent for {_ago(quiet)} (new items "
                                        f"usually every {_ago(usual)})"))
    return notes


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hit_names(store: Store) -> set[tuple[str, str]]:
    """Every (watchlist, entry) the stored hits name (a filter's names are checked on it)."""
    with store.engine.connect() as c:
        return {(w, e) for w, e in c.execute(select(Hit.watchlist, Hit.entry).distinct())}


def feed_activity(store: Store, since: datetime) -> dict[int, int]:
    """New items per feed since ``since`` (the web's "articles per day")."""
    with store.engine.connect() as c:
        return {feed_id: n for feed_id, n in c.execute(
            select(Item.feed_id, func.count()).where(Item.first_seen >= since)
            .group_by(Item.feed_id))}

