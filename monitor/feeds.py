"""Feeds as values: parsing (feedparser, bytes in, items out), the polling schedule with
back-off, and OPML import/export.  No I/O here; fetch.py and pipeline.py do that."""

from __future__ import annotations

import calendar
import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

import feedparser

from monitor.config import check_url
from monitor.dates import date_languages, names_a_zone, parse_date
from monitor.errors import Problem, UsageError
from monitor.extract import strip_html
from monitor.language import detect_language, language_code

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
    language: str | None = None  # ISO 639-1, as the item or its feed declares it


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    items: list[FeedItem]
    problem: str | None  # what feedparser had to recover from ("bozo"), if anything
    language: str | None = None  # ISO 639-1, as the feed declares it


_DATE_KEYS = ("published", "updated", "created")
MAX_UNREADABLE_DATES = 3  # dates dateparser cannot read either: the rest are not tried


class _Dates:
    """Item dates: feedparser's reading, else dateparser's (in the configured language,
    the feed's declared one, else the one its titles are written in, and English).
    dateparser costs milliseconds a date, so it runs only where feedparser failed, and
    stops for the document after MAX_UNREADABLE_DATES dates it cannot read either."""

    def __init__(self, entries: list[Any], *declared: str | None) -> None:
        self.entries, self.declared = entries, declared
        self.languages: tuple[str, ...] | None = None
        self.unreadable = 0

    def when(self, entry: Any) -> datetime | None:
        written = [v for k in _DATE_KEYS if isinstance(v := dict.get(entry, k), str) and v]
        if written and names_a_zone(written[0]) and (when := parse_date(written[0])):
            return when  # feedparser would have read CEST or MSK as UTC
        for key in _DATE_KEYS:
            value = dict.get(entry, f"{key}_parsed")  # the plain lookup: no deprecated keys
            if value:
                try:
                    return datetime.fromtimestamp(calendar.timegm(value), UTC)
                except (OverflowError, ValueError):
                    continue
        if not written or self.unreadable >= MAX_UNREADABLE_DATES:
            return None
        if self.languages is None:
            self.languages = date_languages(*self.declared, self._titles_language())
        for value in written:
            if when := parse_date(value, self.languages):
                return when
        self.unreadable += 1
        return None

    def _titles_language(self) -> str | None:
        if any(language_code(d) for d in self.declared):
            return None
        titles = " ".join(plain(e.get("title")) for e in self.entries[:50])
        odds = detect_language(titles)
        best = max(odds, key=odds.__getitem__, default=None)
        return best if best is not None and odds[best] >= 0.5 else None


def _language(entry: Any, default: str | None) -> str | None:
    """The language an item declares (xml:lang on its title, summary or content), else its
    feed's."""
    details = [entry.get("title_detail"), entry.get("summary_detail"),
               *(entry.get("content") or [])]
    for detail in details:
        if isinstance(detail, dict) and (code := language_code(detail.get("language"))):
            return code
    return default


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


# Where a feed proxy (FeedBurner, Pheedo) keeps the publisher's own link for an item whose
# <link> it rewrote to a redirect through itself; feedparser names them prefix_localname.
_ORIGINAL_LINKS = ("feedburner_origlink", "pheedo_origlink")


def _item_link(entry: Any, base: str) -> str | None:
    """The item's link: the publisher's original one when a feed proxy recorded it (the
    <link> is then a redirect through the proxy), else the <link>."""
    for key in _ORIGINAL_LINKS:
        if original := _link(entry.get(key), base):
            return original
    return _link(entry.get("link"), base)


def plain(value: Any) -> str:
    """Text fit for a title: markup and scripts removed, entities decoded, one line."""
    text = value if isinstance(value, str) else ""
    if "<" in text or "&" in text:
        text = strip_html(text)
    return " ".join(text.split())


def parse_feed(body: bytes, url: str = "", content_type: str | None = None, *,
               now: datetime | None = None, max_items: int = 1000,
               language: str | None = None) -> ParsedFeed:
    """The items of a feed; a malformed feed keeps what can be recovered (and says why).

    Links are made absolute against ``url``; titles are plain text; a date after ``now``
    (a clock that is wrong somewhere) becomes ``now``; only the first ``max_items`` entries
    are read (a 50,000-item document is a problem recorded on the feed, not 50,000 fetches).
    ``language`` (the configured one) helps read dates written in words.
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
    declared = language_code(parsed.feed.get("language"))
    dates = _Dates(parsed.entries[:max_items], language, declared)
    for entry in parsed.entries[:max_items]:
        contents = [c.get("value", "") for c in entry.get("content", []) or []]
        published = dates.when(entry)
        if now is not None and published is not None and published > now:
            published = now
        items.append(FeedItem(
            guid=(entry.get("id") or None),
            link=_item_link(entry, url),
            title=plain(entry.get("title")),
            summary=entry.get("summary") or "",
            content=max(contents, key=len) if contents else "",
            published=published,
            author=plain(entry.get("author")) or None,
            language=_language(entry, declared),
        ))
    problem = "; ".join(problems) or None
    if not items and not parsed.get("version"):
        why = problem or "no RSS, Atom or RDF document found"
        return ParsedFeed(None, [], f"not a feed: {why}")
    return ParsedFeed(plain(parsed.feed.get("title")) or None, items, problem, declared)


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


@dataclass
class _Outline:
    attrs: dict[str, str]
    line: int
    children: list[_Outline] = field(default_factory=list)


def _outlines(data: bytes, path: str) -> list[_Outline]:
    """The <body>'s outlines as a tree, each with its line (expat, as ElementTree uses: no
    external entities; entity expansion is bounded)."""
    parser = expat.ParserCreate()
    root: list[_Outline] = []
    stack: list[list[_Outline] | None] = []
    seen = {"opml": False, "body": False}

    def start(tag: str, attrs: dict[str, str]) -> None:
        parent = stack[-1] if stack else None
        if not stack:
            seen["opml"] = tag == "opml"
        if tag == "body" and len(stack) == 1 and seen["opml"]:
            seen["body"] = True
            stack.append(root)
        elif tag == "outline" and parent is not None:
            outline = _Outline(attrs, parser.CurrentLineNumber)
            parent.append(outline)
            stack.append(outline.children)
        else:
            stack.append(None)

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda _tag: stack.pop()
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not valid OPML (XML): "
                         f"{expat.ErrorString(exc.code)}") from exc
    if not seen["body"]:
        raise UsageError(f"{path}: not an OPML file (no <opml><body>)")
    return root


def read_opml(data: bytes, path: str) -> tuple[list[OpmlFeed], list[Problem]]:
    """Every feed outline (xmlUrl) in an OPML file, with its folders as tags, and every
    outline skipped, with its line and why (a URL that is not http(s), or none)."""
    feeds: list[OpmlFeed] = []
    skipped: list[Problem] = []

    def walk(outlines: list[_Outline], folders: tuple[str, ...]) -> None:
        for outline in outlines:
            url = outline.attrs.get("xmlUrl", outline.attrs.get("xmlurl"))
            label = outline.attrs.get("title") or outline.attrs.get("text")
            where = f"outline {label!r}" if label else "outline"
            if url is not None:
                problem = "no feed URL (empty xmlUrl)" if not url.strip() else check_url(url)
                if problem is None:
                    feeds.append(OpmlFeed(url.strip(), label, folders))
                else:
                    skipped.append(Problem(path, outline.line, f"{where} skipped: {problem}"))
            elif outline.children:
                walk(outline.children, (*folders, label) if label else folders)
            else:
                skipped.append(Problem(path, outline.line,
                                       f"{where} skipped: no feed URL (xmlUrl)"))

    walk(_outlines(data, path), ())
    return feeds, skipped


def parse_opml(data: bytes, path: str) -> list[OpmlFeed]:
    """The feeds of an OPML file (read_opml, without the skipped outlines)."""
    return read_opml(data, path)[0]


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
