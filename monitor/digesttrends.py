"""The digest's Trends section: the entries rising most against their usual days, each with
its last two weeks (a sparkline in the text part, an inline SVG chart in the HTML part);
nothing when nothing rose.  Judges the last complete day before the digest's end (a day
under way always looks quiet next to whole days)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from monitor.config import Config
from monitor.config.delivery import DigestConfig
from monitor.digest import Digest
from monitor.store import Store
from monitor.store.trends import EntryCounts
from monitor.trendreport import EntryTrend, rising, trends
from monitor.trendview import TrendLine

DAYS = 14  # drawn per entry
RISING = 5  # entries at most

D = TypeVar("D", bound=Digest)


def with_trends(store: Store, config: Config, digest: DigestConfig, built: D) -> D:
    """``built`` with its Trends section (what the digest's filters select)."""
    lines = trend_lines(store, config, digest, built)
    return replace(built, trends=lines) if lines else built


def trend_lines(store: Store, config: Config, digest: DigestConfig, built: Digest
                ) -> tuple[TrendLine, ...]:
    settings = config.trends
    day = built.window_end.astimezone(ZoneInfo(settings.timezone)).date() - timedelta(days=1)
    found = [t for t in trends(store, settings, built.window_end, DAYS, day=day)
             if selected(digest, t.counts)]
    return tuple(_line(t) for t in rising(found, RISING))


def selected(digest: DigestConfig, counts: EntryCounts) -> bool:
    """Whether a digest's filters (watchlists, entries, kinds) take this entry."""
    if digest.watchlists and counts.watchlist not in digest.watchlists:
        return False
    if digest.kinds and counts.kind not in digest.kinds:
        return False
    return not digest.entries or counts.entry in digest.entries or (
        f"{counts.watchlist}/{counts.entry}" in digest.entries)


def _line(trend: EntryTrend) -> TrendLine:
    c, day = trend.counts, trend.today
    return TrendLine(c.watchlist, c.entry, c.name, c.kind, day.day,
                     tuple(d.count for d in trend.days), trend.usual, day.spike, day.score)
