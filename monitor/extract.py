"""Article text from a page (trafilatura) or, failing that, from the feed's own content;
pure functions: bytes and strings in, values out."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

MIN_PAGE_TEXT = 200  # characters: less than this from a page means extraction failed
_CANONICAL = re.compile(
    r"<link\b[^>]*\brel\s*=\s*[\"']?canonical[\"']?[^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)
_HTML_LANG = re.compile(r"<html\b[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)",
                        re.IGNORECASE)
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", re.IGNORECASE)
_TAGS = re.compile(r"(?is)<(script|style|noscript)\b.*?</\1\s*>|<!--.*?-->|<[^>]+>")
_BLOCK = re.compile(r"(?i)<\s*(?:br|/p|/div|/li|/h[1-6]|/tr|/blockquote)\b[^>]*>")
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
    """The page's text: charset from the header, else the page's <meta>, else UTF-8."""
    charset = None
    if content_type and "charset=" in content_type.lower():
        charset = content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
    if charset is None:
        found = _CHARSET.search(body[:4096])
        charset = found[1].decode("ascii") if found else "utf-8"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def strip_html(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed's summary): tags out, entities decoded."""
    text = _BLOCK.sub("\n", fragment)
    text = html.unescape(_TAGS.sub(" ", text))
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _LINES.sub("\n\n", text).strip()


def _canonical(page: str, base: str) -> str | None:
    head = page[:200_000]
    for tag in _CANONICAL.finditer(head):
        href = _HREF.search(tag.group())
        if href:
            value = html.unescape(next(g for g in href.groups() if g is not None)).strip()
            if value:
                return urljoin(base, value)
    return None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def extract_page(page: str, url: str) -> Extracted | None:
    """Text and metadata of an article page, or None if it yields no article text."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(page, url=url, with_metadata=True,
                                          include_comments=False, include_tables=False)
    except Exception:  # trafilatura raises many things on hostile HTML
        doc = None
    text = (getattr(doc, "text", None) or "").strip()
    if doc is None or len(text) < MIN_PAGE_TEXT:
        return None
    lang = _HTML_LANG.search(page[:5000])
    return Extracted(
        text=text, title=getattr(doc, "title", None) or None,
        author=getattr(doc, "author", None) or None, published=_date(getattr(doc, "date", None)),
        language=(getattr(doc, "language", None) or (lang[1].lower() if lang else None)),
        canonical_url=_canonical(page, url), source="page",
    )


def from_feed(title: str, summary: str, content: str, author: str | None,
              published: datetime | None) -> Extracted:
    """The fallback when the page cannot be fetched or yields nothing: the feed's content."""
    body = strip_html(content if len(content) > len(summary) else summary)
    text = body if not title or body.startswith(title) else f"{title}\n\n{body}".strip()
    return Extracted(text=text, title=title or None, author=author, published=published,
                     language=None, canonical_url=None, source="feed")


_SENTENCE_END = re.compile(r"[.!?…。！？](?=[\s\"'”’)\]]|$)|\n")


def snippet(text: str, start: int, end: int, limit: int = 300) -> str:
    """The sentence around text[start:end], trimmed to about ``limit`` characters."""
    left = 0
    for found in _SENTENCE_END.finditer(text, max(0, start - limit), start):
        left = found.end()
    found_end = _SENTENCE_END.search(text, end)
    right = found_end.end() if found_end else len(text)
    sentence = " ".join(text[left:right].split())
    if len(sentence) <= limit:
        return sentence
    mention = " ".join(text[start:end].split())
    at = max(0, sentence.find(mention))
    lo = max(0, min(at - limit // 3, len(sentence) - limit))
    piece = sentence[lo:lo + limit]
    return ("…" if lo else "") + piece.strip() + ("…" if lo + limit < len(sentence) else "")
