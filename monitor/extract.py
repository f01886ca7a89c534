"""Article text from a page (trafilatura) or, failing that, from the feed's own content;
pure functions: bytes and strings in, values out."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from monitor.dates import best_time, date_languages, stamp, utc
from monitor.dates import parse_date as parse_date  # archive.py and others import it here
from monitor.language import language_code, resolve_language

MIN_PAGE_TEXT = 200  # characters: less than this from a page means extraction failed
_CANONICAL = re.compile(
    r"<link\b[^>]*\brel\s*=\s*[\"']?canonical[\"']?[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)
_OG_URL = re.compile(r"<meta\b[^>]*\bproperty\s*=\s*[\"']?og:url\b[^>]*>", re.IGNORECASE)
_ATTR_CONTENT = re.compile(r"\bcontent\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)
_HTML_LANG = re.compile(r"<html\b[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)",
                        re.IGNORECASE)
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", re.IGNORECASE)
_TAGS = re.compile(r"(?is)<(script|style|noscript)\b.*?</\1\s*>|<!--.*?-->|<[^>]+>")
_BLOCK = re.compile(r"(?i)<\s*(?:br|/p|/div|/li|/h[1-6]|/tr|/blockquote)\b[^>]*>")
_META = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+))")
_JSON_LD = re.compile(
    r"<script\b[^>]*type\s*=\s*[\"']?application/ld\+json[^>]*>(.*?)</script>", re.I | re.S)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TIME = re.compile(r"<time\b[^>]*\bdatetime\s*=\s*[\"']?([^\"'>\s]+)", re.IGNORECASE)
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?:/|\b)")
_BY = re.compile(r"^\s*by\s+", re.IGNORECASE)
_DATE_KEYS = ("article:published_time", "og:published_time", "datepublished",
              "dc.date.issued", "dcterms.created", "dc.date", "date", "pubdate", "publishdate",
              "parsely-pub-date", "sailthru.date", "ptime", "displaydate")
# Other dates of the page: not the publication, but they tell the offset the site writes.
_OTHER_DATE_KEYS = ("article:modified_time", "og:updated_time", "datemodified",
                    "dcterms.modified", "lastmod")
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_BODY_START = re.compile(r"<body[\s>]", re.IGNORECASE)
MAX_HEAD = 10_000_000  # characters: the default fetch.max_bytes; a <head> is read to its end
_LOOKAHEAD = 400_000  # characters past the head searched for JSON-LD and <time>
# A character reference: decoded once more in metadata text (see _text).
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"),
         (b"\xfe\xff", "utf-16-be"))
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")
_LINES = re.compile(r"\n\s*\n+")


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    title: str | None
    author: str | None
    published: datetime | None
    language: str | None
    canonical_url: str | None
    source: str  # "page" or "feed"


def decode_page(body: bytes, content_type: str | None) -> str:
    """The page's text.  A byte-order mark wins; then UTF-8 when the bytes are valid UTF-8
    (a header or <meta> that says latin-1 over UTF-8 bytes is a charset that lies, and
    valid UTF-8 by accident is vanishingly rare); else the declared charset (header, then
    <meta>); else windows-1252, the web's legacy default."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(codec, errors="replace")
    declared = None
    if content_type and "charset=" in content_type.lower():
        declared = content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
    if declared is None:
        found = _CHARSET.search(body[:4096])
        declared = found[1].decode("ascii").lower() if found else None
    name = (declared or "").replace("-", "").replace("_", "")
    if name.startswith(("utf16", "utf32")):
        return _decode(body, declared or name)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared and name not in ("utf8", "unicode11utf8"):
        return _decode(body, declared)
    return body.decode("windows-1252", errors="replace")


def _decode(body: bytes, charset: str) -> str:
    try:
        return body.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return body.decode("utf-8", errors="replace")


def strip_html(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed's summary): tags out, entities decoded."""
    text = _BLOCK.sub("\n", fragment)
    text = html.unescape(_TAGS.sub(" ", text))
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _LINES.sub("\n\n", text).strip()


def canonical_link(page: str, base: str) -> str | None:
    """The page's own URL for itself: <link rel="canonical">, else og:url (http(s) only)."""
    head = page[:200_000]
    for tag in _CANONICAL.finditer(head):
        href = _HREF.search(tag.group())
        if href:
            value = html.unescape(next(g for g in href.groups() if g is not None)).strip()
            if value and (url := urljoin(base, value)).startswith(("http://", "https://")):
                return url
    og = _OG_URL.search(head)
    if og:
        content = _ATTR_CONTENT.search(og[0])
        value = html.unescape(next(g for g in content.groups() if g is not None)).strip() \
            if content else ""
        if value and (url := urljoin(base, value)).startswith(("http://", "https://")):
            return url
    return None


@dataclass(frozen=True, slots=True)
class PageMeta:
    title: str | None
    author: str | None
    published: datetime | None
    language: str | None
    canonical_url: str | None


def _meta_tags(head: str) -> dict[str, str]:
    """<meta> name/property/itemprop (lower case) -> content; the first of each wins."""
    found: dict[str, str] = {}
    for tag in _META.finditer(head):
        attrs = {k.lower(): html.unescape(a or b or c) for k, a, b, c in _ATTR.findall(tag[0])}
        content = attrs.get("content", "").strip()
        for key in ("property", "name", "itemprop", "http-equiv"):
            if key in attrs and content:
                found.setdefault(attrs[key].lower(), content)
    return found


def _json_ld(page: str) -> dict[str, Any]:
    """The first schema.org article-like object of the page's JSON-LD, or {}."""
    for block in _JSON_LD.finditer(page):
        try:
            data = json.loads(block[1])
        except ValueError:
            continue
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(reversed(node))
            elif isinstance(node, dict):
                kind = node.get("@type")
                kinds = kind if isinstance(kind, list) else [kind]
                if any(isinstance(k, str) and (k.endswith("Article") or k == "Report"
                                                or k == "BlogPosting") for k in kinds):
                    return node
                stack.extend(v for k, v in node.items() if k in ("@graph", "mainEntity"))
    return {}


def _text(value: Any) -> str | None:
    """Metadata text on one line.  Character references still in it are decoded once (not
    until none is left): CMSs escape text for HTML before writing it into JSON-LD, which
    JSON does not undo (``zerst&ouml;ren``, ``&#8216;``), or into an attribute already
    escaped (``&amp;quot;``).  Only complete references count, so ``AT&T`` stays."""
    if not isinstance(value, str):
        return None
    if "&" in value:
        value = _ENTITY.sub(lambda found: html.unescape(found[0]), value)
    return " ".join(value.split()) or None


def _names(value: Any) -> str | None:
    """Author names from a JSON-LD author value (a string, a Person, or a list of them)."""
    items = value if isinstance(value, list) else [value]
    names = [_text(i.get("name") if isinstance(i, dict) else i) for i in items]
    return "; ".join(dict.fromkeys(n for n in names if n)) or None


def _author(meta: dict[str, str], ld: dict[str, Any]) -> str | None:
    for value in (_names(ld.get("author")), meta.get("author"), meta.get("article:author"),
                  meta.get("byl"), meta.get("parsely-author"), meta.get("sailthru.author"),
                  meta.get("dc.creator")):
        if value and not value.startswith(("http://", "https://", "/")):
            return _text(_BY.sub("", value))
    return None


def _head_end(page: str) -> int:
    """Where the page's head ends (``</head>``, else ``<body``: HTML lets both out),
    however long it is (a head of 965 KB of inline scripts is real), within MAX_HEAD."""
    found = _HEAD_END.search(page, 0, MAX_HEAD) or _BODY_START.search(page, 0, MAX_HEAD)
    return found.start() if found else min(len(page), MAX_HEAD)


def _declared_language(page: str, meta: dict[str, str]) -> str | None:
    """The first declaration that names a language: <html lang>, Content-Language,
    og:locale (``lang="utf-8"`` is a mistake, not a language)."""
    lang = _HTML_LANG.search(page[:5000])
    for value in (lang[1] if lang else None, meta.get("content-language"),
                  meta.get("og:locale")):
        if code := language_code(value):
            return code
    return None


def _published(page: str, end: int, meta: dict[str, str], ld: dict[str, Any],
               language: str | None) -> datetime | None:
    """The publication time from JSON-LD, the <meta> tags and the first <time datetime>,
    in that order, a time that states its offset preferred (dates.best_time).  Values
    are read lazily: the first that states its offset ends the search."""
    languages = date_languages(language)
    time_tag = _TIME.search(page, 0, end + _LOOKAHEAD)
    values = (ld.get("datePublished"), *(meta.get(k) for k in _DATE_KEYS),
              time_tag[1] if time_tag else None)
    stamps = (when for v in values if isinstance(v, str) and (when := stamp(v, languages)))
    first = next(stamps, None)
    if first is None or first.tzinfo is not None:
        return utc(first)
    others = (ld.get("dateModified"), ld.get("dateCreated"),
              *(meta.get(k) for k in _OTHER_DATE_KEYS))
    seen = [when for v in others if isinstance(v, str) and (when := stamp(v, languages))]
    return best_time([first, *stamps], seen)


def _htmldate(page: str, url: str) -> datetime | None:
    """htmldate (trafilatura's date finder) on the whole page, its quick search only."""
    from htmldate import find_date

    try:
        found = find_date(page, url=url, extensive_search=False, original_date=True)
    except Exception:  # htmldate, like trafilatura, raises many things on hostile HTML
        return None
    return parse_date(found)


def page_metadata(page: str, url: str, *, search_date: bool = True) -> PageMeta:
    """Title, author, publication date, declared language (ISO 639-1) and canonical URL from
    a page's head, read to its end: <meta> tags (Open Graph, article:*, Dublin Core,
    newsroom ones), JSON-LD, <title>, <time datetime>, a date in the URL; cheap regular
    expressions, no DOM.  Failing those, htmldate looks through the page (about 10 ms)
    unless ``search_date`` is false (the caller has a date already, e.g. the feed item's)."""
    end = _head_end(page)
    head = page[:end]
    meta, ld = _meta_tags(head), _json_ld(page[:end + _LOOKAHEAD])
    title_tag = _TITLE.search(head)
    title = _text(ld.get("headline")) or _text(meta.get("og:title")) \
        or _text(meta.get("twitter:title")) \
        or (_text(html.unescape(title_tag[1])) if title_tag else None)
    language = _declared_language(page, meta)
    published = _published(page, end, meta, ld, language)
    if published is None and (in_url := _URL_DATE.search(url)):
        published = parse_date("-".join(in_url.groups()))
    if published is None and search_date:
        published = _htmldate(page, url)
    return PageMeta(
        title=title, author=_author(meta, ld), published=published, language=language,
        canonical_url=canonical_link(head, url))


def extract_page(page: str, url: str, *, search_date: bool = True) -> Extracted | None:
    """Text and metadata of an article page, or None if it yields no article text.

    trafilatura finds the text; the metadata comes from page_metadata (trafilatura's own,
    with htmldate, would cost about half as much again as the text extraction)."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(page, url=url, with_metadata=False,
                                          include_comments=False, include_tables=False)
    except Exception:  # trafilatura raises many things on hostile HTML
        doc = None
    text = (getattr(doc, "text", None) or "").strip()
    if doc is None or len(text) < MIN_PAGE_TEXT:
        return None
    meta = page_metadata(page, url, search_date=search_date)
    return Extracted(
        text=text, title=meta.title, author=meta.author, published=meta.published,
        language=resolve_language(meta.language, text), canonical_url=meta.canonical_url,
        source="page")


def from_feed(title: str, summary: str, content: str, author: str | None,
              published: datetime | None, language: str | None = None) -> Extracted:
    """The fallback when the page cannot be fetched or yields nothing: the feed's content,
    in the feed's declared ``language`` unless its text says otherwise."""
    body = strip_html(content if len(content) > len(summary) else summary)
    text = body if not title or body.startswith(title) else f"{title}\n\n{body}".strip()
    return Extracted(text=text, title=title or None, author=author, published=published,
                     language=resolve_language(language, text), canonical_url=None,
                     source="feed")
