"""Small documents tests build: watchlists from YAML, RSS feeds, article pages."""

from __future__ import annotations

from xml.sax.saxutils import escape

from monitor.watchlist import Watchlist, parse_watchlist


def watchlist_from_yaml(text: str, path: str = "test.yaml") -> Watchlist:
    watchlist, problems = parse_watchlist(text, path)
    assert not problems, problems
    assert watchlist is not None
    return watchlist



def rss(items: list[dict[str, str]], title: str = "Test feed") -> bytes:
    """A small RSS 2.0 document; each item: title, link, guid, description, pubDate."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
             f"<title>{title}</title><link>http://example.org/</link>"]
    for item in items:
        parts.append("<item>" + "".join(
            f"<{k}>{escape(v)}</{k}>" for k, v in item.items()) + "</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def article_html(title: str, paragraphs: list[str], canonical: str | None = None,
                 lang: str = "en") -> bytes:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title>{link}</head><body><nav>Home | World | Sport</nav>"
            f"<article><h1>{escape(title)}</h1>{body}</article>"
            f"<footer>Comentarios (0) · Copyright</footer></body></html>").encode()
