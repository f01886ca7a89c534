"""trend_days (daily counts per watchlist entry) and trend_keys (what each count counted)

``trend_days`` is what `monitor trends`, spike alerts and the digest's Trends section read:
one row per (watchlist, entry, day), the day being an article's publication date in the
configured timezone.  ``trend_keys`` holds one row per (entry, article) and (entry, event):
inserting a key that is already there does nothing, so re-matching, backfill and replicas
never count anything twice.  Existing hits are counted here once, at their stories' and
articles' dates in UTC.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trend_days",
        sa.Column("watchlist", sa.String(255), nullable=False),
        sa.Column("entry", sa.String(255), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("live_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("watchlist", "entry", "day"),
    )
    op.create_index("ix_trend_days_day", "trend_days", ["day"])
    op.create_table(
        "trend_keys",
        sa.Column("watchlist", sa.String(255), nullable=False),
        sa.Column("entry", sa.String(255), nullable=False),
        sa.Column("unit", sa.String(1), nullable=False),  # a: article, e: event
        sa.Column("ref", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        # the article whose mention made the key: its dates give the day (again, when
        # `monitor trends --recount` moves the counts to another timezone)
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("watchlist", "entry", "unit", "ref"),
    )
    _count_existing_hits()


def _count_existing_hits() -> None:
    """The hits stored before this revision, counted once, on UTC days (`monitor trends
    --recount` moves them to trends.timezone): the article that brought each hit is the
    article counted, its story the event."""
    bind = op.get_bind()
    day = ("date(coalesce(a.published, a.first_seen))" if bind.dialect.name == "sqlite"
           else "CAST(coalesce(a.published, a.first_seen) AT TIME ZONE 'UTC' AS date)")
    for unit, ref in (("a", "h.article_id"), ("e", "h.story_id")):
        op.execute(
            "INSERT INTO trend_keys (watchlist, entry, unit, ref, day, article_id) "
            f"SELECT h.watchlist, h.entry, '{unit}', {ref}, {day}, h.article_id "
            "FROM hits h JOIN articles a ON a.id = h.article_id")
    op.execute(
        "INSERT INTO trend_days (watchlist, entry, day, kind, name, events, articles) "
        "SELECT k.watchlist, k.entry, k.day, max(h.kind), max(h.name), "
        "sum(CASE WHEN k.unit = 'e' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN k.unit = 'a' THEN 1 ELSE 0 END) "
        "FROM trend_keys k JOIN (SELECT watchlist, entry, max(kind) AS kind, max(name) AS name "
        "FROM hits GROUP BY watchlist, entry) h ON h.watchlist = k.watchlist AND h.entry = k.entry "
        "GROUP BY k.watchlist, k.entry, k.day")


def downgrade() -> None:
    op.drop_table("trend_keys")
    op.drop_index("ix_trend_days_day", table_name="trend_days")
    op.drop_table("trend_days")
