"""Storage (SQLAlchemy 2, Alembic migrations; engine and SQL in db.py): SQLite in WAL mode by
default, PostgreSQL to scale out.  The store answers "what is new?": only new items,
articles, stories and hits come back from it, and everything one article brings is written
in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor.store import db, trends
from monitor.store.db import (
    StoreError,
    check_schema,
    compress_page,
    decompress_page,
    make_engine,
    upgrade,
)

__all__ = ["NewArticle", "Store", "StoreError", "Stored", "StoredArticle", "compress_page",
           "decompress_page", "make_engine", "upgrade"]
from monitor.dedupe import SAME_STORY, Fingerprint, similarity
from monitor.feedurl import feed_url
from monitor.store.models import Article, BackfillRun, Feed, Hit, Item, Page, Story


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
    hits: Sequence[dict[str, Any]]  # Hit columns but story/article ids
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
    article_id: int
    story_id: int
    new_story: bool
    new_hits: int
    duplicate: bool = False  # the article was already stored (another feed, same URL)


def story_keys(fp: Fingerprint) -> list[int]:
    """What makes two articles one story's candidates: the same content hash or a shared
    band key; as signed 64-bit lock keys, ascending."""
    digest = hashlib.blake2b(fp.content.encode(), digest_size=8).digest()
    return sorted({int.from_bytes(digest, "little", signed=True), *fp.bands})


class Store:
    def __init__(self, url: str, *, migrate: bool = True, readonly: bool = False) -> None:
        """``readonly``: for commands that only look; the database must exist at this
        version's schema (StoreError says what to run), and is never written."""
        self.url = url
        self.engine = make_engine(url, readonly=readonly)
        if migrate and not readonly:
            upgrade(self.engine)
        else:
            try:
                check_schema(self.engine)
            except StoreError:
                self.engine.dispose()
                raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        dialect_insert = sqlite_insert if self.engine.dialect.name == "sqlite" else pg_insert
        self._insert_hit = dialect_insert(Hit).on_conflict_do_nothing().returning(Hit.id)
        self.trends = trends.Keeper(self.engine.dialect.name)  # daily counts (trends.timezone)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # --- feeds -------------------------------------------------------------------------------

    def add_feed(self, url: str, now: datetime, *, origin: str = "cli",
                 **fields: Any) -> tuple[Feed, bool]:
        """The feed with this URL (normalised: feedurl.feed_url), added if new (True) or
        updated with ``fields``.  A removed feed added again is polled again, on behalf of
        ``origin``; a paused one stays paused.  The config claims the feeds it lists."""
        url = feed_url(url)
        with self.session() as s:
            feed = s.scalar(select(Feed).where(Feed.url == url))
            if feed is not None:
                for key, value in fields.items():
                    if value is not None:
                        setattr(feed, key, value)
                if feed.polling == "removed":
                    feed.polling, feed.origin, feed.next_poll = "on", origin, now
                elif origin == "config":
                    feed.origin = origin
                return feed, False
            feed = Feed(url=url, created=now, next_poll=now, state="active", error_count=0,
                        origin=origin, polling="on",
                        **{k: v for k, v in fields.items() if v is not None})
            s.add(feed)
            s.flush()
            return feed, True

    def feeds(self) -> list[Feed]:
        with self.session() as s:
            return list(s.scalars(select(Feed).order_by(Feed.id)))

    def feed(self, ref: str) -> Feed | None:
        """A feed by id or URL (any spelling of it)."""
        with self.session() as s:
            if ref.strip().isdigit():
                number = int(ref)
                return s.get(Feed, number) if number < 2**31 else None
            try:
                url = feed_url(ref)
            except ValueError:
                return None
            return s.scalar(select(Feed).where(Feed.url == url))

    def set_polling(self, feed_id: int, polling: str, now: datetime) -> None:
        """Pause, resume or remove a feed ("paused", "on", "removed").  Resuming polls it
        at once, and a feed disabled by its server (410) is given another chance."""
        values: dict[str, Any] = {"polling": polling}
        if polling == "on":
            values.update(next_poll=now)
            with self.engine.begin() as c:
                c.execute(update(Feed).where(Feed.id == feed_id, Feed.state == "disabled")
                          .values(state="active", error_count=0))
        with self.engine.begin() as c:
            c.execute(update(Feed).where(Feed.id == feed_id).values(values))

    def remove_unlisted(self, urls: Iterable[str]) -> list[Feed]:
        """Remove the feeds the config added and no longer lists (their rows, articles and
        hits stay); the ones removed."""
        listed = {feed_url(u) for u in urls}
        with self.session() as s:
            gone = [f for f in s.scalars(select(Feed).where(
                Feed.origin == "config", Feed.polling != "removed").order_by(Feed.id))
                if f.url not in listed]
            for feed in gone:
                feed.polling = "removed"
            return gone

    def due_feeds(self, now: datetime) -> list[Feed]:
        with self.session() as s:
            return list(s.scalars(
                select(Feed).where(Feed.state != "disabled", Feed.polling == "on",
                                   (Feed.next_poll.is_(None)) | (Feed.next_poll <= now))
                .order_by(Feed.next_poll, Feed.id)))

    def claim_feeds(self, now: datetime, owner: str, lease: timedelta, limit: int,
                    due_by: datetime | None = None) -> list[Feed]:
        """Due feeds no other replica holds, leased to ``owner`` until now + lease (the
        poll's state update releases them).  On PostgreSQL the due rows are locked with
        FOR UPDATE SKIP LOCKED, so replicas claiming at once get different feeds; SQLite
        serialises the statement.  A feed ``owner`` itself still holds is left from a cycle
        that failed (the database went away): one owner polls one cycle at a time, so it is
        claimed again at once instead of at the lease's end.  ``due_by``: only feeds due by
        then (a pass over what was due when it began, so that it ends under load)."""
        due_by = due_by or now
        due = (select(Feed.id).where(
            Feed.state != "disabled", Feed.polling == "on",
            or_(Feed.next_poll.is_(None), Feed.next_poll <= due_by),
            or_(Feed.lease_until.is_(None), Feed.lease_until <= now, Feed.lease_owner == owner))
            .order_by(Feed.next_poll, Feed.id).limit(limit))
        if self.engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claim = (update(Feed).where(Feed.id.in_(due.scalar_subquery()))
                 .values(lease_owner=owner, lease_until=now + lease).returning(Feed))
        with self.session() as s:
            feeds = list(s.scalars(claim, execution_options={"synchronize_session": False}))
        return sorted(feeds, key=lambda f: (f.next_poll or now, f.id))

    def lease_owners(self, now: datetime) -> list[str]:
        with self.engine.connect() as c:
            return list(c.scalars(select(Feed.lease_owner).distinct().where(
                Feed.lease_owner.is_not(None), Feed.lease_until > now)))

    def release_leases(self, owners: Sequence[str]) -> int:
        """Give back the feeds these (dead) replicas held."""
        if not owners:
            return 0
        with self.engine.begin() as c:
            result = c.execute(update(Feed).where(Feed.lease_owner.in_(list(owners)))
                               .values(lease_owner=None, lease_until=None))
            return int(result.rowcount or 0)

    def update_feed(self, feed_id: int, **fields: Any) -> None:
        self.update_feeds([(feed_id, fields)])

    def update_feeds(self, updates: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """Several feeds' new state in one transaction (a poll writes them in batches)."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        with self.engine.begin() as c:
            for feed_id, fields in updates:
                if "url" in fields:
                    fields = {**fields, "url": feed_url(fields["url"])}
                if "url" in fields and c.scalar(select(Feed.id).where(
                        Feed.url == fields["url"], Feed.id != feed_id)) is not None:
                    # a permanent redirect to a URL another feed already has: keep ours
                    fields = {k: v for k, v in fields.items() if k != "url"}
                if not fields:
                    continue
                params = {f"p_{k}": v for k, v in fields.items()}
                groups.setdefault(tuple(sorted(fields)), []).append({"p_id": feed_id, **params})
            for keys, rows in groups.items():
                c.execute(db.update_feed(keys), rows)

    # --- articles ----------------------------------------------------------------------------

    def unseen(self, feed_id: int, keys: Iterable[str]) -> set[str]:
        """The item keys this feed has not brought before (checked before any page fetch)."""
        keys = list(dict.fromkeys(keys))
        seen: set[str] = set()
        with self.engine.connect() as c:
            for i in range(0, len(keys), 500):
                seen.update(c.scalars(db.SEEN_KEYS, {"feed": feed_id, "keys": keys[i:i + 500]}))
        return set(keys) - seen

    def article_id_by_url(self, canonical_url: str) -> int | None:
        with self.engine.connect() as c:
            found = c.execute(db.ARTICLE_BY_URL, {"url": canonical_url}).first()
            return None if found is None else int(found.id)

    def article_id_by_hash(self, content: str) -> int | None:
        with self.engine.connect() as c:
            found = c.execute(db.ARTICLE_BY_HASH, {"hash": content}).first()
            return None if found is None else int(found.id)

    def add_source(self, feed_id: int, key: str, url: str | None, published: datetime | None,
                   article_id: int | None, now: datetime) -> bool:
        """Record that a feed carried an item (an already stored article, or none)."""
        try:
            with self.session() as s:
                s.add(Item(feed_id=feed_id, key=key, url=url, published=published,
                           article_id=article_id, first_seen=now))
            return True
        except IntegrityError:
            return False  # another replica recorded it first

    def add_article(self, new: NewArticle, now: datetime) -> Stored:
        """Store an article with its item, story, fingerprint, page and hits, atomically."""
        try:
            with self.engine.begin() as c:
                self._serialise(c, [new])
                stored = self._add_article(c, new, now)
                self.trends.flush(c)
                return stored
        except IntegrityError:
            # Another worker stored the same URL (or item) between our check and this write.
            existing = self.article_id_by_url(new.canonical_url)
            if existing is None:
                raise
            if new.feed_id is not None and new.item_key is not None:
                self.add_source(new.feed_id, new.item_key, new.item_url, new.published,
                                existing, now)
            with self.session() as s:
                story = s.scalar(select(Article.story_id).where(Article.id == existing))
            return Stored(existing, int(story or 0), False, 0, duplicate=True)

    def add_articles(self, batch: Sequence[NewArticle], now: datetime) -> list[Stored]:
        """Several articles in one transaction (backfill's batches); if another writer got
        in the way, one transaction per article instead."""
        try:
            with self.engine.begin() as c:
                self._serialise(c, batch)
                stored = [self._add_article(c, new, now) for new in batch]
                self.trends.flush(c)
                return stored
        except IntegrityError:
            return [self.add_article(new, now) for new in batch]

    @staticmethod
    def _serialise(c: Connection, batch: Sequence[NewArticle]) -> None:
        """Let no other writer look for or make these articles' stories until this
        transaction ends, so copies stored at the same moment (feeds polled together,
        replicas) join one story, as they do one after the other.  Called first in the
        transaction: SQLite takes its write lock now rather than at the first write (the
        story is looked for before it); PostgreSQL locks each fingerprint key of the article
        (or, for a batch, all story assignment), and under READ COMMITTED the queries after
        the lock see what the lock's last holder committed."""
        if c.dialect.name == "sqlite":
            c.exec_driver_sql("BEGIN IMMEDIATE")
        elif len(batch) == 1:
            c.execute(db.LOCK_STORY_KEYS, {"keys": story_keys(batch[0].fingerprint)})
        elif batch:
            c.execute(db.LOCK_ALL_STORIES)

    def _add_article(self, c: Connection, new: NewArticle, now: datetime) -> Stored:
        # Prebuilt Core statements: a third of the ORM's cost per article.
        existing = c.execute(db.ARTICLE_BY_URL, {"url": new.canonical_url}).first()
        item = None
        if new.feed_id is not None and new.item_key is not None:
            item = {"feed_id": new.feed_id, "key": new.item_key, "url": new.item_url,
                    "published": new.published, "first_seen": now}
        if existing is not None:
            if item is not None:
                c.execute(db.INSERT_ITEM, {**item, "article_id": existing.id})
            return Stored(existing.id, existing.story_id, False, 0, duplicate=True)
        if new.same_text_is_duplicate:
            same = c.execute(db.ARTICLE_BY_HASH, {"hash": new.fingerprint.content}).first()
            if same is not None:
                return Stored(same.id, same.story_id, False, 0, duplicate=True)
        story_id = self._find_story(c, new.fingerprint)
        new_story = story_id is None
        if story_id is None:
            story_id = c.execute(db.INSERT_STORY, {"title": new.title, "first_seen": now,
                                                 "article_count": 1}).scalar_one()
        else:
            c.execute(db.BUMP_STORY, {"story": story_id})
        article_id = c.execute(db.INSERT_ARTICLE, {
            "story_id": story_id, "feed_id": new.feed_id, "url": new.url,
            "canonical_url": new.canonical_url, "claimed_canonical": new.claimed_canonical,
            "title": new.title, "author": new.author,
            "published": new.published, "language": new.language,
            "text_source": new.text_source, "text": new.text,
            "content_hash": new.fingerprint.content, "signature": new.fingerprint.signature,
            "first_seen": now}).scalar_one()
        if item is not None:
            c.execute(db.INSERT_ITEM, {**item, "article_id": article_id})
        if new.fingerprint.bands:
            c.execute(db.INSERT_BAND, [{"key": key, "article_id": article_id}
                                     for key in new.fingerprint.bands])
        if new.page is not None or new.packed_page is not None:
            body = new.packed_page or compress_page(new.page or b"")
            c.execute(db.INSERT_PAGE, {"article_id": article_id, "url": new.url,
                                       "content_type": new.content_type, "body": body,
                                       "fetched": now})
        new_hits = self._add_hits(c, story_id, article_id, new.hits, now, new_story)
        self.trends.note(c, article_id, story_id, new.published, now, new.hits)
        return Stored(article_id, story_id, new_story, new_hits)

    def _find_story(self, c: Connection, fp: Fingerprint) -> int | None:
        """The story of the stored article most like this one, if alike enough."""
        same_text = c.execute(db.STORY_BY_HASH, {"hash": fp.content}).scalar()
        if same_text is not None:
            return int(same_text)
        if not fp.bands:
            return None
        best, best_story = SAME_STORY, None
        for story_id, signature in c.execute(db.CANDIDATES, {"bands": list(fp.bands)}):
            score = similarity(fp.signature, signature)
            if score >= best:
                best, best_story = score, story_id
        return best_story

    def _add_hits(self, c: Connection, story_id: int, article_id: int,
                  hits: Sequence[dict[str, Any]], now: datetime, new_story: bool) -> int:
        if not hits:
            return 0
        existing: set[tuple[str, str]] = set() if new_story else {
            (watchlist, entry) for watchlist, entry
            in c.execute(db.HITS_OF_STORY, {"story": story_id})}
        rows = []
        for hit in hits:
            if unknown := hit.keys() - db.HIT_COLUMNS:
                raise TypeError(f"hit has no column(s) {sorted(unknown)}")
            if (hit["watchlist"], hit["entry"]) in existing:
                continue
            existing.add((hit["watchlist"], hit["entry"]))
            rows.append({**hit, "story_id": story_id, "article_id": article_id,
                         "first_seen": now})
        return self._insert_hits(c, rows)

    def _insert_hits(self, c: Connection, rows: list[dict[str, Any]]) -> int:
        """Insert hits; one another writer stored first is skipped, not an error."""
        if not rows:
            return 0
        return len(c.execute(self._insert_hit, rows).all())

    def add_hits(self, found: Sequence[tuple[int, int, Sequence[dict[str, Any]]]],
                 now: datetime) -> int:
        """Hits found in stored articles, as (article id, story id, hits): those their story
        does not have yet are added, the others left untouched.  One transaction."""
        if not any(hits for _, _, hits in found):
            return 0
        with self.engine.begin() as c:
            stories = sorted({story for _, story, hits in found if hits})
            existing: set[tuple[int, str, str]] = set()
            for i in range(0, len(stories), 500):
                existing.update((int(story), watchlist, entry) for story, watchlist, entry in
                                c.execute(db.HITS_OF_STORIES, {"stories": stories[i:i + 500]}))
            rows = []
            for article_id, story_id, hits in found:
                for hit in hits:
                    key = (story_id, hit["watchlist"], hit["entry"])
                    if key not in existing:
                        existing.add(key)
                        rows.append({**hit, "story_id": story_id, "article_id": article_id,
                                     "first_seen": now})
            added = self._insert_hits(c, rows)
            self.trends.note_found(c, found, now)
            self.trends.flush(c)
            return added

    # --- backfill ---------------------------------------------------------------------------

    def articles_after(self, after_id: int, limit: int, *, since: datetime | None = None,
                       until: datetime | None = None, feed_id: int | None = None,
                       pages: bool = False) -> list[StoredArticle]:
        """The next ``limit`` stored articles with an id above ``after_id`` (keyset paging:
        a million articles are read a batch at a time), within the window by publication
        time (first seen when unknown), with their kept pages if ``pages``."""
        query = db.window(select(Article.id, Article.story_id, Article.url, Article.title,
                               Article.text, Article.published), after_id, since, until,
                        feed_id).order_by(Article.id).limit(limit)
        with self.engine.connect() as c:
            rows = c.execute(query).all()
            kept: dict[int, bytes] = {}
            if pages and rows:
                kept = {row.article_id: row.body for row in c.execute(
                    select(Page.article_id, Page.body).where(
                        Page.article_id.in_([r.id for r in rows])))}
        return [StoredArticle(r.id, r.story_id, r.url, r.title, r.text, r.published,
                              decompress_page(kept[r.id]) if r.id in kept else None)
                for r in rows]

    def count_articles(self, after_id: int = 0, *, since: datetime | None = None,
                       until: datetime | None = None, feed_id: int | None = None) -> int:
        query = db.window(select(func.count(Article.id)), after_id, since, until, feed_id)
        with self.engine.connect() as c:
            return int(c.scalar(query) or 0)

    def update_text(self, article_id: int, title: str | None, text: str, author: str | None,
                    language: str | None) -> None:
        """A re-extracted article's text (backfill --reextract); its story stays."""
        with self.engine.begin() as c:
            c.execute(update(Article).where(Article.id == article_id).values(
                title=title, text=text, author=author, language=language))

    def backfill_run(self, key: str) -> BackfillRun | None:
        with self.session() as s:
            return s.get(BackfillRun, key)

    def save_backfill_run(self, key: str, description: str, last_article_id: int,
                          now: datetime) -> None:
        """Record that an unfinished run has matched every article up to this id."""
        with self.session() as s:
            run = s.get(BackfillRun, key)
            if run is None:
                s.add(BackfillRun(key=key, description=description, started=now, updated=now,
                                  last_article_id=last_article_id, finished=False))
            else:
                if run.finished:  # the same command again, after a finished run: a new run
                    run.started, run.finished = now, False
                run.last_article_id, run.updated = last_article_id, now

    def finish_backfill_run(self, key: str, description: str, now: datetime) -> None:
        with self.session() as s:
            run = s.get(BackfillRun, key)
            if run is None:
                s.add(BackfillRun(key=key, description=description, started=now, updated=now,
                                  last_article_id=0, finished=True))
            else:
                run.finished, run.updated = True, now

    def prune_pages(self, before: datetime) -> int:
        with self.session() as s:
            result = s.execute(delete(Page).where(Page.fetched < before))
            return int(getattr(result, "rowcount", 0) or 0)

    def page(self, article_id: int) -> bytes | None:
        with self.session() as s:
            body = s.scalar(select(Page.body).where(Page.article_id == article_id))
            return decompress_page(body) if body is not None else None

    def counts(self) -> dict[str, int]:
        with self.session() as s:
            return {name: int(s.scalar(select(func.count()).select_from(model)) or 0)
                    for name, model in (("feeds", Feed), ("articles", Article),
                                        ("stories", Story), ("hits", Hit), ("items", Item))}
