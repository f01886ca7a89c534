"""Feeds as rows to poll: the polling schedule with back-off, the body hash that tells an
unchanged document, and OPML import/export of the feed list.  Reading a feed's
documents is its source's job (monitor.sources); no I/O here."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from monitor.config import check_url
from monitor.errors import Problem, UsageError

MAX_BACKOFF = 6 * 3600.0
JITTER = 0.1  # up to 10% of the interval, so 500 feeds do not fire in the same second
MIN_POLL = 120.0  # seconds: a feed whose documents overflow is polled sooner, never this often


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
