"""What every part of the store shares: the engine and its sessions.  The parts (feeds.py,
articles.py, hits.py, backfill.py) are mixins over this; core.Store composes them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


class StoreBase:
    """The engine, opened by core.Store; the mixins only run statements on it."""

    url: str
    engine: Engine
    _sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One ORM transaction (committed on leaving, rolled back on an exception)."""
        with self._sessions.begin() as session:
            yield session

    @property
    def dialect(self) -> str:
        """"sqlite" or "postgresql": callers that schedule database work differently."""
        return self.engine.dialect.name
