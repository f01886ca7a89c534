"""The typed rows the store takes and gives: frozen dataclasses, so nothing above the store
sees an ORM object or a dictionary of columns.  ``as_json`` gives the CLI's ``--json``
objects (README "Commands"), which the web API shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.dedupe import Fingerprint
from monitor.display import mask_url, shown


def iso(value: datetime | None) -> str | None:
    """A stored time as the JSON output writes it (UTC, ``Z``)."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


@dataclass(frozen=True, slots=True)
class FeedRow:
    """A feed as stored: its settings, its polling state and its lease."""

    id: int
    url: str
    name: str | None
    interval: float
    full_text: bool
    language: str | None
    country: str | None
    tags: str  # space-separated
    state: str  # active | failing | disabled
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_polled: datetime | None
    last_status: int | None
    error_count: int
    last_error: str | None
    next_poll: datetime | None
    created: datetime
    lease_owner: str | None
    lease_until: datetime | None
    origin: str  # config | cli
    polling: str  # on | paused | removed
    kind: str  # rss | sitemap

    @property
    def shown_state(self) -> str:
        """What `feeds list` says: the poll's state while polled, else paused or removed."""
        return self.state if self.polling == "on" else self.polling

    def as_json(self) -> dict[str, Any]:
        """The `feeds list --json` object (the URL's credentials masked)."""
        return {
            "feed_id": self.id, "url": mask_url(self.url), "name": self.name, "kind": self.kind,
            "state": self.shown_state, "origin": self.origin,
            "last_polled": iso(self.last_polled), "last_status": self.last_status,
            "error_count": self.error_count,
            "last_error": None if self.last_error is None else shown(self.last_error),
            "next_poll": iso(self.next_poll),
        }


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One way a story reached us: the item's (or article's) URL, the feed, when published."""

    url: str
    feed: str | None  # the feed's name, or its masked URL
    published: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"url": self.url, "feed": self.feed, "published": iso(self.published)}


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """An article as stored, with the name of the feed that first brought it."""

    article_id: int
    story_id: int
    feed: str | None
    url: str
    canonical_url: str
    claimed_canonical: str | None
    title: str | None
    published: datetime | None
    language: str | None
    text_source: str  # page | feed
    text: str
    first_seen: datetime
    event_id: int | None = None  # the event its story belongs to (monitor.events)

    def as_json(self) -> dict[str, Any]:
        """The `articles --json` object."""
        return {
            "article_id": self.article_id, "story_id": self.story_id,
            "event_id": self.event_id, "feed": self.feed,
            "url": self.url, "canonical_url": self.canonical_url,
            "claimed_canonical": self.claimed_canonical, "title": self.title,
            "published": iso(self.published), "language": self.language,
            "text_source": self.text_source, "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class NewHit:
    """A watchlist entry found in an article, as the matcher and hits_from make it; the
    store adds its story, article and time."""

    watchlist: str
    entry: str
    kind: str
    name: str
    matched: str
    alias: str
    score: float
    start: int
    end: int
    snippet: str
    priority: str
    entry_version: str
    snippet_marks: str | None = None  # JSON [[start, end, watchlist, entry], ...]
    ambiguous: bool = False  # a shared alias: the mention may be another entry's
    found_by: str = "poll"  # poll | backfill
    notify: bool = True  # False: kept out of digests and alerts


@dataclass(frozen=True, slots=True)
class HitRow:
    """A stored hit with its story's title, URL and sources."""

    hit_id: int
    story_id: int
    watchlist: str
    entry: str
    kind: str
    name: str
    matched: str
    alias: str
    score: float
    priority: str
    ambiguous: bool
    title: str | None
    url: str
    sources: tuple[SourceRow, ...]
    published: datetime | None
    first_seen: datetime
    snippet: str
    snippet_marks: list[Any] | None  # the snippet's spans to highlight (None: not kept)
    found_by: str
    watchlist_version: str
    notify: bool
    event_id: int | None = None  # the event its story belongs to (monitor.events)
    start: int = 0  # where in title + text (digests weigh prominence)

    def as_json(self, *, marks: bool = False) -> dict[str, Any]:
        """The `hits --json` object; ``marks``: with ``snippet_marks`` (digests)."""
        row = {
            "hit_id": self.hit_id, "story_id": self.story_id, "watchlist": self.watchlist,
            "entry": self.entry, "kind": self.kind, "name": self.name,
            "matched": self.matched, "score": self.score, "title": self.title,
            "url": self.url, "sources": [s.as_json() for s in self.sources],
            "published": iso(self.published), "first_seen": iso(self.first_seen),
            "snippet": self.snippet, "found_by": self.found_by,
            "watchlist_version": self.watchlist_version, "notify": self.notify,
            "alias": self.alias, "priority": self.priority, "ambiguous": self.ambiguous,
            "event_id": self.event_id,
        }
        if marks:
            row["snippet_marks"] = self.snippet_marks
            row["start"] = self.start
        return row


@dataclass(frozen=True, slots=True)
class Counts:
    """Rows in the store's main tables (status, /metrics)."""

    feeds: int
    articles: int
    stories: int
    hits: int
    items: int

    def as_json(self) -> dict[str, int]:
        return {"feeds": self.feeds, "articles": self.articles, "stories": self.stories,
                "hits": self.hits, "items": self.items}


@dataclass(frozen=True, slots=True)
class FeedCounts:
    """Feeds by what they are doing: polled ones by state, and the paused ones."""

    active: int
    failing: int
    disabled: int
    paused: int


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """The delivery queue by status."""

    pending: int
    sent: int
    failed: int

    def as_json(self) -> dict[str, int]:
        return {"pending": self.pending, "sent": self.sent, "failed": self.failed}


@dataclass(frozen=True, slots=True)
class FeedProblem:
    """A polled feed that is not active: failing or disabled."""

    feed: str  # its name, or its masked URL
    errors: int
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        return {"feed": self.feed, "errors": self.errors, "last_error": self.last_error}


@dataclass(frozen=True, slots=True)
class Overview:
    """What `monitor status` shows (and /metrics exports, but the problems)."""

    feeds: FeedCounts
    last_poll: datetime | None
    deliveries: DeliveryCounts
    counts: Counts
    problems: tuple[FeedProblem, ...]

    def as_json(self) -> dict[str, Any]:
        """The `status --json` object."""
        f = self.feeds
        return {
            "feeds": {"ok": f.active, "failing": f.failing, "disabled": f.disabled,
                      "paused": f.paused},
            "last_poll": iso(self.last_poll), "deliveries": self.deliveries.as_json(),
            "counts": self.counts.as_json(),
            "problems": [p.as_json() for p in self.problems],
        }


@dataclass(frozen=True, slots=True)
class BackfillRunRow:
    """Where a re-matching backfill got to (the same command again resumes after it)."""

    key: str
    description: str
    last_article_id: int
    finished: bool
    started: datetime
    updated: datetime


@dataclass(frozen=True, slots=True)
class NewArticle:
    """Everything the pipeline learned about one new article, written in one transaction."""

    feed_id: int | None
    item_key: str | None
    item_url: str | None
    url: str
    canonical_url: str
    title: str | None
    author: str | None
    published: datetime | None
    language: str | None
    text_source: str
    text: str
    fingerprint: Fingerprint
    hits: Sequence[NewHit]
    page: bytes | None = None
    content_type: str | None = None
    packed_page: bytes | None = None  # the page already compressed (by a backfill worker)
    # An import whose only URL is its file path: the same text already stored (under any
    # URL) makes it a duplicate, not a new article of that story.
    same_text_is_duplicate: bool = False
    # The page's canonical link when it was on another site (so not used as the URL).
    claimed_canonical: str | None = None


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """What backfill reads back to match again (and re-extract, with the kept page)."""

    id: int
    story_id: int
    url: str
    title: str | None
    text: str
    published: datetime | None
    page: bytes | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    """What storing one article did."""

    article_id: int
    story_id: int
    new_story: bool
    new_hits: int
    duplicate: bool = False  # the article was already stored (another feed, same URL)
