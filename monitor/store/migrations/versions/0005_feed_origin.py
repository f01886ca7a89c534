"""feeds: origin (config | cli), polling (on | paused | removed), one row per normalised URL

Feeds were unique by the URL as typed, so ``HTTP://host/wire.xml#frag`` could be a second
copy of ``http://host/wire.xml``.  Each group of rows whose URLs normalise alike
(monitor.feedurl) becomes its oldest row: the others' articles and items move to it (an
item it already has is dropped, the article stays) and the copies are deleted.  Then every
URL is stored normalised.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from monitor.feedurl import feed_url

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _normalised(url: str) -> str:
    try:
        return feed_url(url)
    except ValueError:  # a port that is not one: the row keeps its URL
        return url


def _merge_duplicates(connection: sa.Connection) -> None:
    rows = connection.execute(sa.text("SELECT id, url FROM feeds ORDER BY id")).all()
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for feed_id, url in rows:
        groups[_normalised(url)].append((feed_id, url))
    for url, members in groups.items():
        keeper = members[0][0]
        for duplicate, _ in members[1:]:
            ids = {"keeper": keeper, "duplicate": duplicate}
            connection.execute(sa.text(
                "DELETE FROM items WHERE feed_id = :duplicate AND key IN "
                "(SELECT key FROM items WHERE feed_id = :keeper)"), ids)
            connection.execute(sa.text(
                "UPDATE items SET feed_id = :keeper WHERE feed_id = :duplicate"), ids)
            connection.execute(sa.text(
                "UPDATE articles SET feed_id = :keeper WHERE feed_id = :duplicate"), ids)
            connection.execute(sa.text("DELETE FROM feeds WHERE id = :duplicate"), ids)
        if url != members[0][1]:
            connection.execute(sa.text("UPDATE feeds SET url = :url WHERE id = :keeper"),
                               {"url": url, "keeper": keeper})


def upgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=16), nullable=False,
                                      server_default="cli"))
        batch_op.add_column(sa.Column("polling", sa.String(length=16), nullable=False,
                                      server_default="on"))
    _merge_duplicates(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_column("polling")
        batch_op.drop_column("origin")
