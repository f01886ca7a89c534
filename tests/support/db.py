"""Databases for storage tests (every one runs on SQLite and PostgreSQL), the store's invariants."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest

from monitor.store import Store

POSTGRES_URL = os.environ.get("MONITOR_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_or_skip() -> str:
    """A clean PostgreSQL schema's URL; else a skip (a failure under MONITOR_REQUIRE_POSTGRES)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:
        reason = f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"
        if os.environ.get("MONITOR_REQUIRE_POSTGRES"):
            pytest.fail(reason + " (MONITOR_REQUIRE_POSTGRES is set)")
        pytest.skip(reason)
    finally:
        engine.dispose()
    return POSTGRES_URL


# --- the store's invariants, checked after every fault -----------------------------------


@dataclass
class Counts:
    articles: int
    items: int
    stories: int
    hits: int


def assert_consistent(store: Store) -> Counts:
    """Nothing duplicated, nothing half-written: one article per canonical URL, one hit per
    (story, watchlist, entry), no story without articles, every hit's article in its story,
    every item's article present; SQLite's own integrity check.  Returns the counts."""
    from sqlalchemy import func, select, text

    from monitor.store.models import Article, Hit, Item, Story

    with store.engine.connect() as c:
        def one(query: Any) -> int:
            return int(c.execute(query).scalar_one())

        counts = Counts(*(one(select(func.count()).select_from(model))
                          for model in (Article, Item, Story, Hit)))
        assert one(select(func.count(func.distinct(Article.canonical_url)))) == counts.articles
        dupes = c.execute(select(Hit.story_id, Hit.watchlist, Hit.entry).group_by(
            Hit.story_id, Hit.watchlist, Hit.entry).having(func.count() > 1)).all()
        assert dupes == []
        assert one(select(func.count()).select_from(Story).where(
            ~select(Article.id).where(Article.story_id == Story.id).exists())) == 0
        assert one(select(func.count()).select_from(Hit).join(
            Article, Article.id == Hit.article_id).where(Article.story_id != Hit.story_id)) == 0
        assert one(select(func.count()).select_from(Item).where(
            Item.article_id.is_not(None),
            ~select(Article.id).where(Article.id == Item.article_id).exists())) == 0
        if store.engine.dialect.name == "sqlite":
            assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    return counts
