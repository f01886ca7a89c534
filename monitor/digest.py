"""Digests, pure: the windows a cron schedule makes, and a digest built from hit rows.

A window is [previous run, this run) in the digest's timezone (APScheduler's cron trigger
does the calendar and the DST changes).  A digest groups hits by watchlist, then entry;
each event (the stories of one happening, monitor/events.py) appears once, under its most
specific entry, ranked by its score, with every outlet that reported it (each with its own
headline, linked by its canonical URL) and why it matched.  render.py turns a Digest into
e-mail, JSON and Slack text.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from monitor import events
from monitor.dedupe import TRACKING
from monitor.display import safe
from monitor.headline import clean as clean_headline
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
    title: str | None = None  # the outlet's own headline (cleaned), when known


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
    event_id: int | None = None  # the event it stands for (None: a story of its own)
    score: float = 0.0           # its rank (events.score): outlets, priority, prominence, age

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
            return f"monitor {self.name} — no new events"
        ranked = sorted(stories, key=lambda s: (-s.score, s.story_id))
        tops = list(dict.fromkeys(s.why[0].name for s in ranked if s.why))
        more = ", …" if len(tops) > 3 else ""
        noun = "event" if len(stories) == 1 else "events"
        return clean_header(f"monitor {self.name} — {', '.join(tops[:3])}{more}: "
                            f"{len(stories)} {noun}")

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
    """The digest of these hit rows (queries.hit_rows' keys, with ``alias``, ``sources``
    and, when known, ``event_id``, ``start`` and ``event_sources``): each event (the
    stories of one happening; a story without an event is its own) once, under its most
    specific entry (events.specificity: high priority, then actor, treaty, organization,
    topic, before place, before country; then the entry most prominent in its texts; the
    entry of the most events of the window only breaks a tie), ordered by score."""
    by_event: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for hit in hits:
        event = hit.get("event_id")
        by_event[("event", int(event)) if event is not None
                 else ("story", int(hit["story_id"]))].append(hit)
    counts = Counter(k for rows in by_event.values()
                     for k in {(r["watchlist"], r["entry"]) for r in rows})
    placed: dict[tuple[str, str], list[StoryView]] = defaultdict(list)
    info: dict[tuple[str, str], dict[str, Any]] = {}
    for group, rows in by_event.items():
        order = _entry_order(rows, counts)
        where = order[0]
        info.setdefault(where, next(r for r in rows if (r["watchlist"], r["entry"]) == where))
        placed[where].append(_event(group, rows, order, window[1]))
    best = {where: max(s.score for s in views) for where, views in placed.items()}
    entries: dict[str, list[EntryView]] = defaultdict(list)
    for where in sorted(placed, key=lambda k: (-best[k], info[k]["name"], k)):
        first = info[where]
        stories = sorted(placed[where], key=lambda s: (-s.score, _newest(s), s.story_id))
        entries[where[0]].append(EntryView(where[0], where[1], first["name"], first["kind"],
                                           tuple(stories)))
    views = sorted((WatchlistView(w, tuple(e)) for w, e in entries.items()),
                   key=lambda v: (-max(best[(e.watchlist, e.entry)] for e in v.entries),
                                  v.name))
    return Digest(name, kind, key, window[0], window[1], timezone, tuple(views), tuple(health))


def _entry_order(rows: list[dict[str, Any]], counts: Counter[tuple[str, str]]
                 ) -> list[tuple[str, str]]:
    """An event's entries, the one it is filed under first (build's docstring)."""
    weight: dict[tuple[str, str], float] = defaultdict(float)
    high: set[tuple[str, str]] = set()
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        k = (r["watchlist"], r["entry"])
        weight[k] += events.prominence(r.get("start"), r.get("title"))
        first.setdefault(k, r)
        if r.get("priority") == "high":
            high.add(k)
    return sorted(first, key=lambda k: (
        *events.specificity("high" if k in high else "normal", first[k]["kind"], weight[k],
                            "")[:3], -counts[k], first[k]["name"], k))


def _newest(story: StoryView) -> float:
    return -story.published.timestamp() if story.published else 0.0


def clean_link(url: str | None) -> str | None:
    """The link a digest shows: the article's URL (the canonical one, when the store gives
    it) without utm_* or other tracking parameters, http(s) only; a URL with none is left
    as it is."""
    plain = safe_url(url)
    if plain is None:
        return None
    parts = urlsplit(plain)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not TRACKING.match(k)]
    if len(kept) == len(pairs):
        return plain
    return safe_url(urlunsplit(parts._replace(query=urlencode(kept), fragment="")))


def _event(group: tuple[str, int], rows: list[dict[str, Any]], order: list[tuple[str, str]],
           end: datetime) -> StoryView:
    """One event as the digest shows it: its typical story's headline (the story most
    outlets carried), every outlet with its own headline, why it matched, its score."""
    stories = list(dict.fromkeys(r["story_id"] for r in rows))
    carried = Counter({s: len({outlet(x) for r in rows if r["story_id"] == s
                                for x in r.get("sources") or []}) for s in stories})
    typical = max(stories, key=lambda s: (carried[s], -stories.index(s)))
    rank = {k: i for i, k in enumerate(order)}
    mine = sorted((r for r in rows if r["story_id"] == typical),
                  key=lambda r: (rank[(r["watchlist"], r["entry"])], r["hit_id"]))
    lead = next((r for r in rows if (r["watchlist"], r["entry"]) == order[0]
                 and r["story_id"] == typical), None) or next(
        r for r in rows if (r["watchlist"], r["entry"]) == order[0])
    whys: dict[tuple[str, str], dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (rank[(r["watchlist"], r["entry"])], r["hit_id"])):
        whys.setdefault((r["watchlist"], r["entry"]), r)
    view = _story(lead["story_id"], [lead, *[w for k, w in whys.items() if k != order[0]]])
    sources = _sources(rows)
    head = mine[0] if mine else lead
    site = outlet((head.get("sources") or [{}])[0]) if head.get("sources") else None
    title = clean_headline(head.get("title") or "", site_names=[site], url=head.get("url"))
    published = [s.published for s in sources if s.published]
    newest = max(published, default=view.published)
    age = (end - newest).total_seconds() / 3600 if newest else 72.0
    weight = sum(events.prominence(r.get("start"), r.get("title")) for r in rows
                 if (r["watchlist"], r["entry"]) == order[0])
    return replace(
        view, story_id=typical, title=clean_header(title or "(untitled)", 300),
        url=clean_link(head.get("url")), sources=sources,
        published=min(published, default=view.published),
        hit_ids=tuple(sorted(r["hit_id"] for r in rows)),
        event_id=group[1] if group[0] == "event" else None,
        score=events.score(len({s.outlet for s in sources}) or 1,
                           any(r.get("priority") == "high" for r in rows), weight, age))


def _sources(rows: list[dict[str, Any]]) -> tuple[Source, ...]:
    """Every outlet of the event (``event_sources`` when the store gave them, else each
    story's sources), once per link, oldest first."""
    given = next((r["event_sources"] for r in rows if r.get("event_sources")), None)
    found = given if given is not None else [s for r in rows for s in r.get("sources") or []]
    out: dict[str, Source] = {}
    for s in found:
        link = clean_link(s.get("url"))
        title = s.get("title")
        source = Source(safe(outlet(s)), link, _when(s.get("published")),
                        clean_header(clean_headline(title, site_names=[s.get("feed")],
                                                    url=s.get("url")), 300) if title else None)
        out.setdefault(link or f"{source.outlet}:{len(out)}", source)
    return tuple(sorted(out.values(), key=lambda s: (s.published is None, s.published or 0,
                                                     s.outlet))) if out else ()


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
