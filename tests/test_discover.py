"""Finding a site's source (monitor/sources/discover.py): what a body is, the feeds a page
announces, the sitemaps robots.txt names, and the whole search through a fake web and,
wired to the Fetcher, a real local server."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from monitor.config import FetchConfig
from monitor.errors import MonitorError, UsageError
from monitor.fetch import Fetcher
from monitor.sources.base import Fetch, Fetched, fetch_with
from monitor.sources.discover import (
    MAX_PROBES,
    Discovery,
    NoSourceFound,
    Unreachable,
    classify,
    discover,
    feed_links,
    rank_sitemaps,
    robots_sitemaps,
    robots_url,
)
from monitor.sources.sitemap import follow_index, parse_sitemap
from tests.support import ROOT, Reply, Server, rss

CORPUS = ROOT.parent / "shared" / "corpus" / "pages"
SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'

# The head WordPress writes (5.x/6.x), as on a post page.
WORDPRESS = b"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>Sanctions update &#8211; Example Tavern</title>
<link rel='dns-prefetch' href='//s.w.org' />
<link rel="alternate" type="application/rss+xml" title="Example Tavern &raquo; Feed"
      href="https://tavern.example/feed" />
<link rel="alternate" type="application/rss+xml" title="Example Tavern &raquo; Comments Feed"
      href="https://tavern.example/comments/feed" />
<link rel="alternate" type="application/rss+xml"
      title="Example Tavern &raquo; Sanctions update Comments Feed"
      href="https://tavern.example/2026/05/sanctions-update/feed" />
<link rel="https://api.w.org/" href="https://tavern.example/wp-json/" />
<link rel="alternate" type="application/json"
      href="https://tavern.example/wp-json/wp/v2/posts/4512" />
<link rel="EditURI" type="application/rsd+xml" title="RSD"
      href="https://tavern.example/xmlrpc.php?rsd" />
<link rel="canonical" href="https://tavern.example/2026/05/sanctions-update" />
<link rel="alternate" type="application/json+oembed"
      href="https://tavern.example/wp-json/oembed/1.0/embed?url=x" />
<link rel="alternate" type="text/xml+oembed"
      href="https://tavern.example/wp-json/oembed/1.0/embed?url=x&#038;format=xml" />
</head><body><p>Post</p></body></html>
"""

# A news site with several feeds, written several ways.
NEWS_SITE = b"""<!doctype html><html><head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">
<title>The Example Times</title>
<link rel="alternate" hreflang="fr" href="https://times.example/fr/">
<link REL="Alternate" TYPE="application/RSS+XML; charset=utf-8" title="Top stories"
      href="/rss/top.xml">
<link rel="alternate" type="application/atom+xml" title="World" href="rss/../atom/world.atom">
<link rel="alternate feed" type="application/rss+xml" title="Top stories (again)"
      href="HTTPS://TIMES.EXAMPLE:443/rss/top.xml#x">
<link rel="alternate" type="application/rdf+xml" title="Caf\xe9 (RSS 1.0)" href="/rdf">
<link rel="alternate" type="application/feed+json" title="JSON" href="/feed.json">
<link rel="alternate" type="text/html" href="/mobile/">
<link rel="alternate" type="application/rss+xml" title="Evil" href="javascript:alert(1)">
<link rel="alternate" type="application/rss+xml" title="No href">
<link rel="feed" href="/all-news">
<link rel="stylesheet" type="application/rss+xml" href="/not-a-feed.xml">
</head><body>
<link rel="alternate" type="application/rss+xml" title="Podcast" href="//podcasts.example/times">
</body></html>"""

BASE = b"""<html><head>
<base href="/edition/europe/">
<link rel="alternate" type="application/rss+xml" title="Europe" href="rss.xml">
<link rel="alternate" type="application/atom+xml" title="Site" href="/atom.xml">
<base href="https://ignored.example/">
</head><body>Europe</body></html>"""

NONE = b"""<!DOCTYPE html><html><head><title>Ministry of Foreign Affairs</title>
<link rel="canonical" href="https://mfa.example/"><link rel="icon" href="/favicon.ico">
</head><body><a href="/press/rss">RSS</a></body></html>"""


def urls(links: list[object]) -> list[str]:
    return [str(getattr(link, "url", "")) for link in links]


# --- a page's feeds -----------------------------------------------------------------------


def test_a_wordpress_page_lists_its_feeds_and_not_its_rest_api() -> None:
    links = feed_links(WORDPRESS, "https://tavern.example/2026/05/sanctions-update",
                       "text/html; charset=UTF-8")
    assert urls(links) == ["https://tavern.example/feed", "https://tavern.example/comments/feed",
                           "https://tavern.example/2026/05/sanctions-update/feed"]
    assert links[0].title == "Example Tavern » Feed" and links[0].readable


def test_a_news_sites_feeds_in_document_order_once_each_made_absolute() -> None:
    links = feed_links(NEWS_SITE, "https://times.example/world/index.html", None)
    assert [(link.url, link.title, link.readable) for link in links] == [
        ("https://times.example/rss/top.xml", "Top stories", True),
        ("https://times.example/world/atom/world.atom", "World", True),
        ("https://times.example/rdf", "Café (RSS 1.0)", True),  # windows-1252, as declared
        ("https://times.example/feed.json", "JSON", False),
        ("https://times.example/all-news", None, True),
        ("https://podcasts.example/times", "Podcast", True),
    ]


def test_base_href_resolves_relative_feed_links() -> None:
    links = feed_links(BASE, "https://paper.example/home", "text/html")
    assert urls(links) == ["https://paper.example/edition/europe/rss.xml",
                           "https://paper.example/atom.xml"]
    script = BASE.replace(b'"/edition/europe/"', b'"javascript:void(0)"')
    assert urls(feed_links(script, "https://paper.example/home"))[0] == (
        "https://paper.example/rss.xml")


def test_a_page_with_no_feeds_and_pages_that_are_no_html() -> None:
    assert feed_links(NONE, "https://mfa.example/") == []
    for body in (b"", b"\x00\x01\x02", b"<<<>>>", b"%PDF-1.7 binary", "\ufeff<p>hé".encode()):
        assert feed_links(body, "https://x.example/") == []


def test_feed_links_survive_broken_markup_and_entities() -> None:
    body = (b"<html><head><title>x</title></head><body><div><table><tr><td>"
            b'<link rel=alternate type=application/rss+xml title="A &amp; B" href="/a?x=1&amp;y=2">'
            b"<p>unclosed <b>tags <!-- an unclosed comment")
    links = feed_links(body, "https://x.example/")
    assert [(link.url, link.title) for link in links] == [("https://x.example/a?x=1&y=2",
                                                           "A & B")]


def test_pages_in_the_corpus_announce_feeds() -> None:
    """A dev check over real pages (skipped without ../shared/corpus)."""
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    pages = sorted(CORPUS.glob("*.html"))
    announcing = 0
    for page in pages:
        body = page.read_bytes()
        assert classify(body, "text/html") == "html", page.name
        links = feed_links(body, f"https://site.example/{page.stem}/", None)
        assert all(link.url.startswith(("http://", "https://")) for link in links)
        assert len({link.url for link in links}) == len(links)
        announcing += bool(links)
    assert pages and announcing > 0


# --- what a body is ---------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (rss([{"title": "t"}]), "application/rss+xml", "feed"),
    (rss([{"title": "t"}]), "text/html; charset=utf-8", "feed"),  # a server that lies
    (b'\xef\xbb\xbf<?xml version="1.0"?>\n<?xml-stylesheet href="/f.xsl"?>\n<!-- hi -->\n'
     b'<rss version="2.0"><channel/></rss>', None, "feed"),
    ('<?xml version="1.0" encoding="utf-16"?><rss version="2.0"/>'.encode("utf-16"), None,
     "feed"),
    (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title></feed>', "text/xml", "feed"),
    (b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
     b"</rdf:RDF>", None, "feed"),
    (b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
     b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"/>', None,
     "feed"),
    (f"<urlset {SM}/>".encode(), "text/xml", "sitemap"),
    (f'<?xml version="1.0"?><sitemapindex {SM}/>'.encode(), "application/xml", "sitemap"),
    (gzip.compress(f"<urlset {SM}><url><loc>https://x.example/</loc></url></urlset>".encode()),
     "application/x-gzip", "sitemap"),
    (gzip.compress(b"<html>zipped page</html>"), "application/octet-stream", "other"),
    (b"https://x.example/a\nhttps://x.example/b\n", "text/plain", "sitemap"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "application/json",
     "json-feed"),
    (b'{"status": "ok"}', "application/json", "other"),
    (WORDPRESS, "text/html", "html"),
    (b"\n\n  <HTML><body>old</body></HTML>", None, "html"),
    (b"<head><title>no html tag</title></head>", "text/html", "html"),
    (b'<?xml version="1.0"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"/>',
     "application/xhtml+xml", "html"),
    (b"User-agent: *\nDisallow: /private\n", "text/plain", "other"),
    (b"%PDF-1.7\n...", "application/pdf", "other"),
    (b"", None, "other"),
    (b"", "text/html", "html"),
    (b"<!-- " + b"x" * 10_000 + b" -->", "application/rss+xml", "feed"),  # the type decides
])
def test_classify(body: bytes, content_type: str | None, expected: str) -> None:
    assert classify(body, content_type) == expected


# --- robots.txt -------------------------------------------------------------------------------


def test_robots_txt_sitemap_lines() -> None:
    body = (b"\xef\xbb\xbfUser-agent: *\r\nDisallow: /search\r\n"
            b"Sitemap: https://paper.example/sitemap_index.xml\r\n"
            b"sitemap:https://paper.example/news-sitemap.xml # the news one\r\n"
            b"  SITEMAP :  https://paper.example/video.xml.gz\n"
            b"Sitemap: /relative.xml\nSitemap: ftp://paper.example/s.xml\n"
            b"Sitemap: https://paper.example/sitemap_index.xml\n"
            b"# Sitemap: https://paper.example/commented.xml\n"
            b"Allow: /sitemap: https://paper.example/not-a-line.xml\n"
            b"Sitemap: javascript:alert(1)\nSitemap:\n")
    assert robots_sitemaps(body) == ["https://paper.example/sitemap_index.xml",
                                     "https://paper.example/news-sitemap.xml",
                                     "https://paper.example/video.xml.gz"]
    many = b"".join(b"Sitemap: https://x.example/s%d.xml\n" % i for i in range(500))
    assert len(robots_sitemaps(many)) == 50
    assert robots_sitemaps(b"<html>404 page</html>") == []


def test_robots_url_and_ranking() -> None:
    assert robots_url("https://Paper.example:8443/a/b?c#d") == "https://Paper.example:8443/robots.txt"
    assert rank_sitemaps(["https://x.example/sitemap.xml", "https://x.example/post-sitemap.xml",
                          "https://x.example/sitemap-news.xml", "https://news.x.example/s.xml",
                          "https://x.example/news/sitemap.xml"]) == [
        "https://x.example/sitemap-news.xml", "https://x.example/news/sitemap.xml",
        "https://x.example/sitemap.xml", "https://x.example/post-sitemap.xml",
        "https://news.x.example/s.xml"]


# --- the search, through a fake web -------------------------------------------------------------


class FakeWeb:
    """Bodies by URL (a body alone is a 200 with its content type guessed); every fetch
    recorded; unknown URLs are 404s."""

    def __init__(self, pages: dict[str, Fetched | bytes | tuple[bytes, str]]) -> None:
        self.pages, self.asked = pages, list[str]()

    async def __call__(self, url: str) -> Fetched:
        self.asked.append(url)
        page = self.pages.get(url)
        if page is None:
            return Fetched(404, url, "text/html", b"<html>Not found</html>", "HTTP 404")
        if isinstance(page, Fetched):
            return page
        body, kind = page if isinstance(page, tuple) else (page, "text/html")
        return Fetched(200, url, kind, body)


def run(url: str, web: Fetch) -> Discovery:
    return asyncio.run(discover(url, web))


def news_sitemap(count: int = 3, name: str = "The Example Times", section: str = "world"
                 ) -> bytes:
    entries = "".join(
        f"<url><loc>https://times.example/{section}/2026/05/0{i + 1}/story-{i}.html</loc>"
        "<news:news>"
        f"<news:publication><news:name>{name}</news:name><news:language>en</news:language>"
        f"</news:publication><news:publication_date>2026-05-0{i + 1}T08:00:00Z"
        f"</news:publication_date><news:title>Story {i}</news:title></news:news></url>"
        for i in range(count))
    return f'<?xml version="1.0"?><urlset {SM} {NEWS}>{entries}</urlset>'.encode()


PLAIN_INDEX = (f'<?xml version="1.0"?><sitemapindex {SM}><sitemap><loc>https://times.example/'
               f"post-sitemap.xml</loc></sitemap></sitemapindex>").encode()
FEED = rss([{"title": "Putin in Pyongyang", "link": "https://times.example/a", "guid": "a"}],
           title="Times: Top stories")


def test_a_feed_url_is_added_as_rss_after_one_fetch() -> None:
    web = FakeWeb({"https://times.example/rss/top.xml": (FEED, "text/xml")})
    found = run("https://times.example/rss/top.xml", web)
    assert (found.url, found.kind, found.title) == ("https://times.example/rss/top.xml", "rss",
                                                    "Times: Top stories")
    assert found.alternatives == () and "is a feed" in found.explanation
    assert web.asked == ["https://times.example/rss/top.xml"]


def test_a_sitemap_url_is_added_as_sitemap() -> None:
    web = FakeWeb({"https://times.example/news.xml.gz": (gzip.compress(news_sitemap()),
                                                          "application/gzip")})
    found = run("https://times.example/news.xml.gz", web)
    assert (found.kind, found.title) == ("sitemap", "The Example Times")
    assert found.explanation == ("https://times.example/news.xml.gz is a news sitemap "
                                 "(3 URLs, 'The Example Times')")


def test_a_page_adds_its_first_readable_feed_and_lists_the_others() -> None:
    web = FakeWeb({"https://times.example/": NEWS_SITE,
                   "https://times.example/rss/top.xml": (FEED, "application/rss+xml")})
    found = run("https://times.example/", web)
    assert (found.url, found.kind, found.title) == (
        "https://times.example/rss/top.xml", "rss", "Top stories")
    assert [(c.url, c.kind) for c in found.alternatives] == [
        ("https://times.example/atom/world.atom", "rss"), ("https://times.example/rdf", "rss"),
        ("https://times.example/feed.json", "json-feed"),
        ("https://times.example/all-news", "rss"), ("https://podcasts.example/times", "rss")]
    assert found.explanation == ("found on https://times.example/ (<link rel=alternate>); "
                                 "it lists 6 feeds")
    assert web.asked == ["https://times.example/", "https://times.example/rss/top.xml"]


def test_links_that_do_not_read_as_feeds_are_skipped_within_the_bound() -> None:
    web = FakeWeb({"https://times.example/": NEWS_SITE,
                   "https://times.example/atom/world.atom": b"<html>soft 404</html>",
                   "https://times.example/rdf": (FEED, "application/rdf+xml")})
    found = run("https://times.example/", web)
    assert found.url == "https://times.example/rdf" and found.title == "Café (RSS 1.0)"
    assert "https://times.example/rss/top.xml" not in urls(list(found.alternatives))
    assert found.explanation.endswith("; unreadable: https://times.example/rss/top.xml, "
                                      "https://times.example/atom/world.atom")


def test_a_page_whose_feeds_all_fail_falls_back_to_robots_txt() -> None:
    web = FakeWeb({"https://times.example/": NEWS_SITE,
                   "https://times.example/robots.txt": (
                       b"Sitemap: https://times.example/sitemap_index.xml\n"
                       b"Sitemap: https://times.example/sitemap-news.xml\n", "text/plain"),
                   "https://times.example/sitemap-news.xml": (news_sitemap(), "text/xml")})
    found = run("https://times.example/", web)
    assert (found.url, found.kind) == ("https://times.example/sitemap-news.xml", "sitemap")
    assert web.asked == ["https://times.example/", "https://times.example/rss/top.xml",
                         "https://times.example/atom/world.atom", "https://times.example/rdf",
                         "https://times.example/robots.txt",
                         "https://times.example/sitemap-news.xml"]
    assert len(web.asked) <= 2 + 2 * MAX_PROBES
    assert found.explanation.startswith(
        "none of the first 3 of the page's 5 feeds could be read (https://times.example/rss/"
        "top.xml: HTTP 404; https://times.example/atom/world.atom: HTTP 404; "
        "https://times.example/rdf: HTTP 404); ")
    assert found.explanation.endswith(
        "robots.txt names 2 sitemaps, and https://times.example/sitemap-news.xml is a news "
        "sitemap (3 URLs, 'The Example Times')")
    assert [c.url for c in found.alternatives] == ["https://times.example/sitemap_index.xml"]


def test_a_page_without_feeds_takes_the_news_sitemap_robots_txt_names() -> None:
    web = FakeWeb({"https://mfa.example/": NONE,
                   "https://mfa.example/robots.txt": (
                       b"User-agent: *\nSitemap: https://mfa.example/sitemap.xml\n"
                       b"Sitemap: https://mfa.example/press/sitemap.xml\n", "text/plain"),
                   "https://mfa.example/sitemap.xml": (PLAIN_INDEX, "text/xml"),
                   "https://mfa.example/press/sitemap.xml": (news_sitemap(2, "MFA Press"),
                                                             "text/xml")})
    found = run("https://mfa.example/", web)
    assert (found.url, found.kind, found.title) == (
        "https://mfa.example/press/sitemap.xml", "sitemap", "MFA Press")
    assert found.explanation == (
        "the page lists no <link rel=alternate> feeds; robots.txt names 2 sitemaps, and "
        "https://mfa.example/press/sitemap.xml is a news sitemap (2 URLs, 'MFA Press')")


def test_without_a_news_sitemap_the_first_readable_sitemap_is_taken_and_said_so() -> None:
    web = FakeWeb({"https://mfa.example/": NONE,
                   "https://mfa.example/robots.txt": (
                       b"Sitemap: https://mfa.example/broken.xml\n"
                       b"Sitemap: https://mfa.example/sitemap.xml\n", "text/plain"),
                   "https://mfa.example/broken.xml": b"<html>oops</html>",
                   "https://mfa.example/sitemap.xml": (PLAIN_INDEX, "text/xml")})
    found = run("https://mfa.example/", web)
    assert (found.url, found.kind) == ("https://mfa.example/sitemap.xml", "sitemap")
    assert "sitemap https://mfa.example/broken.xml: not a sitemap" in found.explanation
    assert found.explanation.endswith("is a sitemap index of 1 sitemaps (no news sitemap "
                                      "among the first 2)")


def test_a_page_that_refuses_us_still_has_a_robots_txt() -> None:
    web = FakeWeb({"https://times.example/": Fetched(403, "https://times.example/",
                                                     "text/html", b"<html>Denied</html>",
                                                     "HTTP 403"),
                   "https://times.example/robots.txt": (
                       b"Sitemap: https://times.example/news.xml", "text/plain"),
                   "https://times.example/news.xml": (news_sitemap(), "text/xml")})
    found = run("https://times.example/", web)
    assert found.url == "https://times.example/news.xml"
    assert found.explanation.startswith("https://times.example/ answered HTTP 403; ")


def test_redirected_pages_resolve_against_where_they_ended() -> None:
    page = Fetched(200, "https://www.times.example/en/", "text/html",
                   b'<link rel="alternate" type="application/rss+xml" href="feed.xml">')
    web = FakeWeb({"http://times.example/": page,
                   "https://www.times.example/en/feed.xml": (FEED, "text/xml")})
    assert run("http://times.example/", web).url == "https://www.times.example/en/feed.xml"
    web = FakeWeb({"http://times.example/": Fetched(200, "https://www.times.example/en/",
                                                    "text/html", NONE)})
    with pytest.raises(NoSourceFound):
        run("http://times.example/", web)
    assert web.asked[-1] == "https://www.times.example/robots.txt"


def test_nothing_found_says_what_was_looked_at() -> None:
    web = FakeWeb({"https://mfa.example/": NONE,
                   "https://mfa.example/robots.txt": (b"User-agent: *\nDisallow:\n",
                                                      "text/plain")})
    with pytest.raises(NoSourceFound) as caught:
        run("https://mfa.example/", web)
    assert str(caught.value) == (
        "no feed or news sitemap found at https://mfa.example/: the page lists no "
        "<link rel=alternate> feeds; robots.txt names no sitemap")
    assert isinstance(caught.value, UsageError) and caught.value.exit_code == 2
    web = FakeWeb({"https://mfa.example/": NONE})
    with pytest.raises(NoSourceFound, match=r"; robots.txt answered HTTP 404$"):
        run("https://mfa.example/", web)
    web = FakeWeb({"https://mfa.example/f.pdf": (b"%PDF-1.7", "application/pdf")})
    with pytest.raises(NoSourceFound, match=r"is not a feed, a sitemap or a web page "
                                            r"\(application/pdf\)"):
        run("https://mfa.example/f.pdf", web)


def test_a_json_feed_is_named_and_refused() -> None:
    web = FakeWeb({"https://x.example/feed.json": (
        b'{"version": "https://jsonfeed.org/version/1", "items": []}', "application/json")})
    with pytest.raises(NoSourceFound, match="is a JSON Feed, which monitor does not read yet"):
        run("https://x.example/feed.json", web)
    only_json = b'<link rel="alternate" type="application/feed+json" href="/feed.json">'
    web = FakeWeb({"https://x.example/": only_json})
    with pytest.raises(NoSourceFound, match=r"the page lists only JSON Feeds \(1\)"):
        run("https://x.example/", web)


def test_no_answer_at_all_is_an_environment_error_with_secrets_masked() -> None:
    web = FakeWeb({"https://user:pw@x.example/?token=abc": Fetched(
        None, "https://user:pw@x.example/?token=abc", None, b"", "ConnectError: refused")})
    with pytest.raises(Unreachable) as caught:
        run("https://user:pw@x.example/?token=abc", web)
    assert not isinstance(caught.value, UsageError) and isinstance(caught.value, MonitorError)
    assert "pw" not in str(caught.value) and "abc" not in str(caught.value)
    assert str(caught.value).endswith(": ConnectError: refused")


def test_a_fetch_that_returns_plain_tuples_is_accepted() -> None:
    async def fetch(url: str) -> Fetched:
        return (200, url, "application/rss+xml", FEED)  # type: ignore[return-value]

    assert run("https://times.example/rss", fetch).kind == "rss"


# --- wired to the Fetcher, against a real local server ------------------------------------------


def discover_via(config: FetchConfig, url: str) -> Discovery:
    async def go() -> Discovery:
        async with Fetcher(config) as fetcher:
            return await discover(url, fetch_with(fetcher))
    return asyncio.run(go())


def test_discovery_and_an_index_through_the_fetcher(server: Server) -> None:
    server.routes["/"] = Reply(200, NONE, {"Content-Type": "text/html; charset=utf-8"})
    server.routes["/robots.txt"] = Reply(200, (
        f"User-agent: *\nSitemap: {server.url('/sitemap_index.xml')}\n").encode(),
        {"Content-Type": "text/plain"})
    server.routes["/sitemap_index.xml"] = Reply(200, (
        f'<?xml version="1.0"?><sitemapindex {SM}>'
        f"<sitemap><loc>/news-1.xml.gz</loc><lastmod>2026-05-01</lastmod></sitemap>"
        f"<sitemap><loc>/news-2.xml.gz</loc><lastmod>2026-05-03</lastmod></sitemap>"
        "</sitemapindex>").encode(), {"Content-Type": "application/xml"})
    server.routes["/news-2.xml.gz"] = Reply(200, gzip.compress(news_sitemap(2, section="a")),
                                            {"Content-Type": "application/x-gzip"})
    server.routes["/news-1.xml.gz"] = Reply(200, gzip.compress(news_sitemap(3, section="b")),
                                            {"Content-Type": "application/x-gzip"})
    open_config = FetchConfig(timeout=5.0, allow_private_addresses=True)
    found = discover_via(open_config, server.url("/"))
    assert (found.url, found.kind) == (server.url("/sitemap_index.xml"), "sitemap")

    async def poll() -> list[str]:
        async with Fetcher(open_config) as fetcher:
            got = await fetcher.get(found.url)
            parsed = parse_sitemap(got.body, got.final_url)
            result = await follow_index(parsed, fetch_with(fetcher), max_items=4)
            return [entry.url for entry in result.entries]

    # news-2 (newest lastmod: a-05-01, a-05-02), then news-1 up to 4 (b-05-03, b-05-02)
    assert [u.split("/")[3] for u in asyncio.run(poll())] == ["b", "a", "b", "a"]
    assert server.hits("/news-2.xml.gz") == 1 and server.hits("/news-1.xml.gz") == 1
    with pytest.raises(Unreachable) as caught:  # the address guard holds
        discover_via(FetchConfig(timeout=5.0), server.url("/"))
    assert str(caught.value).startswith(f"could not fetch {server.url('/')}: ")
    assert "allow_private_addresses" in str(caught.value)

