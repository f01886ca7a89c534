"""full-text search: SQLite FTS5 (article_fts, kept by triggers), PostgreSQL
articles.search_tsv with a GIN index; both built for the articles already stored

The index holds the folded text (monitor.query.index_text), which Python computes: on
SQLite the triggers call functions that monitor registers on its connections; on
PostgreSQL the store writes search_tsv and a trigger clears it when the text changes
(monitor.store.search).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

from monitor.store.search import create_index, drop_index

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_index(op.get_bind())


def downgrade() -> None:
    drop_index(op.get_bind())
