"""The one path every article takes, shared by the daemon, `poll --once` and backfill:

    feed -> fetch -> parse -> seen? -> fetch page -> extract -> match -> dedupe -> store

A failing feed or page is recorded on its row (state, status, error, back-off) and the
poll goes on; only what the store says is new goes further.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from monitor.cancel import Cancel
from monitor.config import Config, FeedConfig
from monitor.dates import load_parser
from monitor.dedupe import canonical_url, fingerprint, item_key
from monitor.display import mask_url, shown
from monitor.extract import Extracted, decode_page, extract_page, from_feed
from monitor.feeds import adapt_interval, body_hash, next_poll
from monitor.fetch import Fetcher, Response
from monitor.language import load_model
from monitor.match import Matcher, Mention
from monitor.query.rulehits import RuleBook
from monitor.sites import same_site
from monitor.snippets import excerpt
from monitor.sources.base import FeedItem, Items, Reading, Source, fetch_with, sources
from monitor.store import DatabaseError, FeedRow, NewArticle, NewHit, Store
from monitor.watchlist import Watchlist

log = logging.getLogger("monitor.pipeline")
T = TypeVar("T")

PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Summary:
    feeds_polled: int = 0
    not_modified: int = 0
    failed: int = 0
    articles_new: int = 0
    stories_new: int = 0
    hits_new: int = 0
    pages_failed: int = 0
    alerts: int = 0
    delivered: int = 0
    errors: list[str] = field(default_factory=list)
    deliveries: list[tuple[str, str]] = field(default_factory=list)  # (channel, outcome)
    delivery_errors: list[tuple[str, str]] = field(default_factory=list)  # (channel, error)

    def add(self, other: Summary) -> None:
        for name in ("feeds_polled", "not_modified", "failed", "articles_new", "stories_new",
                     "hits_new", "pages_failed", "alerts", "delivered"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors
        self.deliveries += other.deliveries
        self.delivery_errors += other.delivery_errors

    def line(self) -> str:
        return (f"feeds polled {self.feeds_polled}, not modified {self.not_modified}, "
                f"failed {self.failed}; articles new {self.articles_new}; "
                f"stories new {self.stories_new}; hits new {self.hits_new}"
                + (f"; alerts {self.alerts}" if self.alerts else "")
                + (f"; delivered {self.delivered}" if self.delivered else ""))


@dataclass(frozen=True)
class Analyser:
    """The pure middle's tools: the matcher and the watchlist entries' versions.  Built once
    per process (backfill's workers build their own from the same watchlists)."""

    matcher: Matcher
    versions: dict[tuple[str, str], str]
    rules: RuleBook | None = None  # the watchlists' rules (saved queries), if any

    @classmethod
    def create(cls, watchlists: Sequence[Watchlist]) -> Analyser:
        """The matcher comes from the cache of compiled matchers when it holds one for
        these watchlists (monitor.matchcache): a worker starts in a fraction of a second."""
        from monitor.matchcache import matcher_for

        versions = {(w.name, e.id): e.version for w in watchlists for e in w.entries}
        rules = RuleBook(watchlists)
        return cls(matcher_for(watchlists), versions, rules or None)

    def hits(self, title: str | None, text: str, *, lang: str | None = None,
             country: str | None = None, feeds: Sequence[str] = ()) -> list[NewHit]:
        """The entries' hits, then the rules' (lang, country, feeds: what a rule's lang:,
        country: and feed: compare with)."""
        doc, body_start = document(title, text)
        mentions = self.matcher.match(doc)
        found = hits_from(mentions, doc, self.versions, body_start)
        if self.rules:
            found += self.rules.hits(doc, len(title) if title else 0, mentions, lang=lang,
                                     country=country, feeds=feeds)
        return found


@dataclass
class Context:
    """What the stages need, passed in explicitly."""

    config: Config
    store: Store
    analyser: Analyser
    clock: Callable[[], datetime] = utc_now
    rng: random.Random = field(default_factory=random.Random)
    # Pages being fetched in this process, by canonical URL: a second feed carrying the same
    # link waits for the first instead of fetching it again.
    inflight: dict[str, asyncio.Event] = field(default_factory=dict)
    # metrics: observe("feed" | "page" | "extract", seconds)
    observe: Callable[[str, float], None] | None = None
    cancel: Cancel = field(default_factory=Cancel)  # the daemon's deadline (after SIGTERM)
    # The CPU-bound stages (feed parsing, extraction, matching) run in this one thread, in
    # turn (the matcher's caches see one caller at a time).
    worker: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        1, thread_name_prefix="monitor-cpu"))

    async def db(self, call: Callable[..., T], *args: Any) -> T:
        """A store call from the poll's event loop.  On PostgreSQL it runs in a thread, so
        fetches go on (and their deadlines do not expire) during the round trip; SQLite is
        local and serialises writers, and threads only cost it time and memory."""
        if self.store.dialect == "sqlite":
            return call(*args)
        return await asyncio.to_thread(call, *args)

    async def cpu(self, call: Callable[..., T], *args: Any, timed: str | None = None,
                  **kwargs: Any) -> T:
        """CPU-bound work from the poll's event loop, in ``worker``: the loop goes on reading
        answers meanwhile (the interpreter hands it the GIL every few milliseconds), so a
        fetch's deadline does not expire because other feeds' articles kept the loop busy
        (in bench/soak.py healthy feeds timed out by the hundred, then backed off).
        ``timed``: the metric that gets the call's own time."""
        def timed_call() -> T:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                if timed is not None:
                    self.timed(timed, started)

        return await asyncio.get_running_loop().run_in_executor(self.worker, timed_call)

    def timed(self, kind: str, started: float) -> None:
        if self.observe is not None:
            self.observe(kind, time.perf_counter() - started)

    @classmethod
    def create(cls, config: Config, store: Store, watchlists: Sequence[Watchlist],
               clock: Callable[[], datetime] = utc_now) -> Context:
        load_model()  # the language detector and dateparser load in seconds, once: now,
        load_parser()  # not on the event loop while requests are in flight
        return cls(config, store, Analyser.create(watchlists), clock)


def ingest(ctx: Context, feeds: Sequence[FeedRow]) -> Summary:
    """Poll these feeds and store what is new; delivery is the caller's (scheduler.cycle).
    Raises Cancelled if ``ctx.cancel`` is set meanwhile (what was stored stays)."""
    return asyncio.run(poll(ctx, feeds))


# --- pure middle ----------------------------------------------------------------------------


def document(title: str | None, text: str) -> tuple[str, int]:
    """What is matched: the title, a blank line, the text (offsets of hits are into this),
    and where the text after the title starts."""
    if not title:
        return text, 0
    if text.startswith(title):
        return text, len(title)
    return f"{title}\n\n{text}", len(title) + 2


def hits_from(mentions: Sequence[Mention], doc: str, versions: dict[tuple[str, str], str],
              body_start: int = 0) -> list[NewHit]:
    """One hit per (watchlist, entry): its first mention in the text (in the title if the
    text has none), with the sentence around it as the snippet and, as ``snippet_marks``
    (JSON), the matcher's spans of every mention shown in it: [start, end, watchlist,
    entry], relative to the snippet (a digest highlights those, and only those).  A
    mention of a shared alias (``ambiguous``) stays marked as such on its hit."""
    first: dict[tuple[str, str], Mention] = {}
    for m in mentions:
        key = (m.watchlist, m.entry)
        if key not in first or (first[key].start < body_start <= m.start):
            first[key] = m
    spans = [(m.start, m.end) for m in mentions]
    hits = []
    for m in first.values():
        text, places = excerpt(doc, m.start, m.end, spans)
        marks = [[*place, other.watchlist, other.entry]
                 for place, other in zip(places, mentions, strict=True) if place is not None]
        hits.append(NewHit(
            watchlist=m.watchlist, entry=m.entry, kind=m.kind, name=m.name, matched=m.text,
            alias=m.alias, score=m.score, start=m.start, end=m.end, snippet=text,
            snippet_marks=json.dumps(marks), priority=m.priority, ambiguous=m.ambiguous,
            entry_version=versions.get((m.watchlist, m.entry), "")))
    return hits


def analyse(analyser: Analyser, extracted: Extracted, *, url: str, feed_id: int | None,
            item: FeedItem | None, key: str | None, page: bytes | None,
            content_type: str | None = None, feed: FeedRow | None = None) -> NewArticle:
    """Everything the store needs about one article: match, fingerprint, canonical URL.
    The page's canonical link counts only on the site of ``url`` (where the page was
    fetched from): elsewhere it is recorded, and the page keeps its own URL."""
    claimed = extracted.canonical_url
    own = claimed is None or same_site(claimed, url)
    return NewArticle(
        feed_id=feed_id, item_key=key, item_url=item.link if item else url, url=url,
        canonical_url=canonical_url(claimed if claimed and own else url),
        claimed_canonical=None if own else claimed,
        title=extracted.title, author=extracted.author,
        published=extracted.published or (item.published if item else None),
        language=extracted.language, text_source=extracted.source, text=extracted.text,
        fingerprint=fingerprint(extracted.text),
        hits=analyser.hits(extracted.title, extracted.text, lang=extracted.language,
                           **feed_meta(feed)),
        page=page if extracted.source == "page" else None, content_type=content_type,
    )


def feed_meta(feed: FeedRow | None) -> dict[str, Any]:
    """What rules' country: and feed: compare with: the feed's country, name and id."""
    if feed is None:
        return {}
    return {"country": feed.country, "feeds": [n for n in (feed.name, str(feed.id)) if n]}


# --- feeds ----------------------------------------------------------------------------------


def sync_feeds(store: Store, feeds: Sequence[FeedConfig], now: datetime) -> None:
    """Make the store's feeds include the configured ones (settings from the config win;
    a feed paused by hand stays paused), and remove those the config added and no longer
    lists (their articles and hits stay; feeds added by hand are the user's to remove)."""
    for feed in feeds:
        store.add_feed(feed.url, now, origin="config", name=feed.name,
                       interval=feed.interval, full_text=feed.full_text,
                       language=feed.language, country=feed.country, tags=" ".join(feed.tags))
    for gone in store.remove_unlisted(f.url for f in feeds):
        log.info("feed %d removed: no longer in the config (%s); its articles and hits stay",
                 gone.id, gone.name or gone.url)


class FeedStates:
    """Feeds' new states, written in batches: one transaction per feed was a third of a
    poll of unchanged feeds.  A crash loses at most a batch of states, and those feeds are
    polled again (their items are stored already, so nothing is duplicated)."""

    def __init__(self, store: Store, batch: int = 64) -> None:
        self.store, self.batch = store, batch
        self.pending: list[tuple[int, dict[str, Any]]] = []

    def set(self, feed_id: int, **fields: Any) -> None:
        """The feed's state after a poll; this also releases its lease."""
        self.pending.append((feed_id, {**fields, "lease_owner": None, "lease_until": None}))
        if len(self.pending) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.store.update_feeds(self.pending)
            self.pending = []


async def poll(ctx: Context, feeds: Sequence[FeedRow]) -> Summary:
    """Poll these feeds concurrently (within the fetch limits) and store what is new."""
    summary = Summary()
    states = FeedStates(ctx.store)
    failure: BaseException | None = None
    try:
        async with Fetcher(ctx.config.fetch) as fetcher:
            # Every feed finishes or fails on its own; a database error fails the cycle once
            # all are done (what they stored stays; the rest is retried by the next cycle).
            # The daemon's deadline cancels them all (Cancelled; the same holds).
            work = asyncio.gather(*(_guarded(ctx, fetcher, states, f) for f in feeds),
                                  return_exceptions=True)
            for result in await ctx.cancel.run(work):
                if isinstance(result, BaseException):
                    failure = failure or result
                else:
                    summary.add(result)
    finally:
        states.flush()
    if failure is not None:
        raise failure
    return summary


async def _guarded(ctx: Context, fetcher: Fetcher, states: FeedStates, feed: FeedRow
                   ) -> Summary:
    """One feed's poll; a bug that one feed's content triggers is that feed's failure (on
    its row, backed off), not the cycle's.  Database errors still end the cycle: its
    unfinished work is retried by the next one, and each article is one transaction."""
    try:
        return await _poll_feed(ctx, fetcher, states, feed)
    except (DatabaseError, asyncio.CancelledError):
        raise
    except Exception as exc:
        log.exception("feed %s: unexpected %s", mask_url(feed.url), type(exc).__name__)
        summary = Summary(feeds_polled=1)
        response = Response(url=feed.url, final_url=feed.url,
                            error=f"unexpected {type(exc).__name__}: {exc}"[:500])
        _failure(ctx, states, feed, response, summary)
        return summary


def _failure(ctx: Context, states: FeedStates, feed: FeedRow, response: Response,
             summary: Summary) -> None:
    now = ctx.clock()
    summary.failed += 1
    summary.errors.append(shown(f"{feed.url}: {response.error}"))  # credentials masked
    if response.status == 410:
        states.set(feed.id, state="disabled", last_polled=now, last_status=410,
                   last_error="410 Gone: the publisher removed this feed",
                   error_count=feed.error_count + 1, next_poll=None)
        return
    errors = feed.error_count + 1
    states.set(
        feed.id, state="failing", last_polled=now, last_status=response.status,
        last_error=response.error, error_count=errors,
        next_poll=next_poll(now, feed.interval, errors, response.retry_after, ctx.rng))


async def _poll_feed(ctx: Context, fetcher: Fetcher, states: FeedStates, feed: FeedRow
                     ) -> Summary:
    """One feed's poll: a conditional GET of its document, read by the source of its
    kind (monitor.sources), then its new items fetched and stored."""
    summary = Summary(feeds_polled=1)
    source = sources().get(feed.kind)
    if source is None:
        response = Response(url=feed.url, final_url=feed.url, error=(
            f"unknown feed kind {feed.kind!r}: expected one of {', '.join(sorted(sources()))}"))
        _failure(ctx, states, feed, response, summary)
        return summary
    started = time.perf_counter()
    response = await fetcher.get(feed.url, etag=feed.etag, last_modified=feed.last_modified,
                                 accept=source.accept)
    ctx.timed("feed", started)
    if not response.ok and not response.not_modified:
        _failure(ctx, states, feed, response, summary)
        return summary
    changes: dict[str, Any] = {}
    if response.moved_to:
        changes["url"] = response.moved_to
    digest = body_hash(response.body) if response.ok else feed.body_hash
    new, listed = 0, 1  # not modified: nothing new (the feed may be polled less often)
    validators = {"etag": response.headers.get("etag") or feed.etag,
                  "last_modified": response.headers.get("last-modified") or feed.last_modified,
                  "body_hash": digest}
    if response.not_modified or digest == feed.body_hash:
        summary.not_modified += 1
    else:
        read = await _read(ctx, fetcher, source, feed, response)
        if not read.items and read.problem:
            response.error = read.problem
            _failure(ctx, states, feed, response, summary)
            return summary
        changes["last_error"] = read.problem
        if not read.conditional:  # asked whole next time (a sitemap index's children)
            validators = {"etag": None, "last_modified": None, "body_hash": None}
        new, listed = await _new_items(ctx, fetcher, feed, read.items, summary)
    now = ctx.clock()
    previous = (feed.next_poll - feed.last_polled).total_seconds() if (
        feed.next_poll and feed.last_polled and feed.next_poll > feed.last_polled) else None
    delay = adapt_interval(feed.interval, previous, new, listed)
    states.set(
        feed.id, state="active", last_polled=now, last_status=response.status, error_count=0,
        next_poll=next_poll(now, delay, 0, None, ctx.rng), **validators, **changes)
    return summary


async def _read(ctx: Context, fetcher: Fetcher, source: Source, feed: FeedRow,
                response: Response) -> Items:
    """The source's reading of a fetched document; the documents it names (a sitemap
    index's children) come through the same Fetcher, and parsing runs in ``ctx.worker``."""
    async def run(call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return await ctx.cpu(call, *args, **kwargs)

    reading = Reading(
        url=response.final_url, content_type=response.headers.get("content-type"),
        now=ctx.clock(), max_items=ctx.config.fetch.max_items,
        max_bytes=ctx.config.fetch.max_bytes, fetch=fetch_with(fetcher, source.accept),
        run=run, language=feed.language)
    return await source.read(response.body, reading)


async def _new_items(ctx: Context, fetcher: Fetcher, feed: FeedRow, items: Sequence[FeedItem],
                     summary: Summary) -> tuple[int, int]:
    """Fetch and store the items this feed has not brought before; (new, listed)."""
    keyed = {item_key(i.guid, i.link, i.title, i.summary): i for i in reversed(items)}
    unseen = await ctx.db(ctx.store.unseen, feed.id, keyed)
    await asyncio.gather(*(_item(ctx, fetcher, feed, key, keyed[key], summary)
                           for key in keyed if key in unseen))
    return len(unseen), len(keyed)


async def _item(ctx: Context, fetcher: Fetcher, feed: FeedRow, key: str, item: FeedItem,
                summary: Summary) -> None:
    if not item.link:
        async with fetcher.pages:
            await _fetch_and_store(ctx, fetcher, feed, key, item, summary)
        return
    canonical = canonical_url(item.link)
    while canonical in ctx.inflight:
        await ctx.inflight[canonical].wait()
    ctx.inflight[canonical] = asyncio.Event()  # before any await: one fetch per URL
    try:
        known = await ctx.db(ctx.store.article_id_by_url, canonical)
        if known is not None:  # the same article from another feed: one more source
            await ctx.db(ctx.store.add_source, feed.id, key, item.link, item.published, known,
                         ctx.clock())
            return
        async with fetcher.pages:
            await _fetch_and_store(ctx, fetcher, feed, key, item, summary)
    finally:
        ctx.inflight.pop(canonical).set()


async def _fetch_and_store(ctx: Context, fetcher: Fetcher, feed: FeedRow, key: str,
                           item: FeedItem, summary: Summary) -> None:
    link = item.link
    extracted, page = None, None
    if link and feed.full_text:
        started = time.perf_counter()
        page = await fetcher.get(link, accept=PAGE_ACCEPT)
        ctx.timed("page", started)
        if page.ok and not is_page(page.headers.get("content-type")):
            page.error = f"not a web page ({page.headers['content-type'].split(';')[0]})"
        if page.ok:
            text = decode_page(page.body, page.headers.get("content-type"))
            extracted = await ctx.cpu(extract_page, text, page.final_url,
                                      search_date=item.published is None, timed="extract")
        else:
            summary.pages_failed += 1
            summary.errors.append(shown(f"{link}: {page.error}"))
    if extracted is None:
        extracted = from_feed(item.title, item.summary, item.content, item.author,
                              item.published, feed.language or item.language)
        if not extracted.text:
            await ctx.db(ctx.store.add_source, feed.id, key, link, item.published, None,
                         ctx.clock())
            return
    url = page.final_url if page is not None and page.ok else (link or feed.url)
    new = await ctx.cpu(
        analyse, ctx.analyser, extracted, url=url, feed_id=feed.id, item=item, key=key,
        feed=feed,
        page=page.body if page is not None else None,
        content_type=page.headers.get("content-type") if page is not None else None)
    if not link and extracted.canonical_url is None:  # no URL: one article per item
        new = _without_url(new, feed, key)
    stored = await ctx.db(ctx.store.add_article, new, ctx.clock())
    if not stored.duplicate:
        summary.articles_new += 1
        summary.stories_new += int(stored.new_story)
        summary.hits_new += stored.new_hits


def is_page(content_type: str | None) -> bool:
    """Whether a body is worth extracting: HTML, XHTML, text, or unlabelled (sniffed by the
    parser); an image, PDF or archive is not, and the feed's own text stands in."""
    if not content_type:
        return True
    kind = content_type.split(";")[0].strip().lower()
    return kind.startswith("text/") or kind in ("application/xhtml+xml", "application/xml",
                                                "application/octet-stream", "")


def _without_url(new: NewArticle, feed: FeedRow, key: str) -> NewArticle:
    return replace(new, canonical_url=f"{canonical_url(feed.url)}#{key}")
