"""Managing feeds: one row per feed whatever its spelling, remove/pause/resume, and feeds
that leave the config (both databases)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.cli import main
from monitor.config import load_config
from monitor.feedurl import feed_url
from monitor.health import Metrics
from monitor.ingest import sync_feeds, utc_now
from monitor.store import Store
from monitor.store.db import make_engine, upgrade
from tests.support import ROOT, Reply, Server, article_html
from tests.test_pipeline import OTHER, PARAGRAPHS, feed_of


@pytest.mark.parametrize("given,stored", [
    ("HTTP://Host.Example:80/wire.xml#frag", "http://host.example/wire.xml"),
    ("https://host.example:443/a/b?format=rss&utm_source=x",
     "https://host.example/a/b?format=rss&utm_source=x"),  # the query is the feed's
    ("https://host.example:8443", "https://host.example:8443/"),
    ("  http://host.example/a%2fb?q=%c3%a9  ", "http://host.example/a%2Fb?q=%C3%A9"),
    ("http://User:Pass@Host.example/feed", "http://User:Pass@host.example/feed"),
    ("http://Bücher.example/rss", "http://xn--bcher-kva.example/rss"),
    ("http://[::1]:80/rss", "http://[::1]/rss"),
])
def test_feed_urls_are_normalised_without_changing_the_document(given: str,
                                                                 stored: str) -> None:
    assert feed_url(given) == stored
    assert feed_url(stored) == stored


def test_http_and_https_and_other_queries_are_other_feeds() -> None:
    assert feed_url("http://h.example/rss") != feed_url("https://h.example/rss")
    assert feed_url("http://h.example/rss?cat=1") != feed_url("http://h.example/rss?cat=2")


def write_config(path: Path, db_url: str, feeds: list[str]) -> str:
    listed = "".join(f'  - {{url: "{url}", interval: 30m}}\n' for url in feeds)
    path.write_text(f"database: {db_url}\nwatchlists: {ROOT / 'watchlists'}\n"
                    f"fetch: {{timeout: 2s, allow_private_addresses: true}}\n"
                    f"feeds:\n{listed or '  []'}\n")
    return str(path)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_feeds_add_another_spelling_is_the_same_feed(tmp_path: Path, db_url: str,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    config = write_config(tmp_path / "m.yaml", db_url, ["http://host.example/wire.xml"])
    assert cli(capsys, "-c", config, "feeds", "add", "http://other.example/rss")[0] == 0
    code, out, _ = cli(capsys, "-c", config, "feeds", "add", "HTTP://OTHER.example:80/rss#top")
    assert code == 0 and out.strip() == "feed 1 is already there: http://other.example/rss"
    # the config's spelling and a typed one meet too
    store = Store(db_url)
    sync_feeds(store, load_config(config).feeds, utc_now())
    store.close()
    code, out, _ = cli(capsys, "-c", config, "feeds", "add", "Http://Host.Example/wire.xml#x")
    assert out.strip() == "feed 2 is already there: http://host.example/wire.xml"
    code, out, _ = cli(capsys, "-c", config, "feeds", "list", "--json")
    assert [json.loads(line)["url"] for line in out.splitlines()] == [
        "http://other.example/rss", "http://host.example/wire.xml"]


def test_a_config_naming_one_feed_twice_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "m.yaml", f"sqlite:///{tmp_path}/m.db",
                          ["http://h.example/rss", "HTTP://h.example:80/rss#latest"])
    code, _, err = cli(capsys, "-c", config, "feeds", "list")
    assert code == 2 and f"{config}:6" in err and "the same feed as feeds[0]" in err


def test_the_migration_merges_copies_of_a_feed_keeping_articles_and_items(db_url: str
                                                                          ) -> None:
    """A database from before feeds were normalised may hold copies: the oldest row takes
    the copies' articles and items, the copies go, URLs are stored normalised."""
    engine = make_engine(db_url)
    upgrade(engine, "0004")
    now = "2026-11-25 08:00:00"
    with engine.begin() as c:
        def insert(sql: str, **values: object) -> None:
            c.execute(text(sql), values)

        for feed_id, url in ((1, "http://host.example/wire.xml"), (2, "http://b.example/rss"),
                             (3, "HTTP://host.example:80/wire.xml#frag"),
                             (4, "HTTPS://B.example/rss")):
            insert("INSERT INTO feeds (id, url, interval, full_text, tags, state, error_count,"
                   " created) VALUES (:id, :url, 900, true, '', 'active', 0, :now)",
                   id=feed_id, url=url, now=now)
        insert("INSERT INTO stories (id, title, first_seen, article_count) "
               "VALUES (1, 't', :now, 2)", now=now)
        for article_id, feed_id in ((1, 1), (2, 3)):
            insert("INSERT INTO articles (id, story_id, feed_id, url, canonical_url, "
                   "text_source, text, content_hash, signature, first_seen) VALUES "
                   "(:id, 1, :feed, :url, :url, 'feed', 'x', 'h', :sig, :now)",
                   id=article_id, feed=feed_id, url=f"http://a.example/{article_id}",
                   sig=b"\0", now=now)
        for feed_id, key, article_id in ((1, "k1", 1), (3, "k1", 1), (3, "k2", 2)):
            insert("INSERT INTO items (feed_id, key, article_id, first_seen) "
                   "VALUES (:feed, :key, :article, :now)",
                   feed=feed_id, key=key, article=article_id, now=now)
    upgrade(engine)
    with engine.connect() as c:
        feeds = c.execute(text("SELECT id, url, origin, polling FROM feeds ORDER BY id")).all()
        articles = c.execute(text("SELECT id, feed_id FROM articles ORDER BY id")).all()
        items = c.execute(text("SELECT feed_id, key, article_id FROM items ORDER BY key")).all()
    engine.dispose()
    assert [tuple(f) for f in feeds] == [(1, "http://host.example/wire.xml", "cli", "on"),
                                         (2, "http://b.example/rss", "cli", "on"),
                                         (4, "https://b.example/rss", "cli", "on")]
    assert [tuple(a) for a in articles] == [(1, 1), (2, 1)]
    assert [tuple(i) for i in items] == [(1, "k1", 1), (1, "k2", 2)]


@pytest.fixture
def two_feeds(server: Server) -> tuple[str, str]:
    server.routes["/a"] = Reply(200, article_html("Putin in Pyongyang", PARAGRAPHS))
    server.routes["/b"] = Reply(200, article_html("Air defence for Kyiv", OTHER))
    feed_of(server, "/config.rss", [("Putin in Pyongyang", "/a")])
    feed_of(server, "/byhand.rss", [("Air defence for Kyiv", "/b")])
    return server.url("/config.rss"), server.url("/byhand.rss")


def listing(capsys: pytest.CaptureFixture[str], config: str, *extra: str
            ) -> dict[str, dict[str, object]]:
    code, out, _ = cli(capsys, "-c", config, "feeds", "list", "--json", *extra)
    assert code == 0
    return {row["url"]: row for row in map(json.loads, out.splitlines())}


def test_remove_pause_and_resume(tmp_path: Path, db_url: str, server: Server,
                                 two_feeds: tuple[str, str],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    in_config, by_hand = two_feeds
    config = write_config(tmp_path / "m.yaml", db_url, [in_config])
    assert cli(capsys, "-c", config, "feeds", "add", by_hand)[0] == 0
    code, out, _ = cli(capsys, "-c", config, "poll", "--once")
    assert code == 0 and "feeds polled 2" in out and "articles new 2" in out
    feeds = listing(capsys, config)
    assert feeds[in_config]["origin"] == "config" and feeds[by_hand]["origin"] == "cli"
    hand_id = str(feeds[by_hand]["feed_id"])

    code, out, _ = cli(capsys, "-c", config, "feeds", "pause", by_hand)
    assert code == 0 and f"paused feed {hand_id}" in out
    assert listing(capsys, config)[by_hand]["state"] == "paused"
    assert "1 paused" in cli(capsys, "-c", config, "status")[1]
    assert "feeds polled 1," in cli(capsys, "-c", config, "poll", "--once", "--all")[1]
    assert cli(capsys, "-c", config, "feeds", "resume", hand_id)[0] == 0
    assert listing(capsys, config)[by_hand]["state"] == "active"
    assert "feeds polled 1," in cli(capsys, "-c", config, "poll", "--once")[1]  # due at once

    # Removing: its articles (and their hits) stay, it is not polled, listed or exported.
    code, out, _ = cli(capsys, "-c", config, "feeds", "remove", hand_id)
    assert code == 0 and f"removed feed {hand_id}" in out and "articles and hits stay" in out
    assert by_hand not in listing(capsys, config)
    assert listing(capsys, config, "--all")[by_hand]["state"] == "removed"
    assert "feeds polled 1," in cli(capsys, "-c", config, "poll", "--once", "--all")[1]
    assert by_hand not in cli(capsys, "-c", config, "feeds", "export")[1]
    code, _, err = cli(capsys, "-c", config, "poll", "--once", "--feed", hand_id)
    assert code == 2 and "was removed" in err
    code, out, _ = cli(capsys, "-c", config, "articles", "--json")
    assert {json.loads(line)["url"] for line in out.splitlines()} == {
        server.url("/a"), server.url("/b")}

    # The config's feed: the config wins over `feeds remove`; a pause sticks.
    code, _, err = cli(capsys, "-c", config, "feeds", "remove", in_config)
    assert code == 2 and "is listed in" in err and "feeds[0]" in err
    assert cli(capsys, "-c", config, "feeds", "pause", in_config)[0] == 0
    assert "feeds polled 0," in cli(capsys, "-c", config, "poll", "--once", "--all")[1]
    assert listing(capsys, config)[in_config]["state"] == "paused"
    code, _, err = cli(capsys, "-c", config, "feeds", "pause", "nope")
    assert code == 2 and "no feed 'nope'" in err
    store = Store(db_url)  # /metrics: the paused feed, not the removed one
    metrics = Metrics(store).render().decode()
    store.close()
    assert 'monitor_feeds{state="paused"} 1.0' in metrics
    assert 'monitor_feeds{state="active"} 0.0' in metrics


def test_a_feed_taken_out_of_the_config_stops_being_polled(tmp_path: Path, db_url: str,
                                                           server: Server,
                                                           two_feeds: tuple[str, str],
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    in_config, by_hand = two_feeds
    config = write_config(tmp_path / "m.yaml", db_url, [in_config])
    cli(capsys, "-c", config, "feeds", "add", by_hand)
    cli(capsys, "-c", config, "poll", "--once")
    hits = cli(capsys, "-c", config, "hits", "--json")[1].splitlines()
    write_config(tmp_path / "m.yaml", db_url, [])  # the next start: the feed is gone
    code, out, _ = cli(capsys, "-c", config, "poll", "--once", "--all")
    assert code == 0 and "feeds polled 1," in out  # the one added by hand stays
    assert server.hits("/config.rss") == 1
    feeds = listing(capsys, config, "--all")
    assert feeds[in_config]["state"] == "removed" and feeds[by_hand]["state"] == "active"
    assert cli(capsys, "-c", config, "hits", "--json")[1].splitlines() == hits
    # Listed again: polled again.
    write_config(tmp_path / "m.yaml", db_url, [in_config])
    assert "feeds polled 2," in cli(capsys, "-c", config, "poll", "--once", "--all")[1]
    assert listing(capsys, config)[in_config]["state"] == "active"


def test_feeds_import_names_each_outline_it_skips(tmp_path: Path, db_url: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path / "m.yaml", db_url, [])
    opml = tmp_path / "in.opml"
    opml.write_text('<opml version="2.0"><body>\n'
                    '<outline text="A" xmlUrl="https://a.example/rss"/>\n'
                    '<outline text="B" xmlUrl="javascript:alert(1)"/>\n'
                    '<outline text="C" xmlUrl="file:///etc/passwd"/>\n'
                    '<outline text="D"/>\n'
                    '<outline text="A again" xmlUrl="HTTPS://a.example/rss#x"/>\n'
                    "</body></opml>\n")
    code, out, err = cli(capsys, "-c", config, "feeds", "import", str(opml))
    assert code == 0
    assert out.strip() == f"{opml}: 2 feeds, 1 new, 3 outlines skipped"
    assert err.splitlines() == [
        f"{opml}:3: outline 'B' skipped: 'javascript:alert(1)' is not an http:// or https:// "
        "URL",
        f"{opml}:4: outline 'C' skipped: 'file:///etc/passwd' is not an http:// or https:// URL",
        f"{opml}:5: outline 'D' skipped: no feed URL (xmlUrl)"]
    assert list(listing(capsys, config)) == ["https://a.example/rss"]
