"""feeds.kind (which source reads a feed) and hits.ambiguous (a shared alias)

Existing feeds are RSS/Atom/JSON feeds ("rss"); existing hits were stored before shared
aliases were allowed, so none is ambiguous (false).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="rss"))
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ambiguous", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_column("ambiguous")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("kind")
