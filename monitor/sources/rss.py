"""The ``rss`` source: RSS 2.0, RSS 1.0 (RDF) and Atom documents, read with feedparser
(bytes in, items out), as monitor has read feeds from the start."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.dates import date_languages, names_a_zone, parse_date
from monitor.extract import strip_html
from monitor.language import detect_language, language_code
from monitor.sources.base import FeedItem, Items, Reading, http_link

ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml, "
          "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8")


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




# Where a feed proxy (FeedBurner, Pheedo) keeps the publisher's own link for an item whose
# <link> it rewrote to a redirect through itself; feedparser names them prefix_localname.
_ORIGINAL_LINKS = ("feedburner_origlink", "pheedo_origlink")


def _item_link(entry: Any, base: str) -> str | None:
    """The item's link: the publisher's original one when a feed proxy recorded it (the
    <link> is then a redirect through the proxy), else the <link>."""
    for key in _ORIGINAL_LINKS:
        if original := http_link(entry.get(key), base):
            return original
    return http_link(entry.get("link"), base)


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




class RssSource:
    """Feeds as monitor has always read them (feeds.kind ``rss``)."""

    kind = "rss"
    accept = ACCEPT

    async def read(self, body: bytes, reading: Reading) -> Items:
        parsed = await reading.run(parse_feed, body, reading.url, reading.content_type,
                                   now=reading.now, max_items=reading.max_items,
                                   language=reading.language)
        return Items(parsed.items, parsed.problem, parsed.title)
