"""Sitemaps as a source: news sitemaps (``<news:news>``), plain ones with ``<lastmod>``,
sitemap indexes, plain-text ones, gzipped or not.  Many outlets and agencies publish a
sitemap and no feed; each URL in it not seen before becomes an item, as a feed's would.

Parsing is pure (bytes in, values out) and treats the document as hostile, as feeds.py
does: lxml without entity expansion, DTD loading or network access, within libxml2's
default limits (no ``huge_tree``); a gzipped body is inflated up to a cap; a malformed one
is read again entry by entry, so damage costs only the entry it is in.  Following
an index (``follow_index``) fetches through an injected coroutine, so the caller decides
how (the Fetcher, with its address guard and limits) and tests use a fake.
"""

from __future__ import annotations

import html
import io
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from lxml import etree

from monitor.dates import parse_date, utc
from monitor.language import language_code
from monitor.sources.base import (
    FeedItem,
    Fetch,
    Items,
    Reading,
    Run,
    http_link,
    inline,
)

MAX_DECOMPRESSED = 50 * 1024 * 1024  # the sitemaps protocol's limit for one file
MAX_CHILDREN = 5  # child sitemaps fetched from an index in one poll, newest first
MAX_UNREADABLE_DATES = 3  # dates past ISO 8601 (dateparser, milliseconds each) per document
MAX_KEYWORDS = 20
_GZIP_MAGIC = b"\x1f\x8b"
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(0[1-9]|1[0-2]))?")
# An ampersand that starts no entity or character reference: sitemap generators that
# forget to escape query strings write them, and XML stops at the first one.
_BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z_][\w.-]*|#\d+|#x[0-9A-Fa-f]+);)")
_ENTITY_ERRORS = frozenset({etree.ErrorTypes.ERR_ENTITYREF_SEMICOL_MISSING,
                            etree.ErrorTypes.ERR_NAME_REQUIRED,
                            etree.ErrorTypes.ERR_ENTITYREF_NO_NAME})
# The document's XML declaration (its encoding) and its root's start tag (its namespaces),
# for entries read one by one.
_ROOT_TAG = re.compile(rb"\A(\s*<\?xml[^>]*\?>)?.*?(<((?:[\w.-]+:)?(?:urlset|sitemapindex))"
                       rb"(?:\s[^>]*)?>)", re.DOTALL)
_NAMESPACE_ERRORS = frozenset({etree.ErrorTypes.NS_ERR_UNDEFINED_NAMESPACE,
                               etree.ErrorTypes.NS_ERR_QNAME, etree.ErrorTypes.NS_ERR_EMPTY,
                               etree.ErrorTypes.NS_ERR_COLON})
_POSITION = re.compile(r",? line \d+, column \d+$")
_CHUNK = 64 * 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ROOTS = {"urlset": "urlset", "sitemapindex": "index"}
_HTML_DOCTYPE = re.compile(rb"\s*<!doctype\s+html[\s>]", re.IGNORECASE)

Kind = Literal["urlset", "index", "text"]


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """One ``<url>``: its address and what a news sitemap says about it."""

    url: str
    published: datetime | None  # news:publication_date, else lastmod; aware, UTC
    title: str = ""  # news:title, plain text; empty: the page fetch gives the title
    language: str | None = None  # news:language as ISO 639-1
    publication: str | None = None  # news:publication/news:name
    keywords: tuple[str, ...] = ()
    news: bool = False  # it had a <news:news> element

    def item(self) -> FeedItem:
        """The entry as a feed item, for the pipeline: no GUID (its key is its canonical
        URL) and no text (a sitemap has none; the page gives it)."""
        return FeedItem(guid=None, link=self.url, title=self.title, summary="", content="",
                        published=self.published, author=None, language=self.language)


@dataclass(frozen=True, slots=True)
class SitemapRef:
    """A child sitemap named by an index."""

    url: str
    lastmod: datetime | None


@dataclass(frozen=True, slots=True)
class ParsedSitemap:
    kind: Kind | None  # None: not a sitemap (``problem`` says what it is instead)
    entries: list[SitemapEntry]  # newest first, at most max_items
    sitemaps: list[SitemapRef] = field(default_factory=list)  # an index's, newest first
    problem: str | None = None

    @property
    def items(self) -> list[FeedItem]:
        return [entry.item() for entry in self.entries]

    @property
    def news(self) -> bool:
        """Whether it is a news sitemap (an entry with <news:news>)."""
        return any(entry.news for entry in self.entries)

    @property
    def title(self) -> str | None:
        """The publication's name, as its news entries give it."""
        return next((e.publication for e in self.entries if e.publication), None)


# --- dates ----------------------------------------------------------------------------------


class _Dates:
    """W3C datetimes (ISO 8601 profiles: a year, a month, a day, a time with an offset)
    and, for at most MAX_UNREADABLE_DATES values a document, the other forms dates.py
    reads (RFC 822, words).  A time after ``now`` is ``now`` (a wrong clock somewhere)."""

    def __init__(self, now: datetime | None) -> None:
        self.now, self.slow = now, 0

    def read(self, value: str | None) -> datetime | None:
        if not value or not (value := value.strip()):
            return None
        when: datetime | None
        if partial := _YEAR_MONTH.fullmatch(value):
            when = datetime(int(partial[1]), int(partial[2] or 1), 1, tzinfo=UTC)
        else:
            try:
                when = utc(datetime.fromisoformat(value))
            except ValueError:
                if self.slow >= MAX_UNREADABLE_DATES:
                    return None
                self.slow += 1
                when = parse_date(value[:100])
        if when is not None and self.now is not None and when > self.now:
            return self.now
        return when


# --- bytes ----------------------------------------------------------------------------------


def inflate(body: bytes, max_bytes: int = MAX_DECOMPRESSED) -> tuple[bytes, str | None]:
    """The body, gunzipped when it is gzip (a ``.xml.gz``), at most ``max_bytes`` of it;
    and what went wrong (a cut or corrupt stream, a body past the cap), if anything."""
    if not body.startswith(_GZIP_MAGIC):
        return body, None
    out: list[bytes] = []
    size, rest = 0, body
    while rest.startswith(_GZIP_MAGIC):  # gzip members may follow one another
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = inflater.decompress(rest, max_bytes - size + 1)
        except zlib.error as exc:
            return b"".join(out), f"the gzip stream is corrupt ({exc})"
        out.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(out)[:max_bytes], (f"larger than {max_bytes:,} bytes unzipped; "
                                               f"only the first {max_bytes:,} are read")
        if not inflater.eof:
            return b"".join(out), "the gzip stream is cut short"
        rest = inflater.unused_data
    return b"".join(out), None


def _local(tag: object) -> str:
    """An element's name without its namespace or prefix (``news:title``, declared or
    not, is ``title``); '' for comments, entities and processing instructions."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2].rpartition(":")[2]


def _text(element: etree._Element) -> tuple[str, bool]:
    """An element's text, and whether it held an entity reference left unexpanded (its
    text is then not what the document meant)."""
    parts = [element.text or ""]
    unexpanded = False
    for child in element:
        if isinstance(child, etree._Entity):
            unexpanded = True
        elif isinstance(child.tag, str):
            parts.append(_text(child)[0])
        parts.append(child.tail or "")
    return "".join(parts), unexpanded


# --- XML --------------------------------------------------------------------------------------


class _Raw(NamedTuple):
    loc: str
    unexpanded: bool  # <loc> held an entity reference (its text is not the URL meant)
    lastmod: str | None
    news: dict[str, str] | None  # <news:news>'s fields by local name


_NEWS_FIELDS = frozenset({"name", "language", "publication_date", "title", "keywords"})


def _raw(element: etree._Element) -> _Raw:
    """The fields of a <url> or <sitemap> element (only its own children and its
    news:news's; image:, video: and others are ignored)."""
    loc, unexpanded, lastmod = "", False, None
    news: dict[str, str] | None = None
    for child in element:
        name = _local(child.tag)
        if name == "loc" and not loc:
            loc, unexpanded = _text(child)
        elif name == "lastmod" and lastmod is None:
            lastmod = _text(child)[0]
        elif name == "news" and news is None:
            news = {}
            for part in child.iter():
                key = _local(part.tag)
                if key in _NEWS_FIELDS and key not in news:
                    news[key] = _text(part)[0]
    return _Raw(loc.strip(), unexpanded, lastmod, news)


class _Pass(NamedTuple):
    root: str  # the root element's local name ('' if none was read)
    raws: list[_Raw]  # the <url> or <sitemap> elements read, in document order
    error: str | None  # the error the pass stopped at: "line N: message"
    error_code: int | None  # libxml2's number for it
    complete: bool = True  # read to the end (namespace errors are only raised there)


def _one_pass(body: bytes) -> _Pass:
    """One strict reading of the document, fed in chunks; each element is dropped once
    read, so a 50,000-URL document never sits in memory as a tree.  (A pull parser: on an
    error it still hands over the elements before it, where iterparse drops its chunk's.)"""
    parser = etree.XMLPullParser(
        events=("start", "end"), tag=("{*}urlset", "{*}sitemapindex", "{*}url", "{*}sitemap"),
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True)
    root, raws = "", []

    def drain() -> None:
        nonlocal root
        for event, element in parser.read_events():
            name = _local(element.tag)
            if event == "start":
                root = root or (name if element.getparent() is None else "?")
            elif name in ("url", "sitemap") and root in _ROOTS:
                raws.append(_raw(element))
                element.clear(keep_tail=False)
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]

    closing = False
    try:
        for start in range(0, len(body), _CHUNK):
            parser.feed(body[start:start + _CHUNK])
            drain()
        closing = True
        parser.close()
    except etree.XMLSyntaxError as exc:
        if not closing:  # (at the close, the elements still open are closed for show)
            drain()
        line, column = exc.position
        message = _POSITION.sub("", exc.msg or "not XML")
        where = f"line {line}, column {column}: " if line else ""
        return _Pass(root, raws, where + message, exc.code, closing)
    drain()
    return _Pass(root, raws, None, None)


def _root_of(body: bytes) -> str:
    """The local name of the document's root element ('' when there is none)."""
    try:
        for _, element in etree.iterparse(io.BytesIO(body[:65536]), events=("start",),
                                          recover=True, resolve_entities=False,
                                          no_network=True, load_dtd=False, huge_tree=False):
            return _local(element.tag)
    except etree.XMLSyntaxError:
        pass
    return ""


def _parser(recover: bool) -> etree.XMLParser:
    return etree.XMLParser(recover=recover, resolve_entities=False, no_network=True,
                           load_dtd=False, huge_tree=False, remove_comments=True,
                           remove_pis=True)


def _one_entry(document: bytes, parser: etree.XMLParser) -> _Raw | None:
    """The entry of a document made of the root's start tag, one entry and its end tag
    (an undeclared namespace prefix is no damage: the element keeps its prefixed name)."""
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        if exc.code not in _NAMESPACE_ERRORS:
            return None
        try:
            root = etree.fromstring(document, _parser(recover=True))
        except etree.XMLSyntaxError:
            return None
    return next((_raw(child) for child in root if _local(child.tag) in ("url", "sitemap")),
                None)


def _by_entry(body: bytes) -> tuple[str, list[_Raw], int] | None:
    """A damaged document read entry by entry: each <url> (or <sitemap>) from its start
    tag to its end tag, parsed alone inside the root's start tag (for its namespaces), so
    damage costs the entry it is in and no other (libxml2's own recovery drops everything
    after a misnested tag).  An entry without its end tag (a cut document) is dropped:
    its URL may be cut too.  None when no <urlset> or <sitemapindex> start tag is found."""
    found = _ROOT_TAG.search(body)
    if found is None:
        return None
    declaration = found[1] or b""
    opening, name = found[2], found[3]
    local = name.rpartition(b":")[2].decode()
    child = b"url" if local == "urlset" else b"sitemap"
    start = re.compile(rb"<(?:[\w.-]+:)?" + child + rb"[\s/>]")
    end = re.compile(rb"</(?:[\w.-]+:)?" + child + rb"\s*>")
    parser = _parser(recover=False)
    wrap = (declaration + opening, b"</" + name + b">")
    starts = [m.start() for m in start.finditer(body, found.end())]
    raws, damaged = [], 0
    for here, after in zip(starts, [*starts[1:], len(body)][:len(starts)], strict=True):
        ends = list(end.finditer(body, here, after))
        entry = body[here:ends[-1].end()] if ends else b""
        raw = _one_entry(entry.join(wrap), parser) if entry else None
        if raw is None and b"&" in entry:
            raw = _one_entry(_BARE_AMPERSAND.sub(b"&amp;", entry).join(wrap), parser)
        if raw is None:
            damaged += 1
        else:
            raws.append(raw)
    return local, raws, damaged


def _parse_xml(body: bytes) -> tuple[str, list[_Raw], list[str]]:
    """The root's name, the entries that can be trusted, and the problems met.

    A well-formed document is read once.  A broken one is read again with its bare
    ampersands escaped (a common fault, often on every URL with a query), and failing
    that entry by entry (``_by_entry``)."""
    first = _one_pass(body)
    if first.error is None:
        return first.root or _root_of(body), first.raws, []
    problem = f"malformed, recovered what could be: {first.error}"
    if first.error_code in _NAMESPACE_ERRORS and first.complete:
        return first.root or _root_of(body), first.raws, [problem]
    if first.error_code in _ENTITY_ERRORS:
        again = _one_pass(_BARE_AMPERSAND.sub(b"&amp;", body))
        if again.error is None:
            return again.root or _root_of(body), again.raws, [
                f"{problem} (a bare '&', read as '&amp;')"]
    recovered = _by_entry(body)
    if recovered is None:
        return first.root or _root_of(body), first.raws, [problem]
    root, raws, damaged = recovered
    if damaged:
        problem += f"; {damaged:,} damaged {'entry' if damaged == 1 else 'entries'} dropped"
    return root, raws, [problem]


# --- plain text ---------------------------------------------------------------------------


def _is_text(body: bytes) -> bool:
    head = body.lstrip()[:2048]
    first = head.split(b"\n", 1)[0].strip().lower()
    return not head.startswith(b"<") and first.startswith((b"http://", b"https://"))


def _parse_text(body: bytes) -> list[_Raw]:
    """A text sitemap: one absolute URL a line (the protocol allows it)."""
    text = body.decode("utf-8", errors="replace")
    return [_Raw(line.strip(), False, None, None) for line in text.splitlines()
            if line.strip()]


# --- the document ---------------------------------------------------------------------------


def parse_sitemap(body: bytes, url: str = "", *, now: datetime | None = None,
                  max_items: int = 1000, max_bytes: int = MAX_DECOMPRESSED) -> ParsedSitemap:
    """The entries (or, for an index, the child sitemaps) of a sitemap document.

    Links are made absolute against ``url`` and only http(s) ones are kept; entries are
    newest first (by news:publication_date, else lastmod; undated ones last, in document
    order), one per URL, at most ``max_items`` of them (a 50,000-URL sitemap is a
    problem recorded on the feed, not 50,000 fetches); a date after ``now`` is ``now``.
    """
    body, unzipped = inflate(body, max_bytes)
    problems = [unzipped] if unzipped else []
    body = body.removeprefix(b"\xef\xbb\xbf")
    kind: Kind
    if _is_text(body):
        kind, raws = "text", _parse_text(body)
    else:
        root, raws, found = _parse_xml(body)
        problems += found
        if not root and _HTML_DOCTYPE.match(body):
            root = "html"  # <!doctype html> (any case) stops an XML parser at once
        if root not in _ROOTS:
            what = (f"its root element is <{root}>, not <urlset> or <sitemapindex>" if root
                    else "the body is empty" if not body.strip() else "no XML element found")
            return ParsedSitemap(None, [], [], f"not a sitemap: {what}"
                                 + (f" ({unzipped})" if unzipped else ""))
        kind = "index" if _ROOTS[root] == "index" else "urlset"
    dates = _Dates(now)
    if kind == "index":
        refs, skipped = _refs(raws, url, dates)
        problems += skipped
        return ParsedSitemap(kind, [], refs, "; ".join(problems) or None)
    entries, found = _entries(raws, "" if kind == "text" else url, dates, max_items)
    return ParsedSitemap(kind, entries, [], "; ".join([*problems, *found]) or None)


def _skipped(bad: int, unexpanded: int) -> list[str]:
    problems = []
    if bad:
        problems.append(f"{bad:,} URLs skipped: not http(s)")
    if unexpanded:
        problems.append(f"{unexpanded:,} URLs skipped: an entity reference, never expanded")
    return problems


def _entries(raws: list[_Raw], base: str, dates: _Dates, max_items: int
             ) -> tuple[list[SitemapEntry], list[str]]:
    """The newest ``max_items`` entries with an http(s) URL, one per URL.  Dates are read
    for every entry (the order needs them); URLs are checked (the costly part) only
    down the order until enough are found."""
    dated: list[tuple[datetime, _Raw]] = []
    undated: list[_Raw] = []
    unexpanded = 0
    for raw in raws:
        if raw.unexpanded:
            unexpanded += 1
            continue
        news = raw.news or {}
        published = dates.read(news.get("publication_date")) or dates.read(raw.lastmod)
        if published is None:
            undated.append(raw)
        else:
            dated.append((published, raw))
    dated.sort(key=lambda pair: pair[0], reverse=True)  # stable: document order in a tie
    ordered = [(when, raw) for when, raw in dated] + [(None, raw) for raw in undated]
    entries: dict[str, SitemapEntry] = {}
    bad = read = 0
    for when, raw in ordered:
        if len(entries) >= max_items:
            break
        read += 1
        link = http_link(raw.loc, base)
        if link is None:
            bad += 1
        elif link not in entries:
            entries[link] = _entry(link, when, raw.news)
    problems = _skipped(bad, unexpanded)
    if read < len(ordered):
        problems.append(f"the sitemap lists {len(ordered):,} URLs; only the newest "
                        f"{max_items:,} are read (fetch.max_items)")
    return list(entries.values()), problems


def _entry(link: str, published: datetime | None, news: dict[str, str] | None
           ) -> SitemapEntry:
    fields = news or {}
    return SitemapEntry(
        url=link, published=published, title=_plain(fields.get("title")),
        language=language_code(fields.get("language")),
        publication=_plain(fields.get("name")) or None,
        keywords=_keywords(fields.get("keywords")), news=news is not None)


def _plain(value: str | None) -> str:
    """A news sitemap's text field on one line.  It is text, not HTML ("a <treaty>" stays
    so), but entities escaped twice over ("Trump&amp;#8217;s") are decoded."""
    if not value:
        return ""
    return " ".join((html.unescape(value) if "&" in value else value).split())


def _keywords(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    words = (_plain(word) for word in value.split(","))
    return tuple(dict.fromkeys(w for w in words if w))[:MAX_KEYWORDS]


def _refs(raws: list[_Raw], base: str, dates: _Dates) -> tuple[list[SitemapRef], list[str]]:
    refs: dict[str, SitemapRef] = {}
    bad = unexpanded = 0
    for raw in raws:
        link = None if raw.unexpanded else http_link(raw.loc, base)
        if link is None:
            bad += not raw.unexpanded
            unexpanded += raw.unexpanded
        elif link not in refs:
            refs[link] = SitemapRef(link, dates.read(raw.lastmod))
    dated = [r for r in refs.values() if r.lastmod is not None]
    dated.sort(key=lambda r: r.lastmod or _EPOCH, reverse=True)  # stable: document order
    undated = [r for r in refs.values() if r.lastmod is None]
    return dated + undated, _skipped(bad, unexpanded)


def newest_first(entries: list[SitemapEntry]) -> list[SitemapEntry]:
    """Dated entries newest first, then undated ones, each group in document order."""
    dated = [e for e in entries if e.published is not None]
    dated.sort(key=lambda e: e.published or _EPOCH, reverse=True)  # stable
    return dated + [e for e in entries if e.published is None]


def child_sitemaps(parsed: ParsedSitemap, limit: int = MAX_CHILDREN) -> list[str]:
    """The child sitemaps an index's poll reads: newest first (by lastmod; those without
    one last, in document order), at most ``limit``."""
    return [ref.url for ref in parsed.sitemaps[:max(0, limit)]]


# --- following an index -----------------------------------------------------------------------


async def follow_index(parsed: ParsedSitemap, fetch: Fetch, *, now: datetime | None = None,
                       max_items: int = 1000, max_children: int = MAX_CHILDREN,
                       max_bytes: int = MAX_DECOMPRESSED, run: Run = inline) -> ParsedSitemap:
    """A sitemap's entries: its own, or for an index those of its child sitemaps, newest
    children first, one level deep (an index inside an index is not followed), until
    ``max_items`` URLs are read or ``max_children`` sitemaps are fetched.  A child that
    fails is a problem in the result, and the others still count.  ``run`` parses each
    child (the poll passes one that keeps the parsing off its event loop)."""
    if parsed.kind != "index":
        return parsed
    problems = [parsed.problem] if parsed.problem else []
    entries: list[SitemapEntry] = []
    seen: set[str] = set()
    children = child_sitemaps(parsed, max_children)
    fetched = failed = 0
    for child in children:
        if len(entries) >= max_items:
            break
        fetched += 1
        got = await fetch(child)
        if not got.ok:
            failed += 1
            problems.append(f"{child}: {got.error or f'HTTP {got.status}'}")
            continue
        sub = await run(parse_sitemap, got.body, got.final_url, now=now,
                        max_items=max_items, max_bytes=max_bytes)
        if sub.kind is None:
            failed += 1
        if sub.kind == "index":
            problems.append(f"{child}: a sitemap index inside an index is not followed")
        elif sub.problem:
            problems.append(f"{child}: {sub.problem}")
        fresh = [e for e in sub.entries if e.url not in seen]
        seen.update(e.url for e in fresh)
        entries += fresh[:max_items - len(entries)]
    if failed and failed == fetched:
        problems.insert(0, "no child sitemap could be read")
    return ParsedSitemap("index", newest_first(entries), parsed.sitemaps,
                         "; ".join(problems) or None)


# --- the source -------------------------------------------------------------------------------

ACCEPT = ("application/xml, text/xml;q=0.9, application/x-gzip;q=0.8, text/plain;q=0.5, "
          "*/*;q=0.1")


class SitemapSource:
    """News sitemaps, plain sitemaps and sitemap indexes (feeds.kind ``sitemap``): each URL
    not seen before is an item, whose page gives the text.  An index is followed one level
    on every poll, newest children first, up to ``max_items`` URLs; so it is never asked
    "changed since?" (its children change under it)."""

    kind = "sitemap"
    accept = ACCEPT

    async def read(self, body: bytes, reading: Reading) -> Items:
        parsed = await reading.run(parse_sitemap, body, reading.url, now=reading.now,
                                   max_items=reading.max_items, max_bytes=reading.max_bytes)
        if parsed.kind is None:
            return Items([], parsed.problem)
        index = parsed.kind == "index"
        if index:
            parsed = await follow_index(parsed, reading.fetch, now=reading.now,
                                        max_items=reading.max_items,
                                        max_bytes=reading.max_bytes, run=reading.run)
        return Items(parsed.items, parsed.problem, parsed.title, conditional=not index)
