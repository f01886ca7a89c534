"""events: stories about one happening across outlets (issue 17)

``events`` are groups of stories (merged_into: an event joined into another by a story that
bridged them; its id still resolves); ``event_terms`` index each story's strongest profile
terms (monitor/events.py) with its publication date, so that an arriving story finds its
candidates by key and window, never by a scan; ``stories`` get their event, their profile
(packed term ids and weights) and the publication date the window is measured on.
Stories stored before have no event (NULL).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False, server_default=""),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["merged_into"], ["events.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_events_last_seen", "events", ["last_seen"])
    op.create_index("ix_events_merged_into", "events", ["merged_into"])
    op.create_table(
        "event_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["story_id"], ["stories.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_terms_key_published", "event_terms",
                    ["key", "published", "story_id"])
    op.create_index("ix_event_terms_story_id", "event_terms", ["story_id"])
    if op.get_bind().dialect.name == "sqlite":
        # ALTER TABLE, never a rebuild of stories: with foreign keys on, dropping the old
        # table would fail (or cascade) through the articles, hits and items that refer to it.
        op.execute("ALTER TABLE stories ADD COLUMN event_id INTEGER "
                   "CONSTRAINT fk_stories_event_id REFERENCES events (id)")
    else:
        op.add_column("stories", sa.Column("event_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_stories_event_id", "stories", "events", ["event_id"], ["id"])
    op.add_column("stories", sa.Column("profile", sa.LargeBinary(), nullable=True))
    op.add_column("stories", sa.Column("published", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_stories_event_id", "stories", ["event_id"])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_index("ix_stories_event_id")
        if not sqlite:  # SQLite's rebuild drops the column's unnamed reference with it
            batch_op.drop_constraint("fk_stories_event_id", type_="foreignkey")
        batch_op.drop_column("published")
        batch_op.drop_column("profile")
        batch_op.drop_column("event_id")
    op.drop_index("ix_event_terms_story_id", table_name="event_terms")
    op.drop_index("ix_event_terms_key_published", table_name="event_terms")
    op.drop_table("event_terms")
    op.drop_index("ix_events_merged_into", table_name="events")
    op.drop_index("ix_events_last_seen", table_name="events")
    op.drop_table("events")
