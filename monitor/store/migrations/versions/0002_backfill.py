"""backfill: how each hit was found and whether it goes out; resumable backfill runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("found_by", sa.String(length=16), nullable=False,
                                      server_default="poll"))
        batch_op.add_column(sa.Column("notify", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    op.create_table(
        "backfill_runs",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("last_article_id", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Boolean(), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("backfill_runs")
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_column("notify")
        batch_op.drop_column("found_by")
