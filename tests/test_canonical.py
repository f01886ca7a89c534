"""A page's canonical link (or og:url) counts only on the page's own registrable domain
(issue 15, item 1: a page could take over another outlet's article), on SQLite and
PostgreSQL, against real local servers under two host names."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from monitor import sites
from monitor.backfill import Options, import_files
from monitor.config import FeedConfig
from monitor.digest import build
from monitor.extract import Extracted
from monitor.ingest import Analyser, analyse
from monitor.sites import same_site, site
from monitor.store import Store
from monitor.store.queries import article_rows, hit_rows
from monitor.watchlist import load_watchlists
from tests.support import ROOT, Reply, Server, article_html, rss
from tests.test_pipeline import OTHER, PARAGRAPHS, Clock, config_for, run

SPOOF = [
    "A random blog copied nothing from anyone: this is its own page about the weather in "
    "the hills, the price of bread at the market and the new bus timetable for the winter.",
    "The author also reviews a novel, recommends two cafes near the station and complains "
    "about the noise from the building site across the road, as every week on this blog.",
]


@pytest.mark.parametrize(("url", "other"), [
    ("https://www.bbc.co.uk/news/1", "http://bbc.co.uk/news/1"),       # www., scheme
    ("https://news.bbc.co.uk/a", "https://bbc.co.uk:8443/b"),          # subdomain, port
    ("http://Bücher.example/a", "http://xn--bcher-kva.example/b"),     # IDNA, case
    ("http://www.bücher.de./a", "http://BÜCHER.de/b"),                 # trailing dot
    ("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/b"),            # one IP, two ports
    ("http://[::1]/a", "http://[0:0::1]:80/b"),                        # one IPv6, two forms
    ("http://localhost:1/a", "http://LOCALHOST:2/b"),
    ("http://host-a.test/a", "http://www.host-a.test/b"),              # unknown TLD
])
def test_same_site(url: str, other: str) -> None:
    assert same_site(url, other) and same_site(other, url)


@pytest.mark.parametrize(("url", "other"), [
    ("https://a.github.io/x", "https://b.github.io/x"),   # a private suffix: two sites
    ("https://github.io/", "https://a.github.io/"),
    ("https://bbc.co.uk/", "https://itv.co.uk/"),
    ("https://co.uk/", "https://bbc.co.uk/"),             # a public suffix is no one's site
    ("http://localhost/a", "http://127.0.0.1/a"),
    ("http://127.0.0.1/a", "http://127.0.0.2/a"),
    ("http://host-a.test/a", "http://host-b.test/a"),
    ("http://example.com/", "http://example.com.evil.test/"),
    ("http:///nohost", "http:///nohost"),                 # no host, no site
    ("http://[broken/", "http://[broken/"),
    ("file:///tmp/a.html", "file:///tmp/a.html"),
])
def test_different_sites(url: str, other: str) -> None:
    assert not same_site(url, other) and not same_site(other, url)


def test_site_is_the_registrable_domain() -> None:
    assert site("https://a.b.bbc.co.uk/x") == "bbc.co.uk"
    assert site("https://x.a.github.io/") == "a.github.io"
    assert site("http://[::1]:8080/") == "::1"
    assert site("http://Bücher.de/") == "xn--bcher-kva.de"


def test_the_suffix_list_is_the_packaged_one_never_fetched(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise AssertionError("the public suffix list must not be fetched")

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    monkeypatch.setattr(socket.socket, "connect", offline)
    sites._suffixes.cache_clear()
    assert site("https://www.bbc.co.uk/") == "bbc.co.uk"


def extracted(canonical: str | None) -> Extracted:
    return Extracted(text=" ".join(PARAGRAPHS), title="Putin in Pyongyang", author=None,
                     published=None, language="en", canonical_url=canonical, source="page")


def test_analyse_takes_a_canonical_on_the_pages_site_and_records_one_elsewhere() -> None:
    analyser = Analyser.create(load_watchlists(ROOT / "watchlists"))

    def new(canonical: str | None, url: str) -> tuple[str, str | None]:
        made = analyse(analyser, extracted(canonical), url=url, feed_id=None, item=None,
                       key=None, page=None)
        return made.canonical_url, made.claimed_canonical

    assert new("https://www.outlet.example/news/1", "https://m.outlet.example/1?utm_source=x") \
        == ("https://outlet.example/news/1", None)
    assert new("https://outlet.example/news/1", "https://blog.example/spoof") \
        == ("https://blog.example/spoof", "https://outlet.example/news/1")
    assert new(None, "https://blog.example/a#top") == ("https://blog.example/a", None)


# --- the repro: feed A's page names B's article as its canonical ----------------------------


@pytest.fixture
def outlet_b() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def test_a_page_cannot_take_over_another_outlets_article(
        store: Store, server: Server, outlet_b: Server, hosts: dict[str, str]) -> None:
    hosts.update({"host-a.test": "127.0.0.1", "host-b.test": "127.0.0.1"})
    blog, outlet = server, outlet_b
    real = f"http://host-b.test:{outlet.port}/news/real-story.html"
    spoof = f"http://host-a.test:{blog.port}/spoof.html"
    blog.routes["/spoof.html"] = Reply(200, article_html("Weather and bread", SPOOF,
                                                         canonical=real))
    blog.routes["/feed.rss"] = Reply(200, rss([{"title": "Weather and bread", "link": spoof,
                                                "guid": "spoof"}], "Random Blog"))
    outlet.routes["/news/real-story.html"] = Reply(200, article_html(
        "Putin in Pyongyang", PARAGRAPHS, canonical=real))
    outlet.routes["/feed.rss"] = Reply(200, rss([{"title": "Putin in Pyongyang", "link": real,
                                                  "guid": "real"}], "Trusted Outlet"))
    feed_a = FeedConfig(f"http://host-a.test:{blog.port}/feed.rss", name="Random Blog")
    feed_b = FeedConfig(f"http://host-b.test:{outlet.port}/feed.rss", name="Trusted Outlet")
    clock = Clock()

    config = config_for(store.url, [])
    first = run(store, replace(config, feeds=(feed_a,)), clock)
    assert (first.failed, first.articles_new) == (0, 1)
    clock.now += timedelta(minutes=1)
    second = run(store, replace(config, feeds=(feed_a, feed_b)), clock)
    assert (second.failed, second.articles_new, second.stories_new) == (0, 1, 1)
    assert outlet.hits("/news/real-story.html") == 1  # B's page was fetched

    articles = {a["feed"]: a for a in [row.as_json() for row in article_rows(store)]}
    assert articles["Random Blog"]["canonical_url"] == spoof
    assert articles["Random Blog"]["claimed_canonical"] == real  # recorded, not used
    assert articles["Trusted Outlet"]["canonical_url"] == real
    assert articles["Trusted Outlet"]["claimed_canonical"] is None
    assert "Pyongyang" in articles["Trusted Outlet"]["text"]
    assert "Pyongyang" not in articles["Random Blog"]["text"]
    assert articles["Random Blog"]["story_id"] != articles["Trusted Outlet"]["story_id"]

    hits = hit_rows(store)
    assert hits and {h["url"] for h in hits} == {real}
    assert all([s["feed"] for s in h["sources"]] == ["Trusted Outlet"] for h in hits)
    digest = build("daily", "digest", "k", (None, clock.now), "UTC", hits)
    assert digest.stories and all(s.outlets == ("Trusted Outlet",) and s.url == real
                                  for s in digest.stories)


# --- backfill: a record that comes with its URL, and a bare saved file ----------------------


def test_import_with_a_url_keeps_it_when_the_canonical_is_elsewhere(store: Store,
                                                                     tmp_path: Path) -> None:
    page = article_html("Putin in Pyongyang", PARAGRAPHS,
                        canonical="https://outlet.example/news/real-story.html").decode()
    own = article_html("Zelensky asks for air defence", OTHER,
                       canonical="https://www.wire.example/kyiv").decode()
    (tmp_path / "crawl.jsonl").write_text("\n".join(json.dumps(o) for o in (
        {"url": "https://blog.example/spoof.html", "html": page},
        {"url": "https://m.wire.example/kyiv?ref=rss", "html": own})))
    watchlists = load_watchlists(ROOT / "watchlists")

    def now() -> datetime:
        return datetime(2026, 11, 25, 9, 0, tzinfo=UTC)

    report = import_files(store, watchlists, Options(source=tmp_path / "crawl.jsonl"), now)
    assert (report.new_articles, report.skipped) == (2, 0)
    urls = {a.canonical_url: a.claimed_canonical for a in article_rows(store)}
    assert urls == {"https://blog.example/spoof.html":
                    "https://outlet.example/news/real-story.html",
                    "https://wire.example/kyiv": None}
    again = import_files(store, watchlists, Options(source=tmp_path / "crawl.jsonl"), now)
    assert (again.new_articles, again.duplicates) == (0, 2)  # found by the URL it kept


def test_the_column_is_added_to_an_existing_database_in_place(db_url: str) -> None:
    from monitor.store.db import make_engine, upgrade

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as c:
            c.exec_driver_sql("INSERT INTO stories (id, title, first_seen, article_count) "
                              "VALUES (1, 'T', '2026-11-25 08:00:00', 1)")
            c.exec_driver_sql(
                "INSERT INTO articles (id, story_id, url, canonical_url, title, text_source, "
                "text, content_hash, signature, first_seen) VALUES (1, 1, 'https://a.example/1', "
                "'https://a.example/1', 'T', 'page', 'text', 'h', '', '2026-11-25 08:00:00')")
        upgrade(engine)
        assert "claimed_canonical" in {c["name"] for c in inspect(engine).get_columns("articles")}
    finally:
        engine.dispose()
    s = Store(db_url)
    try:
        assert [(a.canonical_url, a.claimed_canonical) for a in article_rows(s)] == \
            [("https://a.example/1", None)]
    finally:
        s.close()
