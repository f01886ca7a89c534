"""What backfill asks of the store: stored articles a batch at a time (keyset paging),
their re-extracted text, and where an unfinished run got to (so it resumes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from monitor.store import db
from monitor.store.base import StoreBase
from monitor.store.db import decompress_page
from monitor.store.models import Article, BackfillRun, Page
from monitor.store.rows import BackfillRunRow, StoredArticle


class BackfillMixin(StoreBase):
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

    def backfill_run(self, key: str) -> BackfillRunRow | None:
        with self.session() as s:
            run = s.get(BackfillRun, key)
            return None if run is None else BackfillRunRow(
                run.key, run.description, run.last_article_id, run.finished, run.started,
                run.updated)

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
