"""Entries' recent days judged against their baselines: what `monitor trends`, spike alerts
and the digest's Trends section show.  Reads the daily counts (store/trends.py, never the
hits) and scores every entry in one vectorised pass (spikes.scan_many)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from monitor.config.trends import TrendsConfig
from monitor.spikes import SCALE_WINDOW_DAYS, DayAssessment, scan_many
from monitor.store import Store
from monitor.store.trends import EntryCounts, entry_counts, today


@dataclass(frozen=True, slots=True)
class EntryTrend:
    """One entry's last days: counts and how each day stood against its baseline."""

    counts: EntryCounts
    days: list[DayAssessment]  # the shown days, oldest first; the last is today
    articles: list[int]        # the shown days' article counts

    @property
    def today(self) -> DayAssessment:
        return self.days[-1]

    @property
    def usual(self) -> tuple[int, int] | None:
        baseline = self.today.baseline
        return None if baseline is None else (baseline.low, baseline.high)

    def as_json(self) -> dict[str, Any]:
        """The object `monitor trends --json` prints (issue 20's keys)."""
        c, now = self.counts, self.today
        baseline = None if now.baseline is None else {
            "median": now.baseline.median, "low": now.baseline.low, "high": now.baseline.high}
        return {
            "watchlist": c.watchlist, "entry": c.entry, "kind": c.kind, "name": c.name,
            "days": [{"day": d.day.isoformat(), "events": d.count, "articles": a}
                     for d, a in zip(self.days, self.articles, strict=True)],
            "baseline": baseline, "today": now.count, "spike": now.spike,
            "score": round(now.score, 3),
        }


def trends(store: Store, config: TrendsConfig, now: datetime, days: int, *,
           watchlist: str | None = None, entry: str | None = None, kind: str | None = None,
           entries: Sequence[tuple[str, str]] | None = None,
           day: date | None = None) -> list[EntryTrend]:
    """The last ``days`` days (today, in the trends' timezone, last; or ``day``) of every
    entry counted (or of those the filters name), each day scored against the ones before."""
    last = day or today(config.timezone, now)
    first = last - timedelta(days=days - 1 + SCALE_WINDOW_DAYS)
    counted = entry_counts(store, first, last, watchlist=watchlist, entry=entry,
                           kind=kind, entries=entries)
    if not counted:
        return []
    judged = scan_many([c.events for c in counted], last,
                       history_days=[c.history_days(last) for c in counted],
                       min_events=config.min_events, sensitivity=config.sensitivity, last=days)
    return [EntryTrend(c, j, c.articles[-days:]) for c, j in zip(counted, judged, strict=True)]


def rising(found: Sequence[EntryTrend], limit: int) -> list[EntryTrend]:
    """The entries rising most against their baselines today: a spike first, then by score;
    only those above their usual range with at least one event."""
    up = [t for t in found if t.today.baseline is not None and t.today.count > 0
          and (t.today.spike or t.today.count > t.today.baseline.high) and t.today.score > 0]
    return sorted(up, key=lambda t: (not t.today.spike, -t.today.score,
                                     t.counts.name.casefold()))[:limit]

