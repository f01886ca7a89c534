"""Atom feeds (RFC 4287) of what a watchlist, an entry or a rule found, so a feed reader (or
Slack's RSS app) can follow it: one Atom entry per event, the latest active first, updated
when another outlet joins it.  Written with ElementTree, so every text is escaped;
characters XML cannot carry are dropped."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from monitor import __version__
from monitor.display import safe

ATOM = "http://www.w3.org/2005/Atom"
_NS = uuid.UUID("5b0e9a52-3f5e-4a53-9c41-4d1f6c0a7e21")  # monitor's ids: uuid5 in this space
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
ENTRIES = 50  # events in one feed


def urn(kind: str, name: str) -> str:
    """A stable id (an Atom id never changes): urn:uuid of ``kind:name``."""
    return uuid.uuid5(_NS, f"{kind}:{name}").urn


def _text(value: Any) -> str:
    return _XML_UNSAFE.sub("", safe("" if value is None else str(value)))


def _add(parent: ET.Element, tag: str, text: Any = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}",
                            {k: _text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _http(url: Any) -> str | None:
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) \
        else None


def stories(hits: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Hits (newest first) grouped by story, in the order of each story's newest hit."""
    grouped: dict[int, list[dict[str, Any]]] = {}
    for hit in hits:
        grouped.setdefault(int(hit["story_id"]), []).append(hit)
    return list(grouped.values())


def feed(title: str, feed_id: str, self_url: str, page_url: str,
         hits: list[dict[str, Any]], now: datetime) -> bytes:
    """The Atom document of ``hits`` (newest first)."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    _add(root, "id", feed_id)
    _add(root, "title", title)
    groups = stories(hits)
    newest = max((h["first_seen"] for h in hits), default=None)
    _add(root, "updated", newest or now.isoformat().replace("+00:00", "Z"))
    _add(root, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(root, "link", rel="alternate", type="text/html", href=page_url)
    _add(_add(root, "author"), "name", "monitor")
    _add(root, "generator", "monitor", version=__version__)
    for group in groups:
        first = group[0]
        entry = _add(root, "entry")
        _add(entry, "id", urn("story", str(first["story_id"])))
        _add(entry, "title", first["title"] or first["url"])
        _add(entry, "updated", max(h["first_seen"] for h in group))
        if first.get("published"):
            _add(entry, "published", first["published"])
        link = _http(first["url"])
        if link:
            _add(entry, "link", rel="alternate", type="text/html", href=link)
        names = ", ".join(dict.fromkeys(h["name"] for h in group))
        _add(entry, "summary", f"{names}: {first['snippet']}", type="text")
        for hit in group:
            _add(entry, "category", term=f"{hit['watchlist']}/{hit['entry']}",
                 label=hit["name"])
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def event_feed(title: str, feed_id: str, self_url: str, site: str,
               events: list[dict[str, Any]], now: datetime) -> bytes:
    """The Atom document of ``events`` (`monitor events --json` objects), each linking to
    its page on ``site`` and naming its outlets and entries."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    _add(root, "id", feed_id)
    _add(root, "title", title)
    newest = max((e["last_seen"] for e in events), default=None)
    _add(root, "updated", newest or now.isoformat().replace("+00:00", "Z"))
    _add(root, "link", rel="self", type="application/atom+xml", href=self_url)
    _add(root, "link", rel="alternate", type="text/html", href=site + "/")
    _add(_add(root, "author"), "name", "monitor")
    _add(root, "generator", "monitor", version=__version__)
    for event in events:
        entry = _add(root, "entry")
        _add(entry, "id", urn("event", str(event["event_id"])))
        _add(entry, "title", event["title"] or f"event {event['event_id']}")
        _add(entry, "updated", event["last_seen"])
        if event.get("published"):
            _add(entry, "published", event["published"])
        _add(entry, "link", rel="alternate", type="text/html",
             href=f"{site}/events/{event['event_id']}")
        outlets = sorted({o["feed"] for o in event["outlets"]})
        names = ", ".join(e["name"] for e in event["entries"])
        _add(entry, "summary", f"{names} · {len(outlets)} outlet(s): {', '.join(outlets)}. "
             f"{event['summary'] or ''}".strip(), type="text")
        for e in event["entries"]:
            _add(entry, "category", term=f"{e['watchlist']}/{e['entry']}", label=e["name"])
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body
