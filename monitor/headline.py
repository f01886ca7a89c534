"""Headlines without the site's name and the desk's kicker (pure).

Pages title themselves for browser tabs and search engines: "Putin lands in Pyongyang |
Local Wire", "BBC News - Putin lands in Pyongyang", "UPDATE 2-Putin lands ... - waz.de",
"LIVE: ...".  An event's headline is the story's own words: a segment at either end that
names the site (by one of the names it goes by: the page's og:site_name, the feed's title,
the name the configuration gives the feed, or its host) or only dates it is dropped, and
so is a leading kicker.  What is left is never empty: a headline that is only a site name stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from monitor.normalize import fold
from monitor.sites import site

_SEPARATORS = re.compile(r"\s+(?:[|–—•·»:]{1,2}|-{1,2})\s+|\s*\|\s*")
_KICKER = re.compile(
    r"^(?:live(?: updates?)?|watch|video|exclusive|breaking(?: news)?|update(?:\s*\d+)?|"
    r"analysis|opinion|explainer|factbox|photos?|refile|corrected|editorial|podcast|"
    r"en direct|eilmeldung|ticker|exklusiv|directo|última hora|срочно)"
    r"\s*(?:[:|]\s*|[-–—]\s*(?=\S))",
    re.IGNORECASE,
)
MAX_SITE_WORDS = 6  # a segment longer than this is part of the headline, not a site's name


def clean(title: str, *, site_names: Iterable[str | None] = (), url: str | None = None) -> str:
    """The headline without a leading kicker and without site-name segments at its ends."""
    original = " ".join(title.split())
    if not original:
        return original
    names = _names(site_names, url)
    text = _KICKER.sub("", original, count=1) or original
    parts = _split(text)
    while len(parts) > 1 and _names_site(parts[-1][0], names):
        parts.pop()
    while len(parts) > 1 and _names_site(parts[0][0], names):
        parts.pop(0)
    cleaned = text[parts[0][1]:parts[-1][2]].strip(" -–—|:·•»")
    return cleaned or original


def _split(text: str) -> list[tuple[str, int, int]]:
    """(segment, start, end) between separators."""
    parts, start = [], 0
    for found in _SEPARATORS.finditer(text):
        if found.start() > start:
            parts.append((text[start:found.start()], start, found.start()))
        start = found.end()
    if start < len(text):
        parts.append((text[start:], start, len(text)))
    return parts or [(text, 0, len(text))]


def _names(site_names: Iterable[str | None], url: str | None) -> set[str]:
    """The folded names a site goes by, its host's registrable domain and that domain's
    first label ("bbc" of bbc.co.uk) among them."""
    names = {fold(n) for n in site_names if n and fold(n)}
    domain = site(url) if url else None
    if domain and "." in domain:
        names.add(fold(domain))
        names.add(fold(domain.split(".", 1)[0]))
    return names


def _names_site(segment: str, names: set[str]) -> bool:
    folded = fold(segment)
    if not folded or len(folded.split()) > MAX_SITE_WORDS:
        return False
    if folded in names or folded.replace(" ", "").isdigit():  # a name, or a date stamp
        return True
    words = set(folded.split())
    # "BBC News" for bbc.co.uk, "WAZ.de" for waz.de, "The Local Wire" for "Local Wire"
    return any(name in words or (len(name) > 3 and (name in folded or folded in name))
               for name in names)
