"""The whole path (feed -> page -> extract -> match -> dedupe -> store) against a real local
server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import Config, FeedConfig, FetchConfig
from monitor.ingest import Context, Summary, poll, sync_feeds
from monitor.store import Store
from monitor.store.queries import article_rows, feed_rows, hit_rows
from monitor.watchlist import load_watchlists
from tests.support import ROOT, Reply, Server, article_html, rss

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
PARAGRAPHS = [
    "Russian President Vladimir Putin arrived in Pyongyang early on Wednesday for his first "
    "visit to North Korea in 24 years, state media said.",
    "Putin and Kim Jong Un signed the Comprehensive Strategic Partnership Treaty, which "
    "includes a pledge of mutual assistance if either country is attacked.",
    "The United States and South Korea said the deal was a threat to peace on the peninsula "
    "and warned of further sanctions against both governments.",
    "From Pyongyang, the Russian leader flew on to Hanoi for talks with Vietnam's leaders.",
]
OTHER = [
    "Ukraine's President Volodymyr Zelensky asked European Union leaders for more air "
    "defence systems on Thursday as Russian strikes on the power grid continued.",
    "Officials in Brussels said a new package of aid would be agreed before the summit, "
    "although several capitals still had reservations about the cost of the plan.",
]


def config_for(db_url: str, feeds: list[str]) -> Config:
    return Config(database=db_url, watchlists=str(ROOT / "watchlists"),
                  fetch=FetchConfig(timeout=1.0, allow_private_addresses=True),
                  feeds=tuple(FeedConfig(url) for url in feeds))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def run(store: Store, config: Config, clock: Clock, *, all_feeds: bool = False) -> Summary:
    sync_feeds(store, config.feeds, clock())
    feeds = store.feeds() if all_feeds else store.due_feeds(clock())
    context = Context.create(config, store, load_watchlists(config.watchlists), clock)
    return asyncio.run(poll(context, feeds))


def feed_of(server: Server, path: str, items: list[tuple[str, str]]) -> None:
    server.routes[path] = Reply(200, rss([{"title": t, "link": server.url(p), "guid": p,
                                           "description": f"Summary of {t}"}
                                          for t, p in items]),
                                {"Content-Type": "application/rss+xml", "ETag": f'"{path}"'})


def one_article_feed(server: Server, delay: float = 0.0) -> None:
    """/feed with one item linking /a, a page about Putin in Pyongyang."""
    server.routes["/a"] = Reply(200, article_html("Putin in Pyongyang", PARAGRAPHS),
                                {"Content-Type": "text/html"}, delay=delay)
    feed_of(server, "/feed", [("Putin in Pyongyang", "/a")])


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_poll_stores_articles_stories_and_hits(server: Server, store: Store,
                                                 clock: Clock) -> None:
    server.routes["/a1"] = Reply(200, article_html("Putin visits Pyongyang", PARAGRAPHS))
    server.routes["/a2"] = Reply(200, article_html("Zelensky asks for air defence", OTHER))
    feed_of(server, "/world.rss", [("Putin visits Pyongyang", "/a1"),
                                   ("Zelensky asks for air defence", "/a2")])
    config = config_for(store.url, [server.url("/world.rss")])
    summary = run(store, config, clock)
    assert (summary.feeds_polled, summary.failed, summary.articles_new,
            summary.stories_new) == (1, 0, 2, 2)
    hits = hit_rows(store)
    entries = {h["entry"] for h in hits}
    assert {"putin", "kim-jong-un", "north-korea",
            "comprehensive-strategic-partnership-treaty", "zelensky", "ukraine"} <= entries
    assert summary.hits_new == len(hits)
    putin = next(h for h in hits if h["entry"] == "putin")
    assert putin["url"] == server.url("/a1") and "Vladimir Putin" in putin["snippet"]
    assert putin["sources"][0]["url"] == server.url("/a1")
    articles = [row.as_json() for row in article_rows(store)]
    assert {a["text_source"] for a in articles} == {"page"}
    assert all(a["language"] == "en" for a in articles)
    assert "Comentarios" not in articles[0]["text"]  # boilerplate left out by extraction

    # The next poll: the feed answers 304 to the stored ETag, and nothing is fetched again.
    server.routes["/world.rss"] = lambda r: (
        Reply(304) if r.headers.get("if-none-match") == '"/world.rss"' else Reply(500))
    clock.now += timedelta(hours=1)
    again = run(store, config, clock)
    assert (again.not_modified, again.articles_new) == (1, 0)
    assert server.hits("/a1") == 1


def test_unchanged_body_without_validators_costs_nothing(server: Server, store: Store,
                                                         clock: Clock) -> None:
    server.routes["/a1"] = Reply(200, article_html("Putin visits Pyongyang", PARAGRAPHS))
    body = rss([{"title": "Putin", "link": server.url("/a1"), "guid": "a1"}])
    server.routes["/f.rss"] = Reply(200, body)  # no ETag, no Last-Modified
    config = config_for(store.url, [server.url("/f.rss")])
    run(store, config, clock)
    clock.now += timedelta(hours=1)
    assert run(store, config, clock).not_modified == 1


def test_only_new_items_fetch_their_page(server: Server, store: Store, clock: Clock) -> None:
    server.routes["/a1"] = Reply(200, article_html("Putin visits Pyongyang", PARAGRAPHS))
    server.routes["/a2"] = Reply(200, article_html("Zelensky asks for air defence", OTHER))
    feed_of(server, "/f.rss", [("Putin", "/a1")])
    config = config_for(store.url, [server.url("/f.rss")])
    run(store, config, clock)
    feed_of(server, "/f.rss", [("Zelensky", "/a2"), ("Putin", "/a1")])
    server.routes["/f.rss"].headers.pop("ETag")  # type: ignore[union-attr]
    clock.now += timedelta(hours=1)
    assert run(store, config, clock).articles_new == 1
    assert server.hits("/a1") == 1 and server.hits("/a2") == 1


def test_the_same_story_from_three_feeds_is_one_story_one_hit_three_sources(
        server: Server, store: Store, clock: Clock) -> None:
    server.routes["/wire"] = Reply(200, article_html("Putin in Pyongyang", PARAGRAPHS))
    server.routes["/copy"] = Reply(200, article_html(
        "Russia's Putin visits North Korea", [*PARAGRAPHS[:3], PARAGRAPHS[3] + " Updated."]))
    server.routes["/amp/wire"] = Reply(200, b"never fetched")
    feed_of(server, "/one.rss", [("Putin in Pyongyang", "/wire")])
    feed_of(server, "/two.rss", [("Putin in Pyongyang", "/wire?utm_source=rss#top")])
    feed_of(server, "/three.rss", [("Russia's Putin visits North Korea", "/copy")])
    config = config_for(store.url, [server.url(p) for p in ("/one.rss", "/two.rss",
                                                            "/three.rss")])
    summary = run(store, config, clock)
    assert summary.stories_new == 1
    putin = [h for h in hit_rows(store) if h["entry"] == "putin"]
    assert len(putin) == 1
    assert len(putin[0]["sources"]) == 3
    assert server.hits("/wire") == 1  # the tracking-parameter copy was not fetched again


def test_feed_failures_are_recorded_and_backed_off(server: Server, store: Store,
                                                   clock: Clock) -> None:
    server.routes["/gone.rss"] = Reply(410)
    server.routes["/limited.rss"] = Reply(429, b"", {"Retry-After": "7200"})
    server.routes["/broken.rss"] = Reply(500)
    server.routes["/slow.rss"] = Reply(200, rss([]), delay=2.0)
    server.routes["/garbage.rss"] = Reply(200, b"\x00\x01 this is not XML at all <<<")
    server.routes["/huge.rss"] = Reply(200, b"<rss>" + b" " * 2_000_000)
    paths = ["/gone.rss", "/limited.rss", "/broken.rss", "/slow.rss", "/garbage.rss",
             "/huge.rss"]
    config = config_for(store.url, [server.url(p) for p in paths])
    config = Config(database=config.database, watchlists=config.watchlists, feeds=config.feeds,
                    fetch=FetchConfig(timeout=0.5, max_bytes=1_000_000,
                                      allow_private_addresses=True))
    summary = run(store, config, clock)
    assert summary.failed == 6 and summary.feeds_polled == 6
    rows = {r["url"].rsplit("/", 1)[1]: r for r in [row.as_json() for row in feed_rows(store)]}
    assert rows["gone.rss"]["state"] == "disabled" and "410" in rows["gone.rss"]["last_error"]
    assert rows["gone.rss"]["next_poll"] is None
    limited = rows["limited.rss"]
    assert limited["state"] == "failing" and limited["last_status"] == 429
    assert datetime.fromisoformat(limited["next_poll"]) >= NOW + timedelta(seconds=7200)
    assert rows["slow.rss"]["last_error"].startswith("timed out")
    assert "not a feed" in rows["garbage.rss"]["last_error"]
    assert "max_bytes" in rows["huge.rss"]["last_error"]
    for row in rows.values():
        assert row["error_count"] == 1
    # Back-off: a failing feed is not due again at its normal interval...
    broken = store.feed(server.url("/broken.rss"))
    assert broken is not None and broken.next_poll is not None
    clock.now = broken.next_poll + timedelta(seconds=1)
    second = run(store, config, clock)
    assert server.hits("/gone.rss") == 1  # disabled feeds are never polled again
    assert second.failed >= 1
    broken = store.feed(server.url("/broken.rss"))
    assert broken is not None and broken.error_count == 2
    # ...and its delay doubles (with at most 10% jitter)
    assert broken.next_poll is not None
    assert broken.next_poll - clock.now >= timedelta(minutes=30)


def test_a_301_updates_the_feed_url(server: Server, store: Store, clock: Clock) -> None:
    server.routes["/old.rss"] = Reply(301, b"", {"Location": "/new.rss"})
    server.routes["/new.rss"] = Reply(200, rss([]))
    config = config_for(store.url, [server.url("/old.rss")])
    run(store, config, clock)
    assert [f.url for f in store.feeds()] == [server.url("/new.rss")]


def test_a_recovered_malformed_feed_keeps_its_items(server: Server, store: Store,
                                                    clock: Clock) -> None:
    server.routes["/a1"] = Reply(200, article_html("Putin visits Pyongyang", PARAGRAPHS))
    body = rss([{"title": "Putin", "link": server.url("/a1"), "guid": "a1"}])
    server.routes["/bozo.rss"] = Reply(200, body.replace(b"</channel></rss>", b"<unclosed>"))
    config = config_for(store.url, [server.url("/bozo.rss")])
    summary = run(store, config, clock)
    assert summary.failed == 0 and summary.articles_new == 1
    row = feed_rows(store)[0].as_json()
    assert row["state"] == "active" and "malformed" in row["last_error"]


def test_a_page_that_fails_falls_back_to_the_feed_text(server: Server, store: Store,
                                                       clock: Clock) -> None:
    server.routes["/f.rss"] = Reply(200, rss([{
        "title": "Putin arrives in Hanoi", "link": server.url("/missing"), "guid": "x1",
        "description": "<p>Vladimir Putin arrived in <b>Vietnam</b> on Thursday.</p>"}]))
    server.routes["/thin"] = Reply(200, b"<html><body><p>Subscribe!</p></body></html>")
    config = config_for(store.url, [server.url("/f.rss")])
    summary = run(store, config, clock)
    assert summary.articles_new == 1 and summary.pages_failed == 1
    article = article_rows(store)[0].as_json()
    assert article["text_source"] == "feed"
    assert "Vladimir Putin arrived in Vietnam on Thursday." in article["text"]
    assert {"putin", "vietnam"} <= {h["entry"] for h in hit_rows(store)}


def test_full_text_off_uses_the_feed_only(server: Server, store: Store, clock: Clock) -> None:
    server.routes["/f.rss"] = Reply(200, rss([{
        "title": "Putin in Hanoi", "link": server.url("/a"), "guid": "x1",
        "description": "Vladimir Putin met To Lam."}]))
    config = config_for(store.url, [])
    config = Config(database=config.database, watchlists=config.watchlists, fetch=config.fetch,
                    feeds=(FeedConfig(server.url("/f.rss"), full_text=False),))
    run(store, config, clock)
    assert server.hits("/a") == 0
    assert article_rows(store)[0].as_json()["text_source"] == "feed"


def test_the_private_address_guard_is_on_by_default(server: Server, store: Store,
                                                    clock: Clock) -> None:
    server.routes["/f.rss"] = Reply(200, rss([]))
    config = Config(database=store.url, watchlists=str(ROOT / "watchlists"),
                    feeds=(FeedConfig(server.url("/f.rss")),))
    assert run(store, config, clock).failed == 1
    assert server.requests == []
    assert "private or local address" in feed_rows(store)[0].as_json()["last_error"]
