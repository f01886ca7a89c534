"""snippet marks: the matcher's spans of the mentions shown in a hit's snippet

Hits stored before have none (NULL): the matcher that found them is not at hand here (nor
at digest time), so a digest highlights their matched words by a word-bounded search of
the snippet instead (digest.highlights), as a fallback for those rows only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("snippet_marks", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_column("snippet_marks")
