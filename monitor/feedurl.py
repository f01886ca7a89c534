"""A feed's identity: the URL it is stored and compared under (pure).

Two spellings of one feed (``HTTP://Host:80/wire.xml#top`` and ``http://host/wire.xml``) are
one feed.  Only what cannot change the document the server sends is normalised: the case
of the scheme and host, an IDN host (to its ASCII form), a default port, an empty path, the
case of percent-escapes, and the fragment (never sent to the server).  The query is kept
as written, tracking parameters included: for a feed it often selects the feed
(``?format=rss``, ``?category=world``, a token), unlike an article's canonical URL
(dedupe.canonical_url), which drops them.  http and https stay two URLs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


def _host(hostname: str) -> str:
    if ":" in hostname:  # an IPv6 literal
        return f"[{hostname}]"
    if hostname.isascii():
        return hostname
    try:
        return hostname.encode("idna").decode("ascii")
    except UnicodeError:  # a label the IDNA codec refuses: keep it as written
        return hostname


def feed_url(url: str) -> str:
    """The normalised form of a feed URL; ValueError if its port is not a port."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    port = parts.port  # ValueError for a port that is not one
    host = _host(parts.hostname or "")
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    netloc = (f"{userinfo}@" if userinfo else "") + host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    path = parts.path or ("/" if host else "")
    path = _ESCAPE.sub(lambda m: m[0].upper(), path)
    query = _ESCAPE.sub(lambda m: m[0].upper(), parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))
