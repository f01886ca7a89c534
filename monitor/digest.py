"""Digests, pure: the windows a cron schedule makes, and a digest built from hit rows.

A window is [previous run, this run) in the digest's timezone (APScheduler's cron trigger
does the calendar and the DST changes).  A digest groups hits by watchlist, then entry;
each story appears once, under the entry with the most stories among those it matched, with
every outlet that carried it and why it matched.  render.py turns a Digest into e-mail, JSON
and Slack text.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from monitor.display import safe
from monitor.trendview import TrendLine

_TICK = timedelta(microseconds=1)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


# --- schedules ------------------------------------------------------------------------------


def cron_trigger(expression: str, zone: ZoneInfo) -> CronTrigger:
    """The trigger for a five-field cron expression; ValueError if it is not one."""
    if len(expression.split()) != 5:
        raise ValueError(f"expected 5 fields, got {len(expression.split())}")
    return CronTrigger.from_crontab(expression, timezone=zone)


def fire_after(trigger: CronTrigger, moment: datetime) -> datetime | None:
    """The first scheduled time strictly after ``moment``."""
    found: datetime | None = trigger.get_next_fire_time(None, moment + _TICK)
    return found


def last_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest scheduled time at or before ``now`` (within a year), else None."""
    for days in (1, 8, 32, 367):
        moment = fire_after(trigger, now - timedelta(days=days))
        if moment is None or moment > now:
            continue
        while (following := fire_after(trigger, moment)) is not None and following <= now:
            moment = following
        return moment
    return None


def due_window(trigger: CronTrigger, start: datetime, now: datetime
               ) -> tuple[datetime, datetime] | None:
    """The window to send now: from ``start`` (where the last one ended) to the latest
    scheduled time that has passed.  After downtime, the missed windows come as one."""
    end = fire_after(trigger, start)
    if end is None or end > now:
        return None
    latest = last_fire(trigger, now)
    return start, max(end, latest) if latest is not None else end


# --- the digest -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    outlet: str
    url: str | None
    published: datetime | None


@dataclass(frozen=True, slots=True)
class Why:
    """One entry a story matched, and how."""

    watchlist: str
    entry: str
    name: str
    matched: str
    alias: str
    score: float


@dataclass(frozen=True, slots=True)
class StoryView:
    story_id: int
    title: str
    url: str | None  # http(s) only: anything else is never rendered as a link
    published: datetime | None
    sources: tuple[Source, ...]
    snippet: str
    highlights: tuple[tuple[int, int], ...]  # spans of the snippet to highlight
    why: tuple[Why, ...]                      # the entry it is listed under first
    hit_ids: tuple[int, ...]

    @property
    def outlets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.outlet for s in self.sources))

    def segments(self) -> list[tuple[str, bool]]:
        """The snippet as (text, highlighted) pieces."""
        out, at = [], 0
        for start, end in self.highlights:
            if start > at:
                out.append((self.snippet[at:start], False))
            out.append((self.snippet[start:end], True))
            at = end
        if at < len(self.snippet):
            out.append((self.snippet[at:], False))
        return out


@dataclass(frozen=True, slots=True)
class EntryView:
    watchlist: str
    entry: str
    name: str
    kind: str
    stories: tuple[StoryView, ...]


@dataclass(frozen=True, slots=True)
class WatchlistView:
    name: str
    entries: tuple[EntryView, ...]


@dataclass(frozen=True, slots=True)
class HealthNote:
    feed: str
    url: str
    problem: str


@dataclass(frozen=True, slots=True)
class Digest:
    name: str
    kind: str  # digest | alert
    key: str   # unique per window (or, for alerts, per story)
    window_start: datetime | None
    window_end: datetime
    timezone: str
    watchlists: tuple[WatchlistView, ...]
    health: tuple[HealthNote, ...] = ()
    trends: tuple[TrendLine, ...] = ()  # the entries rising most (digesttrends.py)

    @property
    def entries(self) -> list[EntryView]:
        return [e for w in self.watchlists for e in w.entries]

    @property
    def stories(self) -> list[StoryView]:
        return [s for e in self.entries for s in e.stories]

    @property
    def hit_ids(self) -> list[int]:
        return [h for s in self.stories for h in s.hit_ids]

    @property
    def idempotency_key(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()[:32]

    def message_id(self, domain: str = "monitor.invalid") -> str:
        return f"<{self.idempotency_key}.{self.kind}@{domain}>"

    @property
    def subject(self) -> str:
        if self.kind == "alert" and self.stories:
            story = self.stories[0]
            names = ", ".join(dict.fromkeys(w.name for w in story.why))
            return clean_header(f"monitor alert — {names}: {story.title}")
        stories = self.stories
        if not stories:
            return f"monitor {self.name} — no new stories"
        ranked = sorted(self.entries, key=lambda e: (-len(e.stories), e.name))
        parts = [f"{e.name} ({len(e.stories)})" for e in ranked[:3]]
        more = ", …" if len(ranked) > 3 else ""
        noun = "story" if len(stories) == 1 else "stories"
        return clean_header(f"monitor {self.name} — {len(stories)} {noun}: "
                            f"{', '.join(parts)}{more}")

    def local(self, moment: datetime | None) -> str:
        """A time as the reader reads it: in the digest's timezone, with its abbreviation."""
        if moment is None:
            return ""
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M %Z")


def clean_header(value: str, limit: int = 200) -> str:
    """One line, no control characters (no header injection) and no bidi overrides, at most
    ``limit`` characters."""
    value = " ".join(safe(_CONTROL.sub(" ", value)).split())
    return value if len(value) <= limit else value[:limit - 1].rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) URL, else None (javascript:, data: ... never linked)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def outlet(source: dict[str, Any]) -> str:
    return str(source.get("feed") or urlsplit(source.get("url") or "").hostname or "unknown")


def marked(snippet: str, marks: Iterable[Sequence[Any]], entries: set[tuple[str, str]]
           ) -> tuple[tuple[int, int], ...]:
    """The spans to highlight: the matcher's marks (start, end, watchlist, entry) of the
    snippet for these entries, inside it, without overlaps (the longer first)."""
    spans: list[tuple[int, int]] = []
    candidates = {(int(m[0]), int(m[1])) for m in marks if (m[2], m[3]) in entries}
    for start, end in sorted(candidates, key=lambda s: (s[0] - s[1], s)):
        if 0 <= start < end <= len(snippet) and all(end <= s or start >= e for s, e in spans):
            spans.append((start, end))
    return tuple(sorted(spans))


def highlights(snippet: str, words: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """Non-overlapping spans of ``snippet`` where any of ``words`` occurs as whole words
    (case-insensitive).  Only for hits stored without marks (before migration 0005): the
    matcher's own spans are not known for them, and a plain search would mark la*un*ch."""
    spans: list[tuple[int, int]] = []
    for word in sorted({" ".join(w.split()) for w in words if w.strip()}, key=len,
                       reverse=True):
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, word.split())) + r"(?!\w)"
        for found in re.finditer(pattern, snippet, re.IGNORECASE):
            at, end = found.span()
            if all(end <= s or at >= e for s, e in spans):
                spans.append((at, end))
    return tuple(sorted(spans))


def build(name: str, kind: str, key: str, window: tuple[datetime | None, datetime],
          timezone: str, hits: Sequence[dict[str, Any]],
          health: Sequence[HealthNote] = ()) -> Digest:
    """The digest of these hit rows (queries.hit_rows' keys, with ``alias`` and
    ``sources``): stories grouped by watchlist, then entry, each story once."""
    by_story: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for hit in hits:
        by_story[hit["story_id"]].append(hit)
    counts = Counter((h["watchlist"], h["entry"]) for rows in by_story.values()
                     for h in {(r["watchlist"], r["entry"]): r for r in rows}.values())
    rank = {key: i for i, (key, _) in enumerate(sorted(counts.items(),
                                                       key=lambda kv: (-kv[1], kv[0])))}
    placed: dict[tuple[str, str], list[StoryView]] = defaultdict(list)
    info: dict[tuple[str, str], dict[str, Any]] = {}
    for story_id, rows in by_story.items():
        rows = sorted(rows, key=lambda r: (rank[(r["watchlist"], r["entry"])], r["hit_id"]))
        first = rows[0]
        where = (first["watchlist"], first["entry"])
        info.setdefault(where, first)
        placed[where].append(_story(story_id, rows))
    entries: dict[str, list[EntryView]] = defaultdict(list)
    for where in sorted(placed, key=lambda k: rank[k]):
        first = info[where]
        stories = sorted(placed[where], key=lambda s: (-len(s.outlets), _newest(s), s.story_id))
        entries[where[0]].append(EntryView(where[0], where[1], first["name"], first["kind"],
                                           tuple(stories)))
    views = sorted((WatchlistView(w, tuple(e)) for w, e in entries.items()),
                   key=lambda v: (-sum(len(e.stories) for e in v.entries), v.name))
    return Digest(name, kind, key, window[0], window[1], timezone, tuple(views), tuple(health))


def _newest(story: StoryView) -> float:
    return -story.published.timestamp() if story.published else 0.0


def _story(story_id: int, rows: list[dict[str, Any]]) -> StoryView:
    first = rows[0]
    sources = tuple(Source(safe(outlet(s)), safe_url(s.get("url")), _when(s.get("published")))
                    for s in first.get("sources") or [])
    why = tuple(Why(r["watchlist"], r["entry"], safe(r["name"]), safe(r["matched"]),
                    safe(r.get("alias") or ""), float(r["score"])) for r in rows)
    stored = first.get("snippet") or ""
    snippet = safe(stored)
    marks = first.get("snippet_marks")
    if marks is not None and snippet == stored:  # the matcher's own spans
        spans = marked(snippet, marks, {(r["watchlist"], r["entry"]) for r in rows})
    else:  # a hit stored before marks were kept: its matched words, as whole words
        spans = highlights(snippet, (w.matched for w in why))
    return StoryView(
        story_id=story_id, title=clean_header(first.get("title") or "(untitled)", 300),
        url=safe_url(first.get("url")),
        published=_when(first.get("published")) or min(
            (s.published for s in sources if s.published), default=None),
        sources=sources, snippet=snippet,
        highlights=spans, why=why,
        hit_ids=tuple(r["hit_id"] for r in rows))


def _when(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
