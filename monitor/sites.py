"""Which site a URL belongs to: its host's registrable domain under the Public Suffix List
(www.bbc.co.uk and bbc.co.uk are one site; a.github.io and b.github.io are two), so a page
may name its own canonical address but not another outlet's.  The list is the one shipped
in the publicsuffixlist package, read once; nothing is fetched at run time."""

from __future__ import annotations

import contextlib
import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

import idna
from publicsuffixlist import PublicSuffixList


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the package's bundled copy of the list, ICANN and private


def site(url: str) -> str | None:
    """The URL's registrable domain ("eTLD+1"), in lower-case ASCII (IDNA); a host that has
    none (an IP address, localhost, a public suffix itself) is its own site; None without a
    host.  Scheme and port do not matter, as for browsers' same-site rule."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:  # a broken IPv6 literal
        return None
    host = (host or "").rstrip(".")
    if not host:
        return None
    try:
        return str(ipaddress.ip_address(host.split("%", 1)[0]))
    except ValueError:
        pass
    return _registrable(host)


@lru_cache(maxsize=4096)
def _registrable(host: str) -> str:
    """A host name's registrable domain, or the name itself (cached: an outlet's pages
    share a few hosts, and the list lookup costs tens of microseconds)."""
    if not host.isascii():
        with contextlib.suppress(UnicodeError):  # not a valid name: compared as written
            host = idna.encode(host, uts46=True).decode("ascii")
    host = host.lower()
    return _suffixes().privatesuffix(host) or host


def same_site(url: str, other: str) -> bool:
    """Whether two URLs are on the same registrable domain."""
    mine = site(url)
    return mine is not None and mine == site(other)
