"""digest_bodies: a run's rendered bodies, one row per (run, format), instead of a column
per format on digest_runs (body_text, body_html, payload, slack): a channel with a format
of its own needs no migration.  Existing bodies are copied (text, html, json, slack;
pruned ones, empty, are not), so pending deliveries still go out after the upgrade.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = {"text": "body_text", "html": "body_html", "json": "payload", "slack": "slack"}


def upgrade() -> None:
    op.create_table(
        "digest_bodies",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["digest_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "format"),
    )
    for fmt, column in COLUMNS.items():
        op.execute(sa.text(
            f"INSERT INTO digest_bodies (run_id, format, body) "
            f"SELECT id, :fmt, {column} FROM digest_runs WHERE {column} != ''"
        ).bindparams(fmt=fmt))
    # Never a copy of digest_runs on SQLite: dropping the old table would cascade to its
    # deliveries, claims and the bodies just copied (foreign keys are on).  SQLite drops
    # columns in place since 3.35.
    with op.batch_alter_table("digest_runs", schema=None, recreate="never") as batch_op:
        for column in COLUMNS.values():
            batch_op.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("digest_runs", schema=None, recreate="never") as batch_op:
        for column in COLUMNS.values():
            batch_op.add_column(sa.Column(column, sa.Text(), nullable=False, server_default=""))
    for fmt, column in COLUMNS.items():
        op.execute(sa.text(
            f"UPDATE digest_runs SET {column} = (SELECT body FROM digest_bodies "
            "WHERE digest_bodies.run_id = digest_runs.id AND digest_bodies.format = :fmt) "
            "WHERE EXISTS (SELECT 1 FROM digest_bodies WHERE digest_bodies.run_id = "
            "digest_runs.id AND digest_bodies.format = :fmt)").bindparams(fmt=fmt))
    op.drop_table("digest_bodies")
