"""Progress of a long command: a rich progress bar on a terminal, a plain line every
``every`` seconds otherwise (logs and CI keep readable output)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO


class Progress:
    def __init__(self, what: str, total: int | None, *, stream: TextIO | None = None,
                 every: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.total, self.every, self.clock = what, total, every, clock
        self.stream = stream or sys.stderr
        self.start = self.last = clock()
        self.bar: Any = None
        self.task: Any = None
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self.bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TaskProgressColumn(), TextColumn("{task.fields[rate]}"),
                           TimeElapsedColumn(), TimeRemainingColumn(),
                           console=Console(file=self.stream), transient=False)
            self.task = self.bar.add_task(what, total=total, rate="")
            self.bar.start()

    def update(self, done: int, note: str = "") -> None:
        now = self.clock()
        elapsed = max(now - self.start, 1e-9)
        rate = f"{done / elapsed:.1f}/s"
        if self.bar is not None:
            self.bar.update(self.task, completed=done, rate=f"{rate} {note}".strip())
            return
        if now - self.last < self.every:
            return
        self.last = now
        eta = ""
        if self.total and done:
            eta = f", ETA {_duration((self.total - done) * elapsed / done)}"
        of = f"/{self.total}" if self.total is not None else ""
        print(f"{self.what}: {done}{of}, {rate}{eta}{'; ' + note if note else ''}",
              file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
