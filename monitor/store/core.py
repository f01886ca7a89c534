"""Storage (SQLAlchemy 2, Alembic migrations; engine and SQL in db.py): SQLite in WAL mode by
default, PostgreSQL to scale out.  ``Store`` composes the parts: feeds.py, articles.py
(with stories, sources and pages), hits.py and backfill.py; read views are in queries.py."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from monitor.store import events as store_events
from monitor.store.articles import ArticlesMixin
from monitor.store.backfill import BackfillMixin
from monitor.store.db import StoreError, check_schema, make_engine, masked_url, upgrade
from monitor.store.feeds import FeedsMixin
from monitor.store.hits import hit_insert
from monitor.store.models import Article, Feed, Hit, Item, Story
from monitor.store.rows import Counts
from monitor.store.trends import Keeper


class Store(FeedsMixin, ArticlesMixin, BackfillMixin):
    """The one way into the database: methods that take and give typed rows."""

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
        self._insert_hit = hit_insert(self.dialect)
        self.events = store_events.EventSettings()  # the config's events: (commands._opened)
        self.trends = Keeper(self.dialect)  # daily counts (trends.timezone: commands._opened)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def shown_url(self) -> str:
        """The database URL fit for logs: its password masked."""
        return masked_url(self.url)

    def ping(self) -> None:
        """A round trip to the database (/healthz); raises if it does not answer."""
        with self.engine.connect() as c:
            c.execute(text("SELECT 1"))

    def counts(self) -> Counts:
        """Rows in the main tables, in one transaction."""
        with self.session() as s:
            def count(model: type[object]) -> int:
                return int(s.scalar(select(func.count()).select_from(model)) or 0)

            return Counts(feeds=count(Feed), articles=count(Article), stories=count(Story),
                          hits=count(Hit), items=count(Item))
