"""What every source shares: the item it yields, what it may use while reading a fetched
document (``Reading``), what it returns (``Items``), the ``Source`` protocol, and the
registry that maps a feed row's ``kind`` to its source.

A source is pure but for ``Reading.fetch`` (other documents, such as a sitemap index's
children, fetched through the poll's Fetcher: the same address guard, limits and
timeouts as the feed itself) and ``Reading.run`` (CPU-bound parsing, off the event loop).
The poll (monitor.ingest) does the conditional GET, the failures and the back-off; the
source only says what the document holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar
from urllib.parse import urljoin, urlsplit

from monitor.errors import UsageError

if TYPE_CHECKING:
    from monitor.fetch import Fetcher

T = TypeVar("T")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item a source yields: an article to fetch (``link``) or, without a link, the
    text the source gave (``summary``, ``content``)."""

    guid: str | None
    link: str | None
    title: str
    summary: str  # HTML as the feed gave it
    content: str  # the longest full content the feed gave, HTML
    published: datetime | None
    author: str | None
    language: str | None = None  # ISO 639-1, as the item or its feed declares it


class Fetched(NamedTuple):
    """What a fetch gave: the HTTP status (None when no server answered), the URL after
    redirects, its Content-Type, its body, and why it failed, if it did."""

    status: int | None
    final_url: str
    content_type: str | None
    body: bytes
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


Fetch = Callable[[str], Awaitable[Fetched]]


class Run(Protocol):
    """Runs a CPU-bound call (parsing) where it does not hold up the poll's event loop."""

    def __call__(self, call: Callable[..., T], /, *args: Any, **kwargs: Any
                 ) -> Awaitable[T]: ...


async def inline(call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """A ``Run`` that runs the call at once (tests, the CLI's one-off reads)."""
    return call(*args, **kwargs)


def fetch_with(fetcher: Fetcher, accept: str | None = None) -> Fetch:
    """A ``Fetch`` through ``fetcher`` (its address guard, size limit and timeouts)."""
    async def fetch(url: str) -> Fetched:
        got = await fetcher.get(url, accept=accept)
        return Fetched(got.status, got.final_url, got.headers.get("content-type"), got.body,
                       got.error)

    return fetch


@dataclass(frozen=True, slots=True)
class Reading:
    """What a source may use while reading one fetched document of a feed."""

    url: str  # the document's address after redirects (relative links resolve against it)
    content_type: str | None
    now: datetime  # dates after it (a wrong clock somewhere) become it
    max_items: int  # fetch.max_items: items read from one poll, newest first
    max_bytes: int  # fetch.max_bytes: also the cap on a gzipped document unzipped
    fetch: Fetch  # other documents the feed's one names (a sitemap index's children)
    run: Run = inline
    language: str | None = None  # the feed's configured language (helps read dates)


@dataclass(frozen=True, slots=True)
class Items:
    """What a source read from a document."""

    items: list[FeedItem]
    problem: str | None = None  # what it had to skip or recover from; with no items: why
    title: str | None = None
    # Whether the next poll may ask "changed since?" (ETag, Last-Modified, body hash).  A
    # sitemap index says no: its children change while the index stays the same.
    conditional: bool = True


class Source(Protocol):
    """A kind of feed: how to ask for its documents and how to read one."""

    kind: str  # the feeds.kind that selects it
    accept: str  # the Accept header for its documents

    async def read(self, body: bytes, reading: Reading) -> Items:
        """The items of a fetched document (a malformed one yields what can be read and
        a problem; a document that is no such thing yields no items and a problem)."""
        ...


class UnknownSource(UsageError):
    """A feed kind no source reads."""


@cache
def sources() -> dict[str, Source]:
    """Every source by kind.  Adding a source is a module and one line here."""
    from monitor.sources.rss import RssSource
    from monitor.sources.sitemap import SitemapSource

    return {source.kind: source for source in (RssSource(), SitemapSource())}


def source_for(kind: str) -> Source:
    """The source of a feed kind; UnknownSource names the kinds there are."""
    try:
        return sources()[kind]
    except KeyError:
        raise UnknownSource(f"unknown feed kind {kind!r}: expected one of "
                            f"{', '.join(sorted(sources()))}") from None


def http_link(value: Any, base: str) -> str | None:
    """A link as an absolute http(s) URL (relative ones against ``base``); None for
    anything else (javascript:, data:, mailto:, control characters, garbage).  As
    browsers do, surrounding spaces and control characters, and tabs and line breaks
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
