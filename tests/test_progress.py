"""progress.py: plain lines with rate and ETA when the output is not a terminal."""

from __future__ import annotations

import io

from monitor.progress import Progress


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_progress_prints_at_most_every_interval_with_rate_and_eta() -> None:
    out, ticks = io.StringIO(), Ticks()
    progress = Progress("files", 1000, stream=out, every=10, clock=ticks)
    ticks.now += 5
    progress.update(50)  # too soon: nothing
    ticks.now += 5
    progress.update(100, "3 new hits")
    ticks.now += 1
    progress.update(110)  # too soon again
    progress.close()
    assert out.getvalue() == "files: 100/1000, 10.0/s, ETA 1m30s; 3 new hits\n"


def test_unknown_total_has_no_eta() -> None:
    out, ticks = io.StringIO(), Ticks()
    progress = Progress("articles", None, stream=out, every=1, clock=ticks)
    ticks.now += 7200
    progress.update(7200)
    assert out.getvalue() == "articles: 7200, 1.0/s\n"
