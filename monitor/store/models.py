"""SQLAlchemy 2 models; the schema itself is created by the Alembic migrations in
monitor/migrations (`monitor db upgrade`), never by ``create_all``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false as sa_false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Feed(Base):
    __tablename__ = "feeds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str | None] = mapped_column(String(512))
    interval: Mapped[float] = mapped_column(Float, default=900.0)
    full_text: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(2))
    tags: Mapped[str] = mapped_column(Text, default="")  # space-separated
    state: Mapped[str] = mapped_column(String(16), default="active")  # active|failing|disabled
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    last_polled: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_poll: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    # a replica polling this feed now, until when (a replica that dies loses it then)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the feed was added: "config" (monitor.yaml's feeds:, which may also remove it)
    # or "cli" (feeds add / import, and feeds stored before origins were recorded).
    origin: Mapped[str] = mapped_column(String(16), default="cli", server_default="cli")
    # What the user asked for, apart from ``state`` (which polls write): "on", "paused"
    # (feeds pause) or "removed" (feeds remove, or gone from the config); only "on" feeds
    # are polled, and a removed feed's row stays so its articles keep their sources.
    polling: Mapped[str] = mapped_column(String(16), default="on", server_default="on")
    # Which source reads it (monitor.sources): "rss" (RSS, Atom, JSON Feed) or "sitemap"
    # (news sitemaps, sitemaps and sitemap indexes); feeds stored before kinds are "rss".
    kind: Mapped[str] = mapped_column(String(16), default="rss", server_default="rss")


class Story(Base):
    __tablename__ = "stories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    article_count: Mapped[int] = mapped_column(Integer, default=1)


class Article(Base):
    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(String(2048))
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    # A canonical link (or og:url) the page gave on another site than its own: recorded,
    # never used as the article's URL (a page cannot take over another outlet's article).
    claimed_canonical: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(32))
    text_source: Mapped[str] = mapped_column(String(16))  # page | feed
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Item(Base):
    """A feed's item: how an article reached us (one article, several feeds: its sources)."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("feed_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(2048))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    url: Mapped[str | None] = mapped_column(String(2048))
    published: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class Band(Base):
    """One LSH band key of an article's fingerprint (dedupe.py): an indexed lookup column."""

    __tablename__ = "bands"
    __table_args__ = (Index("ix_bands_key", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"),
                                            index=True)


class Page(Base):
    """The raw page as fetched, compressed (store.compress_page), so backfill can re-extract;
    pruned by age (raw_retention)."""

    __tablename__ = "pages"
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"),
                                            primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    content_type: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    fetched: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Hit(Base):
    """A watchlist entry found in a story: stored once, whatever the number of sources."""

    __tablename__ = "hits"
    __table_args__ = (UniqueConstraint("story_id", "watchlist", "entry"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    watchlist: Mapped[str] = mapped_column(String(255))
    entry: Mapped[str] = mapped_column(String(255))
    entry_version: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    matched: Mapped[str] = mapped_column(Text)
    alias: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    snippet: Mapped[str] = mapped_column(Text)
    # JSON [[start, end, watchlist, entry], ...]: the matcher's mentions shown in the snippet,
    # relative to it (pipeline.hits_from); NULL for hits stored before (migration 0005)
    snippet_marks: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    # The alias matched belongs to several entries (a shared alias): the mention is stored
    # for each of them, marked so that a reader knows it may be another's.
    ambiguous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    found_by: Mapped[str] = mapped_column(String(16), default="poll", server_default="poll")
    # False: kept out of digests and alerts (backfill's default: old news is not news)
    notify: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class BackfillRun(Base):
    """Where a re-matching backfill got to, so running the same command again resumes."""

    __tablename__ = "backfill_runs"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    last_article_id: Mapped[int] = mapped_column(Integer)
    finished: Mapped[bool] = mapped_column(Boolean)
    started: Mapped[datetime] = mapped_column(UTCDateTime)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)


class DigestSchedule(Base):
    """When a digest (or the alerts) started: its first window opens here, so turning a
    digest on does not mail the whole archive."""

    __tablename__ = "digest_schedules"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    anchor: Mapped[datetime] = mapped_column(UTCDateTime)


class DigestRun(Base):
    """One digest window (or one alert), rendered once and kept: a retry or a resend after a
    crash sends these same bytes with the same Message-ID / Idempotency-Key."""

    __tablename__ = "digest_runs"
    __table_args__ = (Index("ix_digest_runs_name_end", "name", "window_end"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # digest | alert
    key: Mapped[str] = mapped_column(String(255), unique=True)  # one run per window/story
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    subject: Mapped[str] = mapped_column(Text)
    hit_count: Mapped[int] = mapped_column(Integer)
    story_count: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)  # the webhook's JSON body
    slack: Mapped[str] = mapped_column(Text)    # the Slack mrkdwn text


class DigestHit(Base):
    """A hit claimed by a digest: the primary key makes a hit go into one digest (per digest
    definition) at most, whatever the races."""

    __tablename__ = "digest_hits"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("hits.id", ondelete="CASCADE"),
                                        primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("digest_runs.id", ondelete="CASCADE"),
                                        index=True)


class Delivery(Base):
    """One run to one channel: pending until sent; retried with back-off; failed after the
    last attempt.  Persisted, so a restart keeps the queue."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("run_id", "channel"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("digest_runs.id", ondelete="CASCADE"),
                                        index=True)
    channel: Mapped[str] = mapped_column(String(2048))  # ChannelConfig.ident
    status: Mapped[str] = mapped_column(String(16))     # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
