"""Read-side views of the store for commands and digests: hits with their story's sources,
articles, feeds.  The dictionaries' keys are the stable JSON output of the CLI."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select

from monitor.digest import HealthNote
from monitor.display import mask_url, shown
from monitor.store import Store
from monitor.store.models import Article, DigestRun, Feed, Hit, Item, Story


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def feed_rows(store: Store) -> list[dict[str, Any]]:
    return [{
        "feed_id": f.id, "url": mask_url(f.url), "name": f.name,
        "state": f.state if f.polling == "on" else f.polling, "origin": f.origin,
        "last_polled": iso(f.last_polled), "last_status": f.last_status,
        "error_count": f.error_count,
        "last_error": None if f.last_error is None else shown(f.last_error),
        "next_poll": iso(f.next_poll),
    } for f in store.feeds()]


def sources(store: Store, story_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every (url, feed, published) that carried each story, oldest first."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not story_ids:
        return out
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
                out[story].append({"url": item_url or url, "feed": feed,
                                   "published": iso(item_pub or art_pub)})
    return out


def _page(query: Any, seen: Any, key: Any, before: tuple[datetime, int] | None,
          limit: int | None) -> Any:
    """Newest first, from just before ``before`` (the last (first_seen, id) of the previous
    page), ``limit`` rows: keyset paging on an indexed column, never OFFSET."""
    if before is not None:
        query = query.where(or_(seen < before[0], and_(seen == before[0], key < before[1])))
    query = query.order_by(None).order_by(seen.desc(), key.desc())
    return query if limit is None else query.limit(limit)


def hit_rows(store: Store, since: datetime | None = None, watchlist: str | None = None,
             entry: str | None = None, where: Sequence[ColumnElement[bool]] = (),
             marks: bool = False, *, newest_first: bool = False,
             before: tuple[datetime, int] | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
    """Hits with their story's title, URL and sources; ``where``: more conditions (digests);
    ``marks``: with ``snippet_marks`` too (the snippet's spans to highlight, for digests;
    None for hits stored before they were kept).  ``newest_first`` (with ``before`` and
    ``limit``): one page of a listing, for the web API."""
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
    found = [{
        "hit_id": hit.id, "story_id": hit.story_id, "watchlist": hit.watchlist,
        "entry": hit.entry, "kind": hit.kind, "name": hit.name, "matched": hit.matched,
        "score": hit.score, "title": article_title or story_title, "url": url,
        "sources": by_story.get(hit.story_id, []), "published": iso(published),
        "first_seen": iso(hit.first_seen), "snippet": hit.snippet,
        "found_by": hit.found_by, "watchlist_version": hit.entry_version, "notify": hit.notify,
        "alias": hit.alias, "priority": hit.priority, "event_id": event_id,
    } for hit, story_title, url, article_title, published, event_id in rows]
    if marks:
        for row, (hit, *_) in zip(found, rows, strict=True):
            row["snippet_marks"] = (None if hit.snippet_marks is None
                                    else json.loads(hit.snippet_marks))
            row["start"] = hit.start  # where in title + text (digests weigh prominence)
    return found


def article_rows(store: Store, since: datetime | None = None, *, newest_first: bool = False,
                 before: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Articles as stored; ``newest_first`` (with ``before``, an article id, and
    ``limit``): one page of a listing, newest stored first, for the web API."""
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
    return [{
        "article_id": a.id, "story_id": a.story_id, "event_id": event_id,
        "feed": feed_name or (mask_url(feed_url) if feed_url else None),
        "url": a.url, "canonical_url": a.canonical_url,
        "claimed_canonical": a.claimed_canonical, "title": a.title,
        "published": iso(a.published), "language": a.language, "text_source": a.text_source,
        "text": a.text,
    } for a, feed_name, feed_url, event_id in rows]


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
    from datetime import UTC

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


def digest_bodies(store: Store, run_id: int) -> tuple[str, str] | None:
    """A digest run's stored (html, text), as it was sent; None if there is no such run."""
    with store.engine.connect() as c:
        row = c.execute(select(DigestRun.body_html, DigestRun.body_text)
                        .where(DigestRun.id == run_id)).first()
    return None if row is None else (row[0], row[1])
