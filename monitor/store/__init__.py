"""The storage boundary: the only package that imports SQLAlchemy or Alembic.

Everything above it gets typed rows (rows.py) and calls methods; `Store` (core.py) is the
entry, the read views shared by the CLI, /healthz and the web are in queries.py.
"""

from monitor.store.articles import story_keys
from monitor.store.core import Store
from monitor.store.db import (
    QUIET_LOGGERS,
    DatabaseError,
    StoreError,
    compress_page,
    decompress_page,
    make_engine,
    upgrade,
)
from monitor.store.rows import (
    ArticleRow,
    BackfillRunRow,
    Counts,
    DeliveryCounts,
    FeedCounts,
    FeedProblem,
    FeedRow,
    HitRow,
    NewArticle,
    NewHit,
    Overview,
    SourceRow,
    Stored,
    StoredArticle,
)

__all__ = ["QUIET_LOGGERS", "ArticleRow", "BackfillRunRow", "Counts", "DatabaseError",
           "DeliveryCounts", "FeedCounts", "FeedProblem", "FeedRow", "HitRow", "NewArticle",
           "NewHit", "Overview", "SourceRow", "Store", "StoreError", "Stored",
           "StoredArticle", "compress_page", "decompress_page", "make_engine", "story_keys",
           "upgrade"]
