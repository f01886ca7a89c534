"""Database plumbing for the store: the engine (SQLite in WAL mode, or PostgreSQL), the
Alembic migrations, the kept pages' compression, and the SQL the store runs, built once
(building a statement costs more than running it on SQLite)."""

from __future__ import annotations

import logging
import sqlite3
import time
import zlib
from datetime import datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import zstandard
from sqlalchemy import Engine, bindparam, create_engine, event, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import Update

from monitor.display import mask_url
from monitor.errors import MonitorError, UsageError
from monitor.store.models import Article, Band, Feed, Hit, Item, Page, Story


class StoreError(MonitorError):
    """The database cannot be opened or is not at the schema this version needs."""


# What a store call raises when the database fails it (gone away, locked, a constraint):
# callers above the store catch this name, never the driver's or SQLAlchemy's.
DatabaseError = SQLAlchemyError
# Loggers whose lines the store's own "database at revision N" replaces (logs.setup).
QUIET_LOGGERS = ("alembic",)


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
# Story assignment on PostgreSQL (Store._serialise): an article's transaction takes an
# advisory lock on each of its fingerprint keys (ascending, as unnest gives them: no two
# writers wait for each other in a cycle) and shares the lock a batch takes whole (one lock,
# however many articles: a thousand articles' keys would fill the server's lock table).
LOCK_STORY_KEYS = text(
    "SELECT pg_advisory_xact_lock_shared(727275, 1), count(pg_advisory_xact_lock(k)) "
    "FROM unnest(CAST(:keys AS bigint[])) AS k")
LOCK_ALL_STORIES = text("SELECT pg_advisory_xact_lock(727275, 1)")
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
    """A database URL fit for messages and logs: its password (and any secret-looking
    query value) masked, as feed and webhook URLs are (monitor.display)."""
    return mask_url(url, keep_user=True)


def _seconds(value: str | tuple[str, ...] | None, default: float) -> float:
    try:
        return float(value if isinstance(value, str) else default)
    except ValueError:
        return default


def _sqlite_path(url: str) -> str:
    """The file of an SQLite URL ('' or ':memory:' for none), without the URL's query."""
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return path.split("?", 1)[0] if path.startswith("file:") else path


def _readonly_sqlite(url: str) -> Engine:
    """An engine that reads the file and never writes it, nor creates anything beside it:
    through its WAL (mode=ro) when a writer has one open (the -wal/-shm files exist, so
    nothing is created); else as an immutable file (mode=ro would create -wal and -shm,
    and cannot in a read-only folder), which is exact while there is no WAL to read."""
    path = make_url(url).database or ""
    if not path or path == ":memory:":
        raise StoreError(f"database {masked_url(url)}: an in-memory database holds nothing "
                         "to read")
    if not Path(path).is_file():
        raise StoreError(f"no database at {path}: nothing is stored yet (`monitor poll "
                         "--once` or `monitor run` creates it)")
    timeout = _seconds(make_url(url).query.get("timeout"), SQLITE_TIMEOUT)
    absolute = Path(path).resolve()

    def connect() -> sqlite3.Connection:
        writing = any(Path(f"{absolute}{end}").exists() for end in ("-wal", "-shm"))
        uri = f"file:{quote(str(absolute))}?mode=ro" + ("" if writing else "&immutable=1")
        connection = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
        connection.execute("PRAGMA foreign_keys=ON")
        return connection

    return create_engine(f"sqlite:///{absolute}", creator=connect)


def _readonly_session(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()


def make_engine(url: str, *, readonly: bool = False) -> Engine:
    """The engine for a database URL.  ``readonly``: for commands that only look (status,
    hits, ...): nothing is created, migrated or written, and a read-only file will do."""
    if url.startswith("sqlite") and readonly:
        return _readonly_sqlite(url)
    if url.startswith("sqlite"):
        path = _sqlite_path(url)
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
        engine = create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # bad URL, missing driver
        raise UsageError(f"database {masked_url(url)!r}: {exc}".replace(url, "…")) from exc
    if readonly and engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _readonly_session)
    return engine


def check_schema(engine: Engine) -> None:
    """StoreError unless the database has this version's schema (what a command that must
    not migrate can use), saying what to run."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    where = f"database {engine.url.render_as_string(hide_password=True)}"
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except DBAPIError as exc:
        raise StoreError(f"{where} cannot be opened: {exc.orig}") from exc
    if current is None:
        raise StoreError(f"{where} has no schema: run `monitor db upgrade` (or any command "
                         "that stores, such as `monitor poll --once`)")
    if current != head:
        if current in {r.revision for r in script.walk_revisions()}:
            raise StoreError(f"{where} is at schema revision {current}; this version of "
                             f"monitor needs {head}: run `monitor db upgrade`")
        raise StoreError(f"{where} is at schema revision {current}, which this version of "
                         f"monitor does not know (it knows up to {head}): upgrade monitor")


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
    except DBAPIError as exc:  # cannot connect, or (SQLite) a file that is no database
        raise StoreError(f"database {engine.url!r} cannot be opened: {exc.orig}") from exc
    change = "" if was == now else f" (migrated from {was})" if was else " (created)"
    log.info("database at revision %s%s", now, change)


