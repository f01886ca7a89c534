"""Feeds as values: parsing (feedparser, bytes in, items out), the polling schedule with
back-off, and OPML import/export.  No I/O here; fetch.py and pipeline.py do that."""

from __future__ import annotations

import calendar
import hashlib
import random
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.sax.saxutils import escape, quoteattr

import feedparser

from monitor.config import check_url
from monitor.errors import UsageError
from monitor.extract import strip_html

MAX_BACKOFF = 6 * 3600.0
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
JITTER = 0.1  # up to 10% of the interval, so 500 feeds do not fire in the same second
MIN_POLL = 120.0  # seconds: a feed whose documents overflow is polled sooner, never this often


@dataclass(frozen=True, slots=True)
class FeedItem:
    guid: str | None
    link: str | None
    title: str
    summary: str  # HTML as the feed gave it
    content: str  # the longest full content the feed gave, HTML
    published: datetime | None
    author: str | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    items: list[FeedItem]
    problem: str | None  # what feedparser had to recover from ("bozo"), if anything


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # the plain lookup: no deprecated key mapping
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError):
                continue
    return None


def _link(value: Any, base: str) -> str | None:
    """An item's link as an absolute http(s) URL (relative ones against the feed's URL);
    None for anything else (javascript:, data:, mailto:, control characters, garbage).
    As browsers do, surrounding spaces and control characters, and tabs and line breaks
    inside, are removed, and spaces inside are percent-encoded."""
    if not isinstance(value, str):
        return None
    link = value.strip(_C0_AND_SPACE).replace("\t", "").replace("\n", "").replace("\r", "")
    if not link or any(c < " " or c == "\x7f" for c in link):
        return None
    link = link.replace(" ", "%20")
    try:
        link = urljoin(base, link) if base else link
        parts = urlsplit(link)
        parts.port  # noqa: B018 - raises for a port that is not one
    except ValueError:
        return None
    return link if parts.scheme in ("http", "https") and parts.hostname else None


def plain(value: Any) -> str:
    """Text fit for a title: markup and scripts removed, entities decoded, one line."""
    text = value if isinstance(value, str) else ""
    if "<" in text or "&" in text:
        text = strip_html(text)
    return " ".join(text.split())


def parse_feed(body: bytes, url: str = "", content_type: str | None = None, *,
               now: datetime | None = None, max_items: int = 1000) -> ParsedFeed:
    """The items of a feed; a malformed feed keeps what can be recovered (and says why).

    Links are made absolute against ``url``; titles are plain text; a date after ``now``
    (a clock that is wrong somewhere) becomes ``now``; only the first ``max_items`` entries
    are read (a 50,000-item document is a problem recorded on the feed, not 50,000 fetches).
    """
    headers = {"content-type": content_type} if content_type else None
    try:
        parsed = feedparser.parse(body, response_headers=headers, resolve_relative_uris=False,
                                  sanitize_html=False)
    except Exception as failure:  # feedparser's own bugs, found by fuzzing
        return ParsedFeed(None, [], f"not a feed: the parser failed: {type(failure).__name__}")
    problems = []
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        problems.append(f"malformed, recovered what could be: {type(exc).__name__}: {exc}"
                        if exc else "malformed, recovered what could be")
    if len(parsed.entries) > max_items:
        problems.append(f"the feed lists {len(parsed.entries):,} items; only the first "
                        f"{max_items:,} are read (fetch.max_items)")
    items = []
    for entry in parsed.entries[:max_items]:
        contents = [c.get("value", "") for c in entry.get("content", []) or []]
        published = _when(entry)
        if now is not None and published is not None and published > now:
            published = now
        items.append(FeedItem(
            guid=(entry.get("id") or None),
            link=_link(entry.get("link"), url),
            title=plain(entry.get("title")),
            summary=entry.get("summary") or "",
            content=max(contents, key=len) if contents else "",
            published=published,
            author=plain(entry.get("author")) or None,
        ))
    problem = "; ".join(problems) or None
    if not items and not parsed.get("version"):
        why = problem or "no RSS, Atom or RDF document found"
        return ParsedFeed(None, [], f"not a feed: {why}")
    return ParsedFeed(plain(parsed.feed.get("title")) or None, items, problem)


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# --- schedule ---------------------------------------------------------------------------


def next_poll(now: datetime, interval: float, error_count: int = 0,
              retry_after: float | None = None, rng: random.Random | None = None) -> datetime:
    """When to poll again: the interval with jitter; after failures an exponential back-off
    (interval * 2**(errors-1), capped at MAX_BACKOFF); never before a Retry-After."""
    rng = rng or random.Random()
    delay = interval
    if error_count > 0:
        delay = min(MAX_BACKOFF, interval * 2 ** min(error_count - 1, 20))
        delay = max(delay, min(interval, MAX_BACKOFF))
    delay += rng.uniform(0, JITTER * delay)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)


def adapt_interval(interval: float, previous: float | None, new: int, listed: int) -> float:
    """The delay before a feed that answered is polled again.  When every item of its
    document was new, items may have scrolled out of it unseen since the last poll: half
    the previous delay.  When fewer than half were new: twice it.  Always within
    [MIN_POLL, interval] (``interval`` is the ceiling; one below MIN_POLL is kept as is).
    ``previous``: the delay before this poll as scheduled, jitter included (its mean is
    taken off, so a kept delay does not creep up); None on the first poll, whose items are
    all new by definition."""
    if previous is None or listed == 0:
        return interval
    previous /= 1 + JITTER / 2
    if new == listed:
        delay = previous / 2
    elif 2 * new < listed:
        delay = previous * 2
    else:
        delay = previous
    return max(min(MIN_POLL, interval), min(interval, delay))


# --- OPML ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    name: str | None
    tags: tuple[str, ...]


def parse_opml(data: bytes, path: str) -> list[OpmlFeed]:
    """Every feed outline (xmlUrl) in an OPML file, with its folders as tags."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line = exc.position[0]
        raise UsageError(f"{path}:{line}: not valid OPML (XML): {exc}") from exc
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise UsageError(f"{path}: not an OPML file (no <opml><body>)")
    feeds: list[OpmlFeed] = []

    def walk(node: ET.Element, folders: tuple[str, ...]) -> None:
        for outline in node.findall("outline"):
            url = outline.get("xmlUrl") or outline.get("xmlurl")
            label = outline.get("title") or outline.get("text")
            if url:
                if check_url(url) is None:
                    feeds.append(OpmlFeed(url.strip(), label, folders))
            else:
                walk(outline, (*folders, label) if label else folders)

    walk(body, ())
    return feeds


def to_opml(feeds: list[OpmlFeed], title: str = "monitor feeds") -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="2.0">',
             f"  <head><title>{escape(title)}</title></head>", "  <body>"]
    for feed in feeds:
        label = feed.name or feed.url
        extra = f" category={quoteattr(','.join(feed.tags))}" if feed.tags else ""
        lines.append(f'    <outline type="rss" text={quoteattr(label)} '
                     f"title={quoteattr(label)} xmlUrl={quoteattr(feed.url)}{extra}/>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)
