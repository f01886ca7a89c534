"""Database plumbing for the store: the engine (SQLite in WAL mode, or PostgreSQL), the
Alembic migrations, the kept pages' compression, and the SQL the store runs, built once
(building a statement costs more than running it on SQLite)."""

from __future__ import annotations

import logging
import re
import sqlite3
import time
import zlib
from datetime import datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar

import zstandard
from sqlalchemy import Engine, bindparam, create_engine, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import Update

from monitor.errors import MonitorError, UsageError
from monitor.models import Article, Band, Feed, Hit, Item, Page, Story


class StoreError(MonitorError):
    """The database cannot be opened or is not at the schema this version needs."""


log = logging.getLogger("monitor.db")
SQLITE_TIMEOUT = 30.0  # seconds a connection waits for another's lock
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ARTICLE_BY_URL = select(Article.id, Article.story_id).where(
    Article.canonical_url == bindparam("url"))
ARTICLE_BY_HASH = select(Article.id, Article.story_id).where(
    Article.content_hash == bindparam("hash")).order_by(Article.id).limit(1)
STORY_BY_HASH = select(Article.story_id).where(Article.content_hash == bindparam("hash")).limit(1)
# At most 200 candidates: a band shared with thousands of articles (boilerplate) costs no more.
CANDIDATES = select(Article.story_id, Article.signature).where(Article.id.in_(
    select(Band.article_id).where(Band.key.in_(bindparam("bands", expanding=True))).limit(200)))
SEEN_KEYS = select(Item.key).where(Item.feed_id == bindparam("feed"),
                                    Item.key.in_(bindparam("keys", expanding=True)))
HITS_OF_STORY = select(Hit.watchlist, Hit.entry).where(Hit.story_id == bindparam("story"))
BUMP_STORY = update(Story).where(Story.id == bindparam("story")).values(
    article_count=Story.article_count + 1)
INSERT_STORY = insert(Story).returning(Story.id)
INSERT_ARTICLE = insert(Article).returning(Article.id)
INSERT_ITEM, INSERT_BAND = insert(Item), insert(Band)
INSERT_PAGE = insert(Page)
HITS_OF_STORIES = select(Hit.story_id, Hit.watchlist, Hit.entry).where(
    Hit.story_id.in_(bindparam("stories", expanding=True)))


_Q = TypeVar("_Q", bound=Select)  # type: ignore[type-arg]


def window(query: _Q, after_id: int, since: datetime | None, until: datetime | None,
            feed_id: int | None) -> _Q:
    when = func.coalesce(Article.published, Article.first_seen)
    query = query.where(Article.id > after_id)
    if since is not None:
        query = query.where(when >= since)
    if until is not None:
        query = query.where(when < until)
    if feed_id is not None:
        query = query.where((Article.feed_id == feed_id) | Article.id.in_(
            select(Item.article_id).where(Item.feed_id == feed_id)))
    return query


@lru_cache(maxsize=64)
def update_feed(keys: tuple[str, ...]) -> Update:
    return update(Feed).where(Feed.id == bindparam("p_id")).values(
        {key: bindparam(f"p_{key}") for key in keys})


HIT_COLUMNS = frozenset(Hit.__table__.columns.keys())
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def compress_page(body: bytes) -> bytes:
    """Kept pages are zstd frames (level 3): 5x faster than zlib's default level, and
    smaller (about 15% of the HTML on news pages)."""
    return zstandard.ZstdCompressor(level=3).compress(body)


def decompress_page(body: bytes) -> bytes:
    """A kept page's bytes: zstd frames, or zlib streams from before zstd."""
    if body[:4] == _ZSTD_MAGIC:
        return zstandard.ZstdDecompressor().decompress(body)
    return zlib.decompress(body)


def _wal(cursor: Any, patience: float) -> None:
    """Switch the file to WAL, retrying for up to ``patience`` seconds: connections that
    find a new file together and convert it at once get "database is locked" straight
    away (SQLite's deadlock avoidance does not call the busy handler)."""
    deadline = time.monotonic() + patience
    pause = 0.002
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, patience: float) -> None:
    cursor = dbapi_connection.cursor()
    _wal(cursor, patience)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Checkpoint (and fsync) every ~40 MB of WAL rather than every 4 MB: a tenth of the
    # fsyncs; readers and a restart after a crash are unaffected.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def masked_url(url: str) -> str:
    """A database URL fit for messages and logs: its password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: mask anything between :// and @
        return re.sub(r"(?<=://)[^/@]*@", "***@", url)


def _seconds(value: str | tuple[str, ...] | None, default: float) -> float:
    try:
        return float(value if isinstance(value, str) else default)
    except ValueError:
        return default


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"database {masked_url(url)}: cannot create its folder: "
                                 f"{exc}") from exc
        # A writer waits up to 30 s for another (``?timeout=`` in the URL says otherwise).
        timeout = make_url(url).query.get("timeout")
        engine = create_engine(url, connect_args={} if timeout is not None
                               else {"timeout": SQLITE_TIMEOUT})
        patience = _seconds(timeout, SQLITE_TIMEOUT)
        event.listen(engine, "connect", partial(_sqlite_pragmas, patience=patience))
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # bad URL, missing driver
        raise UsageError(f"database {masked_url(url)!r}: {exc}".replace(url, "…")) from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (Alembic; safe to run on every start), and log one
    line saying where it is (Alembic's own lines are a dozen, silenced in logs.setup)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig
    from alembic.runtime.migration import MigrationContext

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            # Processes starting together on a new database: one migrates, the others wait
            # and then find the schema in place.
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
            elif connection.dialect.name == "sqlite":
                # the write lock before Alembic reads the version (and the migration is one
                # transaction: pysqlite would otherwise run each DDL statement on its own)
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            was = MigrationContext.configure(connection).get_current_revision()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            now = MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise StoreError(f"database {engine.url!r} cannot be opened: {exc.orig}") from exc
    change = "" if was == now else f" (migrated from {was})" if was else " (created)"
    log.info("database at revision %s%s", now, change)


