"""The storage boundary: the only package that imports SQLAlchemy or Alembic.

Everything above it gets typed rows and calls methods; `Store` (in core.py) is the entry.
"""

from monitor.store.core import (
    NewArticle,
    Store,
    Stored,
    StoredArticle,
    StoreError,
    compress_page,
    decompress_page,
    make_engine,
    story_keys,
    upgrade,
)

__all__ = ["NewArticle", "Store", "StoreError", "Stored", "StoredArticle", "compress_page",
           "decompress_page", "make_engine", "story_keys", "upgrade"]
