"""Spike alerts: an entry far above its usual days today, said in a sentence ("Sergei Shoigu:
14 events today, usually 0-3 a day. Top: ...") with its top three events and their links.

Made as alert digests (deliver.make_alerts records and sends them through the alert channels),
one per entry per day at most (the run's key), and only for an entry a live poll counted
something for today: backfilled articles count in its numbers but never set one off alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime

from monitor.config import Config
from monitor.digest import Digest, EntryView, StoryView, WatchlistView, build, clean_header
from monitor.store import Store
from monitor.store.digests import runs_made
from monitor.store.trends import entry_hits_on, live_today, today
from monitor.trendreport import EntryTrend, trends

TOP = 3  # events named in an alert
_SUBJECT_LIMIT = 400


@dataclass(frozen=True, slots=True)
class SpikeAlert(Digest):
    """An alert digest whose subject is the spike's explanation; its stories are the top
    events (claiming no hits, so the per-story alerts go on as before)."""

    message: str = ""

    @property
    def subject(self) -> str:
        return clean_header(self.message, _SUBJECT_LIMIT)


def run_key(watchlist: str, entry: str, day: date) -> str:
    """The alert's run key: one per entry and day (digest_runs.key is unique)."""
    key = f"spike:{watchlist}/{entry}:{day.isoformat()}"
    if len(key) <= 255:
        return key
    digest = hashlib.sha256(f"{watchlist}\x00{entry}".encode()).hexdigest()
    return f"spike:{digest}:{day.isoformat()}"


def spike_alerts(store: Store, config: Config, now: datetime) -> list[SpikeAlert]:
    """The spike alerts due now: entries a live poll counted today that spike today and
    have not been alerted on today."""
    settings = config.trends
    day = today(settings.timezone, now)
    candidates = live_today(store, day, settings.min_events)
    if not candidates:
        return []
    keys = {run_key(w, e, day): (w, e) for w, e in candidates}
    done = runs_made(store, list(keys))
    fresh = [entry for key, entry in keys.items() if key not in done]
    if not fresh:
        return []
    found = trends(store, settings, now, 1, entries=fresh)
    return [_alert(store, t, day, now, settings.timezone) for t in found if t.today.spike]


def _alert(store: Store, trend: EntryTrend, day: date, now: datetime,
           timezone: str) -> SpikeAlert:
    w, e = trend.counts.watchlist, trend.counts.entry
    rows = entry_hits_on(store, w, e, day)
    built = build("alert", "alert", run_key(w, e, day), (None, now), timezone, rows)
    top = [replace(s, hit_ids=()) for s in built.stories[:TOP]]  # most outlets first
    view = EntryView(w, e, trend.counts.name, trend.counts.kind, tuple(top))
    return SpikeAlert("alert", "alert", run_key(w, e, day), None, now, timezone,
                      (WatchlistView(w, (view,)),), message=explain(trend, top))


def explain(trend: EntryTrend, top: list[StoryView]) -> str:
    """"Sergei Shoigu: 14 events today, usually 0-3 a day. Top: A (Reuters, BBC); B (TASS)"."""
    count = trend.today.count
    noun = "event" if count == 1 else "events"
    usual = trend.usual
    text = f"{trend.counts.name}: {count} {noun} today"
    if usual is not None:
        text += f", usually {usual[0]}-{usual[1]} a day" if usual[0] != usual[1] else (
            f", usually {usual[0]} a day")
    named = [f"{s.title} ({', '.join(s.outlets)})" if s.outlets else s.title for s in top]
    return text + (". Top: " + "; ".join(named) if named else "")
