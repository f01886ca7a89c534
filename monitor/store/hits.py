"""The store's hits: a watchlist entry found in a story is stored once (per story and
entry), whatever the number of its sources; NewHit in, counts out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from monitor.store import db
from monitor.store.base import StoreBase
from monitor.store.models import Hit
from monitor.store.rows import NewHit
from monitor.store.trends import Keeper

_HIT_FIELDS = tuple(f.name for f in fields(NewHit))


def _row(hit: NewHit, story_id: int, article_id: int, now: datetime) -> dict[str, Any]:
    row = {name: getattr(hit, name) for name in _HIT_FIELDS}
    row.update(story_id=story_id, article_id=article_id, first_seen=now)
    return row


def hit_insert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, in this database's dialect (built
    once per store)."""
    dialect_insert = sqlite_insert if dialect == "sqlite" else pg_insert
    return dialect_insert(Hit).on_conflict_do_nothing().returning(Hit.id)


class HitsMixin(StoreBase):
    _insert_hit: Any  # hit_insert(dialect), set by core.Store
    trends: Keeper  # the daily counts (store/trends.py), set by core.Store

    def _add_hits(self, c: Connection, story_id: int, article_id: int,
                  hits: Sequence[NewHit], now: datetime, new_story: bool) -> int:
        """A new article's hits that its story does not have yet (in its transaction)."""
        if not hits:
            return 0
        existing: set[tuple[str, str]] = set() if new_story else {
            (watchlist, entry) for watchlist, entry
            in c.execute(db.HITS_OF_STORY, {"story": story_id})}
        rows = []
        for hit in hits:
            if (hit.watchlist, hit.entry) in existing:
                continue
            existing.add((hit.watchlist, hit.entry))
            rows.append(_row(hit, story_id, article_id, now))
        return self._insert_hits(c, rows)

    def _insert_hits(self, c: Connection, rows: list[dict[str, Any]]) -> int:
        """Insert hits; one another writer stored first is skipped, not an error."""
        if not rows:
            return 0
        return len(c.execute(self._insert_hit, rows).all())

    def add_hits(self, found: Sequence[tuple[int, int, Sequence[NewHit]]],
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
                    key = (story_id, hit.watchlist, hit.entry)
                    if key not in existing:
                        existing.add(key)
                        rows.append(_row(hit, story_id, article_id, now))
            added = self._insert_hits(c, rows)
            self.trends.note_found(c, found, now)
            self.trends.flush(c)
            return added
