"""Sources as plug-ins (monitor/sources): a feed's kind picks the source that reads it;
sitemap feeds polled end to end against a real local server (conditional GET, an index
followed newest children first within fetch.max_items, the size limit, the address
guard), and `monitor feeds add` finding a page's feeds or a site's news sitemap, on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config import Config, FetchConfig
from monitor.sources.base import UnknownSource, source_for, sources
from monitor.store import Store
from monitor.store.queries import article_rows, feed_rows
from tests.support import ROOT, Reply, Server, article_html, rss
from tests.test_feeds_cli import cli, write_config
from tests.test_pipeline import OTHER, PARAGRAPHS, Clock, run

SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
XML = {"Content-Type": "application/xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


def feed_json(store: Store) -> list[dict[str, Any]]:
    """The feeds as `feeds list --json` shows them."""
    return [row.as_json() for row in feed_rows(store)]


def article_json(store: Store) -> list[dict[str, Any]]:
    """The articles as `articles --json` shows them."""
    return [row.as_json() for row in article_rows(store)]


@pytest.fixture
def clock() -> Clock:
    return Clock()


def news_sitemap(server: Server, pages: list[tuple[str, str, str]]) -> bytes:
    """A news sitemap: (path, title, publication date) a URL."""
    urls = "".join(
        f"<url><loc>{server.url(path)}</loc><news:news><news:publication>"
        f"<news:name>Wire</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{when}</news:publication_date>"
        f"<news:title>{title}</news:title></news:news></url>" for path, title, when in pages)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {SM} {NEWS}>{urls}</urlset>'.encode()


def plain_sitemap(server: Server, pages: list[tuple[str, str]]) -> bytes:
    """A sitemap with lastmod: (path, lastmod) a URL."""
    urls = "".join(f"<url><loc>{server.url(path)}</loc><lastmod>{when}</lastmod></url>"
                   for path, when in pages)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {SM}>{urls}</urlset>'.encode()


def pages(server: Server, *paths: str) -> None:
    for n, path in enumerate(paths):
        server.routes[path] = Reply(200, article_html(f"Story {path}",
                                                      PARAGRAPHS if n % 2 == 0 else OTHER),
                                    HTML)


def sitemap_config(store: Store, **fetch: object) -> Config:
    options = {"timeout": 2.0, "allow_private_addresses": True, **fetch}
    return Config(database=store.url, watchlists=str(ROOT / "watchlists"),
                  fetch=FetchConfig(**options))  # type: ignore[arg-type]


def add_sitemap(store: Store, url: str, clock: Clock) -> None:
    store.add_feed(url, clock(), kind="sitemap")


# --- the registry -------------------------------------------------------------------------


def test_each_kind_has_its_source_and_an_unknown_kind_is_named() -> None:
    assert sorted(sources()) == ["rss", "sitemap"]
    assert all(source_for(kind).kind == kind for kind in sources())
    with pytest.raises(UnknownSource, match="unknown feed kind 'atom': expected one of rss, "
                                            "sitemap"):
        source_for("atom")


def test_the_feed_kind_is_stored_and_kept(store: Store, clock: Clock) -> None:
    feed, added = store.add_feed("http://wire.example/sitemap.xml", clock(), kind="sitemap")
    assert added and feed.kind == "sitemap"
    assert store.add_feed("http://wire.example/rss", clock())[0].kind == "rss"  # the default
    again, added = store.add_feed("http://wire.example/sitemap.xml", clock(), name="Wire")
    assert not added and again.kind == "sitemap"  # no kind given: kept
    assert store.add_feed("http://wire.example/sitemap.xml", clock(), kind="rss")[0].kind == "rss"
    assert {row["url"]: row["kind"] for row in feed_json(store)} == {
        "http://wire.example/sitemap.xml": "rss", "http://wire.example/rss": "rss"}


def test_a_feed_of_an_unknown_kind_fails_with_its_name(server: Server, store: Store,
                                                       clock: Clock) -> None:
    server.routes["/f.rss"] = Reply(200, rss([]))
    store.add_feed(server.url("/f.rss"), clock(), kind="atom")
    summary = run(store, sitemap_config(store), clock)
    assert summary.failed == 1 and server.requests == []
    assert feed_json(store)[0]["last_error"] == (
        "unknown feed kind 'atom': expected one of rss, sitemap")


def test_sources_import_no_storage_delivery_or_rendering() -> None:
    """A source turns bytes into items: importing every source module (in a fresh
    interpreter) loads no store, SQLAlchemy, ingestion, delivery, channel or rendering."""
    code = ("import sys\n"
            "import monitor.sources.base, monitor.sources.rss, monitor.sources.sitemap\n"
            "import monitor.sources.discover, monitor.sources.archive\n"
            "monitor.sources.base.sources()\n"
            "print(' '.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True, timeout=120).stdout.split()
    forbidden = ("sqlalchemy", "alembic", "monitor.store", "monitor.ingest", "monitor.deliver",
                 "monitor.notify", "monitor.channels", "monitor.render")
    assert [m for m in loaded if m.startswith(forbidden)] == []


# --- sitemap feeds, polled ------------------------------------------------------------------


def test_a_news_sitemap_polled_again_asks_changed_since_and_stores_only_new_urls(
        server: Server, store: Store, clock: Clock) -> None:
    pages(server, "/a1", "/a2", "/a3")
    listed = [("/a1", "Putin in Pyongyang", "2026-11-25T07:00:00Z"),
              ("/a2", "Zelensky asks for air defence", "2026-11-25T06:00:00+00:00")]
    server.routes["/news-sitemap.xml"] = Reply(200, news_sitemap(server, listed),
                                               {**XML, "ETag": '"v1"'})
    add_sitemap(store, server.url("/news-sitemap.xml"), clock)
    config = sitemap_config(store)
    summary = run(store, config, clock)
    assert (summary.feeds_polled, summary.failed, summary.articles_new) == (1, 0, 2)
    first = server.requests[0]
    assert first.headers["accept"].startswith("application/xml")
    articles = {a["url"]: a for a in article_json(store)}
    assert set(articles) == {server.url("/a1"), server.url("/a2")}
    assert articles[server.url("/a1")]["text_source"] == "page"
    row = feed_json(store)[0]
    assert (row["kind"], row["state"], row["last_error"]) == ("sitemap", "active", None)

    # Again: the stored ETag is sent, the server says 304, nothing is fetched.
    server.routes["/news-sitemap.xml"] = lambda r: (
        Reply(304) if r.headers.get("if-none-match") == '"v1"' else Reply(500))
    clock.now += timedelta(hours=1)
    again = run(store, config, clock, all_feeds=True)
    assert (again.not_modified, again.articles_new, again.failed) == (1, 0, 0)

    # A new URL among the old ones: only it is fetched.
    listed.insert(0, ("/a3", "Kim visits Moscow", "2026-11-25T09:00:00Z"))
    server.routes["/news-sitemap.xml"] = Reply(200, news_sitemap(server, listed),
                                               {**XML, "ETag": '"v2"'})
    clock.now += timedelta(hours=1)
    third = run(store, config, clock, all_feeds=True)
    assert (third.articles_new, third.failed) == (1, 0)
    assert [server.hits(p) for p in ("/a1", "/a2", "/a3")] == [1, 1, 1]
    assert len(article_json(store)) == 3


def test_a_sitemap_index_is_followed_newest_children_first_within_max_items(
        server: Server, store: Store, clock: Clock) -> None:
    pages(server, "/new-1", "/new-2", "/new-3", "/old-1", "/old-2")
    server.routes["/sitemap_index.xml"] = Reply(200, (
        f'<?xml version="1.0"?><sitemapindex {SM}>'
        f"<sitemap><loc>{server.url('/old.xml')}</loc><lastmod>2026-11-01</lastmod></sitemap>"
        f"<sitemap><loc>/new.xml</loc><lastmod>2026-11-24T10:00:00Z</lastmod></sitemap>"
        "</sitemapindex>").encode(), {**XML, "ETag": '"index"'})
    server.routes["/new.xml"] = Reply(200, plain_sitemap(
        server, [("/new-1", "2026-11-24"), ("/new-2", "2026-11-23")]), XML)
    server.routes["/old.xml"] = Reply(200, plain_sitemap(
        server, [("/old-2", "2026-10-30"), ("/old-1", "2026-10-31")]), XML)
    add_sitemap(store, server.url("/sitemap_index.xml"), clock)
    config = sitemap_config(store, max_items=3)
    summary = run(store, config, clock)
    assert (summary.failed, summary.articles_new) == (0, 3)
    sitemaps = [r.path for r in server.requests if r.path.endswith(".xml")]
    assert sitemaps == ["/sitemap_index.xml", "/new.xml", "/old.xml"]  # newest child first
    assert {a["url"] for a in article_json(store)} == {
        server.url("/new-1"), server.url("/new-2"), server.url("/old-1")}  # old-2: past 3
    assert server.hits("/old-2") == 0
    [feed] = store.feeds()
    assert (feed.etag, feed.body_hash) == (None, None)  # asked whole next time

    # The index unchanged, its newest child grown: followed again, one new URL, and the
    # full count (3) is reached in the newest child alone.
    server.routes["/new.xml"] = Reply(200, plain_sitemap(
        server, [("/new-3", "2026-11-25"), ("/new-1", "2026-11-24"),
                 ("/new-2", "2026-11-23")]), XML)
    clock.now += timedelta(hours=1)
    again = run(store, config, clock, all_feeds=True)
    assert (again.not_modified, again.articles_new, again.failed) == (0, 1, 0)
    index_requests = [r for r in server.requests if r.path == "/sitemap_index.xml"]
    assert len(index_requests) == 2 and "if-none-match" not in index_requests[1].headers
    assert (server.hits("/new.xml"), server.hits("/old.xml")) == (2, 1)
    assert server.hits("/new-1") == 1  # seen before: not fetched again


def test_a_sitemap_over_the_size_limit_fails_the_feed(server: Server, store: Store,
                                                      clock: Clock) -> None:
    many = [(f"/p{n}", "2026-11-24") for n in range(100)]
    server.routes["/sitemap.xml"] = Reply(200, plain_sitemap(server, many), XML)
    add_sitemap(store, server.url("/sitemap.xml"), clock)
    summary = run(store, sitemap_config(store, max_bytes=2000), clock)
    assert (summary.failed, summary.articles_new) == (1, 0)
    row = feed_json(store)[0]
    assert row["state"] == "failing"
    assert row["last_error"] == "body larger than fetch.max_bytes (2,000 bytes)"
    assert not any(r.path.startswith("/p") for r in server.requests)


def test_a_page_that_is_no_sitemap_fails_the_feed_saying_what_it_is(
        server: Server, store: Store, clock: Clock) -> None:
    server.routes["/sitemap.xml"] = Reply(200, article_html("Home", PARAGRAPHS), HTML)
    add_sitemap(store, server.url("/sitemap.xml"), clock)
    assert run(store, sitemap_config(store), clock).failed == 1
    assert feed_json(store)[0]["last_error"] == (
        "not a sitemap: its root element is <html>, not <urlset> or <sitemapindex>")


def test_the_address_guard_holds_for_sitemaps(server: Server, store: Store,
                                              clock: Clock) -> None:
    server.routes["/sitemap.xml"] = Reply(200, plain_sitemap(server, [("/a", "2026-11-24")]),
                                          XML)
    add_sitemap(store, server.url("/sitemap.xml"), clock)
    config = sitemap_config(store, allow_private_addresses=False)
    assert run(store, config, clock).failed == 1
    assert server.requests == []
    assert "private or local address" in feed_json(store)[0]["last_error"]


# --- `monitor feeds add`: discovery ---------------------------------------------------------


def outlet_page(links: str = "") -> bytes:
    return (f'<!DOCTYPE html><html><head><title>Outlet</title>{links}</head>'
            "<body><h1>Outlet</h1></body></html>").encode()


FEED_LINKS = (
    '<link rel="alternate" type="application/rss+xml" title="Top stories" '
    'href="../feeds/top.rss">'
    '<link rel="alternate" type="application/atom+xml" title="World" href="/feeds/world.atom">'
    '<link rel="alternate" type="application/feed+json" title="JSON" href="feed.json">')


def listed(capsys: pytest.CaptureFixture[str], config: str) -> list[dict[str, object]]:
    out = cli(capsys, "-c", config, "feeds", "list", "--json")[1]
    return [json.loads(line) for line in out.splitlines()]


def test_feeds_add_on_a_page_adds_its_first_feed_and_lists_the_others(
        server: Server, tmp_path: Path, db_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    server.routes["/news/"] = Reply(200, outlet_page(FEED_LINKS), HTML)
    server.routes["/feeds/top.rss"] = Reply(200, rss([], "Top"), {
        "Content-Type": "application/rss+xml"})
    config = write_config(tmp_path / "m.yaml", db_url, [])
    code, out, err = cli(capsys, "-c", config, "feeds", "add", server.url("/news/"))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"added feed 1 (rss): {server.url('/feeds/top.rss')}"
    assert f"found on {server.url('/news/')}" in lines[1] and "3 feeds" in lines[1]
    assert f"also found (rss): {server.url('/feeds/world.atom')}  'World'" in out
    assert f"also found (json-feed): {server.url('/news/feed.json')}  'JSON'" in out
    assert [(f["url"], f["kind"]) for f in listed(capsys, config)] == [
        (server.url("/feeds/top.rss"), "rss")]
    assert server.hits("/feeds/world.atom") == 0  # listed, not fetched
    # The page again: its feed is there already.
    code, out, _ = cli(capsys, "-c", config, "feeds", "add", server.url("/news/"))
    assert out.splitlines()[0] == f"feed 1 is already there: {server.url('/feeds/top.rss')}"


def test_feeds_add_finds_a_news_sitemap_in_robots_txt_and_polls_it(
        server: Server, tmp_path: Path, db_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    server.routes["/"] = Reply(200, outlet_page(), HTML)
    server.routes["/robots.txt"] = Reply(200, (
        "User-agent: *\nDisallow: /search\n"
        f"Sitemap: {server.url('/sitemap.xml')}\n"
        f"sitemap: {server.url('/news-sitemap.xml')}  # news\n").encode(),
        {"Content-Type": "text/plain"})
    server.routes["/news-sitemap.xml"] = Reply(200, news_sitemap(
        server, [("/a1", "Putin in Pyongyang", "2026-11-25T07:00:00Z")]), XML)
    pages(server, "/a1")
    config = write_config(tmp_path / "m.yaml", db_url, [])
    code, out, _ = cli(capsys, "-c", config, "feeds", "add", server.url("/"))
    assert code == 0
    assert out.splitlines()[0] == f"added feed 1 (sitemap): {server.url('/news-sitemap.xml')}"
    assert "a news sitemap (1 URLs, 'Wire')" in out
    assert f"also found (sitemap): {server.url('/sitemap.xml')}" in out
    assert server.hits("/sitemap.xml") == 0  # the news one came first
    code, out, _ = cli(capsys, "-c", config, "poll", "--once")
    assert code == 0 and "feeds polled 1, not modified 0, failed 0; articles new 1" in out
    code, out, _ = cli(capsys, "-c", config, "feeds", "list")
    assert "sitemap" in out.splitlines()[0] and "active" in out.splitlines()[0]


def test_feeds_add_kind_adds_the_url_as_it_is(server: Server, tmp_path: Path, db_url: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    server.routes["/news/"] = Reply(200, outlet_page(FEED_LINKS), HTML)
    config = write_config(tmp_path / "m.yaml", db_url, [])
    code, out, _ = cli(capsys, "-c", config, "feeds", "add", server.url("/news/"),
                       "--kind", "sitemap")
    assert (code, out) == (0, f"added feed 1 (sitemap): {server.url('/news/')}\n")
    assert server.requests == []  # nothing looked up
    code, out, _ = cli(capsys, "-c", config, "feeds", "add", server.url("/news/"),
                       "--kind", "rss")
    assert (code, out) == (0, f"updated feed 1 (rss): {server.url('/news/')}\n")
    assert [f["kind"] for f in listed(capsys, config)] == ["rss"]
    with pytest.raises(SystemExit) as exited:
        cli(capsys, "-c", config, "feeds", "add", server.url("/x"), "--kind", "atom")
    assert exited.value.code == 2
    assert "invalid choice: 'atom' (choose from 'rss', 'sitemap')" in capsys.readouterr().err


def test_feeds_add_on_a_page_naming_no_source_is_an_error(
        server: Server, tmp_path: Path, db_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    server.routes["/about"] = Reply(200, outlet_page(), HTML)  # and no /robots.txt
    config = write_config(tmp_path / "m.yaml", db_url, [])
    code, out, err = cli(capsys, "-c", config, "feeds", "add", server.url("/about"))
    assert code == 2 and out == ""
    assert f"no feed or news sitemap found at {server.url('/about')}" in err
    assert "the page lists no <link rel=alternate> feeds" in err
    assert "robots.txt answered HTTP 404" in err
    assert "SAXParseException" not in err
    assert listed(capsys, config) == []


def test_feeds_add_on_an_address_that_cannot_be_read_adds_it_as_given(
        server: Server, tmp_path: Path, db_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "m.yaml", db_url, [])
    code, out, err = cli(capsys, "-c", config, "feeds", "add", server.url("/down.rss"))
    assert code == 0 and out == f"added feed 1 (rss): {server.url('/down.rss')}\n"
    assert err == (f"monitor: {server.url('/down.rss')} answered HTTP 404: added as rss, as "
                   "given; its polls will tell (`monitor feeds list`)\n")


def test_discovery_goes_through_the_address_guard(server: Server, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    server.routes["/news/"] = Reply(200, outlet_page(FEED_LINKS), HTML)
    config = tmp_path / "m.yaml"
    config.write_text(f"database: sqlite:///{tmp_path / 'm.db'}\n"
                      f"watchlists: {ROOT / 'watchlists'}\nfeeds: []\n")
    code, out, err = cli(capsys, "-c", str(config), "feeds", "add", server.url("/news/"))
    assert server.requests == []
    assert code == 0 and out == f"added feed 1 (rss): {server.url('/news/')}\n"
    assert "private or local address" in err and "added as rss, as given" in err


def test_a_forced_kind_survives_the_config_listing_the_feed(
        server: Server, tmp_path: Path, db_url: str, clock: Clock,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = server.url("/sitemap.xml")
    config = write_config(tmp_path / "m.yaml", db_url, [url])
    assert cli(capsys, "-c", config, "feeds", "add", url, "--kind", "sitemap")[0] == 0
    server.routes["/sitemap.xml"] = Reply(200, plain_sitemap(server, [("/a", "2026-11-24")]),
                                          XML)
    pages(server, "/a")
    code, out, _ = cli(capsys, "-c", config, "poll", "--once")
    assert code == 0 and "articles new 1" in out
    assert [f["kind"] for f in listed(capsys, config)] == ["sitemap"]



# --- the README's worked example --------------------------------------------------------------


def readme_source() -> type:
    """The JSON Feed source of README "Adding a source", as written there."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split(
        "\n### Adding a source\n", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {"__name__": "monitor.sources.jsonfeed"}
    exec(compile(code, "README.md", "exec"), namespace)
    source = namespace["JsonFeedSource"]
    assert isinstance(source, type)
    return source


def test_the_readme_source_is_polled_like_the_others(server: Server, store: Store,
                                                     clock: Clock,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.ingest

    source = readme_source()()
    registry = {**sources(), source.kind: source}
    monkeypatch.setattr(monitor.ingest, "sources", lambda: registry)
    pages(server, "/a")
    server.routes["/feed.json"] = Reply(200, json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "Wire",
        "items": [{"id": "1", "url": "/a", "title": "Putin in Pyongyang"}]}).encode(),
        {"Content-Type": "application/feed+json"})
    server.routes["/broken.json"] = Reply(200, b"{", {"Content-Type": "application/json"})
    store.add_feed(server.url("/feed.json"), clock(), kind="jsonfeed")
    store.add_feed(server.url("/broken.json"), clock(), kind="jsonfeed")
    summary = run(store, sitemap_config(store), clock)
    assert (summary.articles_new, summary.failed) == (1, 1)
    assert [a["url"] for a in article_json(store)] == [server.url("/a")]
    errors = {row["url"].rsplit("/", 1)[1]: row["last_error"] for row in feed_json(store)}
    assert errors["feed.json"] is None
    assert str(errors["broken.json"]).startswith("not a JSON Feed: ")
    assert server.requests[0].headers["accept"].startswith("application/feed+json")
