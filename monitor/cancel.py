"""Cancelling the polls that run in other threads: at the daemon's deadline after SIGTERM,
each poll's asyncio work is cancelled at its next await.  Each article is one transaction,
so what a cancelled poll stored stays whole and the rest is redone by the next poll."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


class Cancelled(Exception):
    """The work was cancelled before it finished (what it stored stays)."""


class Cancel:
    """Set once, from any thread; cancels the work awaited through ``run`` now and later."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._set = False
        self._running: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = set()

    def set(self) -> None:
        with self._lock:
            self._set = True
            for loop, future in self._running:
                loop.call_soon_threadsafe(future.cancel)

    def is_set(self) -> bool:
        return self._set

    async def run(self, work: Awaitable[T]) -> T:
        """Await ``work``; raise Cancelled if the cancel is set before it is done (the work
        is cancelled first, so its ``finally`` blocks have run)."""
        future = asyncio.ensure_future(work)
        entry: tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]] = (
            asyncio.get_running_loop(), future)
        with self._lock:
            if self._set:
                future.cancel()
            self._running.add(entry)
        try:
            return await future
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self._set and (task is None or not task.cancelling()):
                raise Cancelled("cancelled at the daemon's deadline") from None
            raise
        finally:
            with self._lock:
                self._running.discard(entry)
