"""Finding a site's source from its address, for ``monitor feeds add URL``: the URL is a
feed (added as ``rss``), a sitemap (added as ``sitemap``), or a web page whose
``<link rel="alternate">`` feeds are read (the first that reads as a feed is added, the
others listed); failing those, the ``Sitemap:`` lines of the site's /robots.txt, news
sitemaps first.

The steps are pure functions (classify, feed_links, robots_sitemaps, rank_sitemaps);
``discover`` strings them together through an injected ``fetch``, so the caller fetches
(through the Fetcher, with its address guard and limits) and tests use a fake.  It makes
at most 2 + 2 * MAX_PROBES requests: the page, MAX_PROBES of its feed links, robots.txt,
MAX_PROBES of its sitemaps.  No guessed paths (/feed, /rss) are tried: a page that names
no feed and a robots.txt that names no sitemap is said so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from lxml import etree

from monitor.display import mask_url
from monitor.errors import MonitorError, UsageError
from monitor.extract import decode_page
from monitor.feedurl import feed_url
from monitor.sources.base import Fetch, Fetched, http_link
from monitor.sources.rss import parse_feed, plain
from monitor.sources.sitemap import ParsedSitemap, inflate, parse_sitemap

MAX_PROBES = 3  # feed links, then sitemaps, fetched to find one that reads
MAX_ROBOTS_SITEMAPS = 50
SNIFF_BYTES = 4096

SourceKind = Literal["rss", "sitemap"]
Sniffed = Literal["feed", "json-feed", "sitemap", "html", "other"]

# <link type="..."> values that announce a feed, and whether monitor reads it (feedparser
# reads RSS, Atom and RDF; JSON Feed is listed, never chosen).
FEED_TYPES = {"application/rss+xml": True, "application/atom+xml": True,
              "application/rdf+xml": True, "application/feed+json": False,
              "application/json": False}
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_FEED_MEDIA = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
_FEED_ROOTS = frozenset({"rss", "feed", "rdf"})
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
# JSON links that are no feed: WordPress's REST API and oEmbed on every page.
_NOT_FEEDS = re.compile(r"/wp-json/|[?&]rest_route=|oembed", re.IGNORECASE)
_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE\s[^\[>]*(?:\[.*?\])?\s*>)",
                     re.DOTALL | re.IGNORECASE)
_ELEMENT = re.compile(r"<([A-Za-z_][\w.:-]*)")
_HTML_DOCTYPE = re.compile(r"<!DOCTYPE\s+html", re.IGNORECASE)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


class NoSourceFound(UsageError):
    """The URL is no feed or sitemap, and names none that monitor can read."""


class Unreachable(MonitorError):
    """The URL could not be fetched at all (no HTTP answer)."""


# --- what a body is -------------------------------------------------------------------------


def _head(body: bytes) -> str:
    """The start of a body as text (a byte-order mark says how; else UTF-8, leniently)."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom):SNIFF_BYTES].decode(codec, errors="replace")
    return body[:SNIFF_BYTES].decode("utf-8", errors="replace")


def _root(head: str) -> str | None:
    """The local name of the first element, past the XML declaration, processing
    instructions, comments and a doctype; None when the start shows none."""
    position = 0
    while found := _PROLOG.match(head, position):
        if found.end() == position:
            break
        position = found.end()
    element = _ELEMENT.match(head[position:].lstrip())
    return element[1].rpartition(":")[2].lower() if element else None


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def classify(body: bytes, content_type: str | None = None) -> Sniffed:
    """What a fetched body is: a feed (RSS, Atom, RDF), a JSON Feed, a sitemap (XML,
    gzipped or plain text), an HTML page, or something else.  The body decides (servers
    label feeds text/html and pages text/xml); the Content-Type only where the first
    bytes do not tell."""
    if body.startswith(b"\x1f\x8b"):  # a .xml.gz: a gzipped sitemap or nothing we read
        inner, _ = inflate(body[:65536], 65536)
        return "sitemap" if classify(inner) == "sitemap" else "other"
    head = _head(body)
    text = head.lstrip()
    media = _media(content_type)
    if text.startswith("{"):
        return "json-feed" if "jsonfeed.org/version" in head else "other"
    if _HTML_DOCTYPE.match(text):
        return "html"
    root = _root(head)
    if root in _FEED_ROOTS:
        return "feed"
    if root in _SITEMAP_ROOTS:
        return "sitemap"
    if root == "html" or (root is not None and media in _HTML_TYPES):
        return "html"
    if root is None and text.split("\n", 1)[0].strip().lower().startswith(
            ("http://", "https://")):
        return "sitemap"  # a text sitemap: one URL a line
    if media in _FEED_MEDIA:
        return "feed"
    return "html" if media in _HTML_TYPES else "other"


# --- a page's feeds -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A feed a page announces."""

    url: str
    title: str | None
    type: str  # the link's media type ('' for rel="feed" without one)

    @property
    def readable(self) -> bool:
        """Whether monitor can poll it (RSS, Atom, RDF; not JSON Feed)."""
        return FEED_TYPES.get(self.type, True)


def _html(body: bytes, content_type: str | None) -> etree._Element | None:
    parser = etree.HTMLParser(recover=True, no_network=True, remove_comments=True,
                              remove_pis=True, huge_tree=False, encoding="utf-8")
    data = decode_page(body, content_type).encode("utf-8", errors="replace")
    try:
        return etree.fromstring(data, parser)
    except (etree.ParserError, ValueError):
        return None


def feed_links(body: bytes, url: str, content_type: str | None = None) -> list[FeedLink]:
    """The feeds an HTML page announces with ``<link rel="alternate" type="application/
    rss+xml|atom+xml|rdf+xml|feed+json|json">`` (or rel="feed"), in document order, one
    per feed URL, made absolute against the page's ``<base href>`` or ``url``; JSON links
    to WordPress's REST API and oEmbed are no feeds and left out."""
    root = _html(body, content_type)
    if root is None:
        return []
    base = url
    for element in root.iter("base"):
        if (href := element.get("href")) is not None:
            base = http_link(href, url) or url
            break
    links: dict[str, FeedLink] = {}
    for element in root.iter("link"):
        rel = set((element.get("rel") or "").lower().split())
        kind = _media(element.get("type"))
        announced = ("alternate" in rel and kind in FEED_TYPES) or (
            "feed" in rel and (not kind or kind in FEED_TYPES))
        href = element.get("href")
        if not announced or href is None:
            continue
        link = http_link(href, base)
        if link is None or (not FEED_TYPES.get(kind, True) and _NOT_FEEDS.search(link)):
            continue
        key = feed_url(link)
        if key not in links:
            links[key] = FeedLink(link, plain(element.get("title")) or None, kind)
    return list(links.values())


# --- robots.txt -------------------------------------------------------------------------------


def robots_url(url: str) -> str:
    """The site's robots.txt: /robots.txt at the URL's scheme, host and port."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))


def robots_sitemaps(body: bytes, limit: int = MAX_ROBOTS_SITEMAPS) -> list[str]:
    """The sitemaps a robots.txt names (``Sitemap:`` lines, any case, comments removed),
    absolute http(s) URLs only, in order, once each, at most ``limit``."""
    text = _head(body) if len(body) <= SNIFF_BYTES else body.decode("utf-8", "replace")
    found: dict[str, None] = {}
    for line in text.removeprefix("\ufeff").splitlines():
        key, colon, value = line.split("#", 1)[0].partition(":")
        if not colon or key.strip().lower() != "sitemap":
            continue
        link = http_link(value.strip(), "")
        if link is not None:
            found.setdefault(link)
            if len(found) >= limit:
                break
    return list(found)


def rank_sitemaps(urls: list[str]) -> list[str]:
    """Sitemaps in the order to try them: those named for news first (news-sitemap.xml,
    sitemap_news.xml, /news/sitemap.xml), then the others, each in the given order."""
    return sorted(urls, key=lambda u: "news" not in urlsplit(u).path.lower())


# --- the search -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A source found and not chosen."""

    url: str
    kind: Literal["rss", "sitemap", "json-feed"]  # json-feed: listed, not readable yet
    title: str | None


@dataclass(frozen=True, slots=True)
class Discovery:
    url: str  # the source to add
    kind: SourceKind
    title: str | None  # the feed's or link's title, or the news publication's name
    alternatives: tuple[Candidate, ...]  # other sources found, in the order found
    explanation: str  # one or two sentences on how it was found, URLs masked


async def _get(fetch: Fetch, url: str) -> Fetched:
    got = await fetch(url)
    return got if isinstance(got, Fetched) else Fetched(*got)


def _failure(got: Fetched) -> str:
    return got.error or f"HTTP {got.status}"


def _describe(parsed: ParsedSitemap) -> str:
    if parsed.kind == "index":
        return f"a sitemap index of {len(parsed.sitemaps):,} sitemaps"
    count = f"{len(parsed.entries):,} URLs"
    name = f", {parsed.title!r}" if parsed.title else ""
    return f"a news sitemap ({count}{name})" if parsed.news else f"a sitemap ({count})"


async def discover(url: str, fetch: Fetch, *, max_items: int = 1000) -> Discovery:
    """The source to add for ``url``, how it was found, and the others found; raises
    NoSourceFound (nothing readable there) or Unreachable (no HTTP answer)."""
    page = await _get(fetch, url)
    if page.status is None:
        raise Unreachable(f"could not fetch {mask_url(url)}: {_failure(page)}")
    notes: list[str] = []
    if not page.ok:
        notes.append(f"{mask_url(url)} answered {_failure(page)}")
    else:
        what = classify(page.body, page.content_type)
        if what == "feed":
            title = parse_feed(page.body, page.final_url, page.content_type,
                               max_items=1).title
            return Discovery(url, "rss", title, (), f"{mask_url(url)} is a feed")
        if what == "sitemap":
            parsed = parse_sitemap(page.body, page.final_url, max_items=max_items)
            if parsed.kind is not None:
                return Discovery(url, "sitemap", parsed.title, (),
                                 f"{mask_url(url)} is {_describe(parsed)}")
            notes.append(f"{mask_url(url)} is {parsed.problem}")
        elif what == "json-feed":
            raise NoSourceFound(f"{mask_url(url)} is a JSON Feed, which monitor does not "
                                "read yet: look for the site's RSS or Atom feed")
        elif what == "html":
            links = feed_links(page.body, page.final_url, page.content_type)
            found = await _from_links(page.final_url, links, fetch, notes)
            if found is not None:
                return found
        else:
            kind = _media(page.content_type) or "no Content-Type"
            notes.append(f"{mask_url(url)} is not a feed, a sitemap or a web page ({kind})")
    found = await _from_robots(page, fetch, notes, max_items)
    if found is not None:
        return found
    raise NoSourceFound(f"no feed or news sitemap found at {mask_url(url)}: "
                        + "; ".join(notes))


async def _from_links(page: str, links: list[FeedLink], fetch: Fetch, notes: list[str]
                      ) -> Discovery | None:
    """The first of a page's feed links that reads as a feed (at most MAX_PROBES tried)."""
    readable = [link for link in links if link.readable]
    if not readable:
        notes.append(f"the page lists only JSON Feeds ({len(links)}), which monitor does not "
                     "read yet" if links else "the page lists no <link rel=alternate> feeds")
        return None
    failed: list[str] = []
    reasons: list[str] = []
    for link in readable[:MAX_PROBES]:
        got = await _get(fetch, link.url)
        what = classify(got.body, got.content_type) if got.ok else None
        if what == "feed":
            title = link.title or parse_feed(got.body, got.final_url, got.content_type,
                                             max_items=1).title
            others = tuple(Candidate(o.url, "rss" if o.readable else "json-feed", o.title)
                           for o in links if o is not link and o.url not in failed)
            listed = f"; it lists {len(links)} feeds" if len(links) > 1 else ""
            return Discovery(link.url, "rss", title, others,
                             f"found on {mask_url(page)} (<link rel=alternate>){listed}"
                             + (f"; unreadable: {', '.join(map(mask_url, failed))}"
                                if failed else ""))
        failed.append(link.url)
        reasons.append(f"{mask_url(link.url)}: "
                       + (_failure(got) if not got.ok else f"not a feed but {what}"))
    which = f"the first {len(failed)} of " if len(readable) > len(failed) else ""
    notes.append(f"none of {which}the page's {len(readable)} feeds could be read "
                 f"({'; '.join(reasons)})")
    return None


async def _from_robots(page: Fetched, fetch: Fetch, notes: list[str], max_items: int
                       ) -> Discovery | None:
    """A sitemap named in the site's robots.txt: the first news sitemap among the first
    MAX_PROBES (news-named ones first), else the first that reads as a sitemap."""
    where = robots_url(page.final_url)
    robots = page if page.final_url == where and page.ok else await _get(fetch, where)
    if not robots.ok:
        notes.append(f"robots.txt answered {_failure(robots)}")
        return None
    named = robots_sitemaps(robots.body)
    if not named:
        notes.append("robots.txt names no sitemap")
        return None
    ranked = rank_sitemaps(named)
    fallback: tuple[str, ParsedSitemap] | None = None
    for candidate in ranked[:MAX_PROBES]:
        got = await _get(fetch, candidate)
        parsed = parse_sitemap(got.body, got.final_url, max_items=max_items) if got.ok \
            else None
        if parsed is None or parsed.kind is None:
            reason = _failure(got) if parsed is None else parsed.problem
            notes.append(f"sitemap {mask_url(candidate)}: {reason}")
            continue
        if parsed.news:
            return _sitemap_found(candidate, parsed, ranked, notes, "")
        fallback = fallback or (candidate, parsed)
    if fallback is not None:
        return _sitemap_found(*fallback, ranked, notes, " (no news sitemap among the first "
                              f"{min(len(ranked), MAX_PROBES)})")
    notes.append(f"none of the {len(named)} sitemaps robots.txt names could be read")
    return None


def _sitemap_found(url: str, parsed: ParsedSitemap, ranked: list[str], notes: list[str],
                   why: str) -> Discovery:
    others = tuple(Candidate(u, "sitemap", None) for u in ranked if u != url)
    plural = "s" if len(ranked) > 1 else ""
    explanation = "; ".join([*notes, f"robots.txt names {len(ranked)} sitemap{plural}, and "
                             f"{mask_url(url)} is {_describe(parsed)}{why}"])
    return Discovery(url, "sitemap", parsed.title, others, explanation)


# --- for `monitor feeds add` --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unchecked:
    """The URL could not be read (no answer, or an HTTP error and nothing else found):
    nothing says what it is, so it is added as given and its polls will tell."""

    reason: str


async def find_source(url: str, fetch: Fetch, *, max_items: int = 1000
                      ) -> Discovery | Unchecked:
    """``discover``, except that a URL that could not be read at all (no HTTP answer, or
    an error status with no sitemap in robots.txt either) is ``Unchecked`` rather than
    an error: a feed that is down today, or a host this machine cannot reach yet, is
    still added, as `feeds add` always did.  A page that answered and names nothing
    readable still raises NoSourceFound."""
    answers: dict[str, Fetched] = {}

    async def remembering(address: str) -> Fetched:
        got = await _get(fetch, address)
        answers.setdefault(address, got)
        return got

    try:
        return await discover(url, remembering, max_items=max_items)
    except Unreachable as exc:
        return Unchecked(str(exc))
    except NoSourceFound:
        page = answers.get(url)
        if page is not None and not page.ok:
            return Unchecked(f"{mask_url(url)} answered {_failure(page)}")
        raise
