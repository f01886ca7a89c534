"""The store's articles with their stories, sources (feed items) and kept pages: the store
answers "what is new?", and everything one article brings is written in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.exc import IntegrityError

from monitor.dedupe import SAME_STORY, Fingerprint, similarity
from monitor.store import db, search
from monitor.store import events as store_events
from monitor.store.db import compress_page, decompress_page
from monitor.store.hits import HitsMixin
from monitor.store.models import Article, Item, Page
from monitor.store.rows import NewArticle, Stored
from monitor.store.trends import Keeper


def story_keys(fp: Fingerprint) -> list[int]:
    """What makes two articles one story's candidates: the same content hash or a shared
    band key; as signed 64-bit lock keys, ascending."""
    digest = hashlib.blake2b(fp.content.encode(), digest_size=8).digest()
    return sorted({int.from_bytes(digest, "little", signed=True), *fp.bands})


class ArticlesMixin(HitsMixin):
    events: store_events.EventSettings  # the config's events: (set by the caller)
    trends: Keeper  # the daily counts (store/trends.py)

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
                done = [self._add_article(c, new, now) for new in batch]
                self.trends.flush(c)
                return done
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
        search.index_new(c, article_id, new.title, new.text)  # the full-text index
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
        event_id = store_events.on_article(c, self.events, story_id, article_id, new_story,
                                           new, now)
        self.trends.note(c, article_id, story_id, new.published, now, new.hits, event_id)
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

    # --- kept pages ---------------------------------------------------------------------

    def prune_pages(self, before: datetime) -> int:
        """Drop the kept pages fetched before ``before`` (raw_retention)."""
        with self.session() as s:
            result = s.execute(delete(Page).where(Page.fetched < before))
            return int(getattr(result, "rowcount", 0) or 0)

    def page(self, article_id: int) -> bytes | None:
        with self.session() as s:
            body = s.scalar(select(Page.body).where(Page.article_id == article_id))
            return decompress_page(body) if body is not None else None
