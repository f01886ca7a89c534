"""Faults: misbehaving feed and page servers and hostile feed documents, against a real local
server on SQLite and PostgreSQL.  Each test ends with the store checked (assert_consistent):
nothing lost, nothing duplicated, nothing half-written, and the bad feed's problem on its row.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config import Config, FeedConfig
from monitor.store import Store
from monitor.store.queries import article_rows, feed_rows, hit_rows
from tests.support import Reply, Server, article_html, assert_consistent, free_port, rss
from tests.test_pipeline import PARAGRAPHS, Clock, config_for, one_article_feed, run


@pytest.fixture
def clock() -> Clock:
    return Clock()


PUTIN = "Vladimir Putin arrived in Pyongyang for talks with Kim Jong Un."


def endless() -> Iterator[bytes]:
    for _ in range(32_768):  # 2 GB if it were read to the end
        yield b"<" * 65536


def trickle() -> Iterator[bytes]:
    for _ in range(100):
        yield b"x"
        time.sleep(0.1)


def cut_short() -> Iterator[bytes]:
    yield b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'


BOMB = gzip.compress(b"\0" * 5_000_000)
GOOD_RSS = rss([{"title": "Putin in Pyongyang", "link": "http://127.0.0.1:9/x",
                 "guid": "g1", "description": PUTIN}])


def row_by_url(store: Store) -> dict[str, dict[str, object]]:
    rows = [feed.as_json() for feed in feed_rows(store)]
    return {str(r["url"]).rsplit("/", 1)[-1]: r for r in rows}


def with_feeds(config: Config, feeds: list[FeedConfig]) -> Config:
    return replace(config, feeds=tuple(feeds))


def test_misbehaving_feed_servers_are_recorded_and_cost_nothing_else(
        server: Server, store: Store, clock: Clock) -> None:
    one_article_feed(server)  # /feed: the one good feed, whose article must come through
    routes: dict[str, Reply] = {
        "reset": Reply(200, cut_short(), {"Content-Length": "100000"}),
        "trickle": Reply(200, trickle()),
        "500": Reply(500, b"oops"), "502": Reply(502, b""),
        "503": Reply(503, b"", {"Retry-After": "3600"}),
        "404": Reply(404, b"gone?"), "410": Reply(410, b"gone"),
        "loop": Reply(302, b"", {"Location": "/loop"}),
        "huge": Reply(200, endless()),
        "bomb": Reply(200, BOMB, {"Content-Encoding": "gzip"}),
        "empty": Reply(200, b""),
        "html": Reply(200, b"<html><body>Not a feed at all</body></html>",
                      {"Content-Type": "text/html"}),
    }
    for name, reply in routes.items():
        server.routes[f"/{name}"] = reply
    server.routes["/wrong-type"] = Reply(200, GOOD_RSS, {"Content-Type": "image/png"})
    server.routes["/no-type"] = Reply(200, GOOD_RSS.replace(b"g1", b"g2"))
    urls = [server.url("/feed"), server.url("/wrong-type"), server.url("/no-type"),
            f"http://127.0.0.1:{free_port()}/refused", "http://no-such-host.invalid/dns"]
    urls += [server.url(f"/{name}") for name in routes]
    config = config_for(store.url, urls)
    config = replace(config, fetch=replace(config.fetch, max_bytes=1_000_000))
    summary = run(store, config, clock)  # the trickle and the 2 GB body each cost a deadline
    rows = row_by_url(store)
    failing = {"refused", "dns", *routes}
    assert summary.failed == len(failing)
    for name in failing:
        assert rows[name]["error_count"] == 1 and rows[name]["last_error"], name
        assert rows[name]["state"] == ("disabled" if name == "410" else "failing"), name
    for name in ("feed", "wrong-type", "no-type"):
        assert rows[name]["state"] == "active" and rows[name]["error_count"] == 0, name
    errors = {name: str(rows[name]["last_error"]) for name in failing}
    assert "cannot resolve no-such-host.invalid" in errors["dns"]
    assert errors["trickle"] == "timed out after 1s"
    assert "max_bytes" in errors["huge"] and "max_bytes" in errors["bomb"]
    assert "redirects" in errors["loop"] and errors["500"] == "HTTP 500"
    assert errors["empty"].startswith("not a feed") and errors["html"].startswith("not a feed")
    assert "ConnectError" in errors["refused"] and "RemoteProtocolError" in errors["reset"]
    counts = assert_consistent(store)
    # /feed's page, and the one item both mislabelled feeds carry (one article, two sources)
    assert (counts.articles, counts.items) == (2, 3)
    assert {h["entry"] for h in hit_rows(store)} >= {"putin", "pyongyang", "north-korea"}


def test_misbehaving_pages_fall_back_to_the_feed_text(
        server: Server, store: Store, clock: Clock) -> None:
    lying = ('<html><head><title>Tô Lâm meets Putin</title></head><body><article>'
             '<h1>Tô Lâm meets Putin</h1>' + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
             + "<p>In Hà Nội, Tô Lâm welcomed the Russian leader.</p></article></body></html>")
    pages: dict[str, Reply] = {
        "p500": Reply(500, b"oops"), "reset": Reply(200, cut_short(), {"Content-Length": "9999"}),
        "huge": Reply(200, endless(), {"Content-Type": "text/html"}),
        "bomb": Reply(200, BOMB, {"Content-Encoding": "gzip", "Content-Type": "text/html"}),
        "empty": Reply(200, b"", {"Content-Type": "text/html"}),
        "binary": Reply(200, bytes(range(256)) * 64, {"Content-Type": "image/png"}),
        "loop": Reply(302, b"", {"Location": "/loop"}),
        "slow": Reply(200, article_html("late", PARAGRAPHS), delay=3),
        "lying": Reply(200, lying.encode(), {"Content-Type": "text/html; charset=iso-8859-1"}),
    }
    items = []
    for name, reply in pages.items():
        server.routes[f"/{name}"] = reply
        items.append({"title": f"Report {name}", "link": server.url(f"/{name}"),
                      "guid": name, "description": f"{name}: {PUTIN}"})
    server.routes["/pages.rss"] = Reply(200, rss(items))
    config = config_for(store.url, [server.url("/pages.rss")])
    config = replace(config, fetch=replace(config.fetch, max_bytes=1_000_000))
    summary = run(store, config, clock)
    assert summary.failed == 0 and summary.articles_new == len(pages)
    # All but the empty page (a 200 with nothing to extract) and the lying one.
    assert summary.pages_failed == len(pages) - 2
    assert any("not a web page (image/png)" in error for error in summary.errors)
    articles = {a["title"]: a for a in [row.as_json() for row in article_rows(store)]}
    assert all(f"Report {name}" in articles for name in pages if name != "lying")
    lied = articles["Tô Lâm meets Putin"]  # read as UTF-8, whatever the header said
    assert "In Hà Nội, Tô Lâm welcomed" in str(lied["text"])
    assert any(h["entry"] == "to-lam" and h["matched"] == "Tô Lâm" for h in hit_rows(store))
    assert assert_consistent(store).articles == len(pages)


def test_hostile_feed_documents(server: Server, store: Store, clock: Clock,
                                tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-FILE-CONTENT")
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    server.routes["/laughs"] = Reply(200, (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{laughs}]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&l9;</title>'
        '<link>/x</link></item></channel></rss>').encode())
    server.routes["/xxe"] = Reply(200, (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>Putin &x;</title>'
        f'<description>{PUTIN} &x;</description><guid>xxe</guid></item></channel></rss>'
    ).encode())
    many = "".join(f"<item><title>Item {i}</title><guid>m{i}</guid><description>{PUTIN}"
                   f"</description></item>" for i in range(50_000))
    server.routes["/many"] = Reply(200, (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title>'
        f"{many}</channel></rss>").encode())
    server.routes["/rel/page"] = Reply(200, article_html("Relative", PARAGRAPHS))
    server.routes["/odd"] = Reply(200, rss([
        {"title": "Same guid, first", "guid": "dup", "description": PUTIN},
        {"title": "Same guid, second", "guid": "dup", "description": PUTIN + " Again."},
        {"title": "No link, no date", "guid": "bare", "description": "Kim Jong Un spoke."},
        {"title": "From the future", "guid": "future", "pubDate": "Sat, 01 Jan 2999 00:00:00 GMT",
         "description": "Sanctions on Russia were discussed."},
        {"title": "Relative link", "guid": "rel", "link": "rel/page"},
        {"title": "<script>alert(1)</script><b>Lavrov</b> &amp; Choe <img src=x onerror=y>",
         "guid": "script", "description": "Lavrov met Choe Son Hui in Pyongyang."},
        {"title": "Bad link", "guid": "js", "link": "javascript:alert(1)",
         "description": "Zelensky asked for air defence."},
    ]))
    config = config_for(store.url, [])
    feeds = [FeedConfig(server.url(p), full_text=p != "/many")
             for p in ("/laughs", "/xxe", "/many", "/odd")]
    config = with_feeds(config, feeds)
    # (7.5 MB of /many take more than the suite's 1 s fetch timeout on a loaded machine.)
    config = replace(config, fetch=replace(config.fetch, max_items=100, timeout=10.0))
    run(store, config, clock)
    rows = row_by_url(store)
    assert str(rows["laughs"]["last_error"]).startswith("malformed")  # and nothing expanded
    assert "the feed lists 50,000 items; only the first 100 are read" in str(
        rows["many"]["last_error"])
    articles = [row.as_json() for row in article_rows(store)]
    assert not any("TOPSECRET" in str(a) for a in articles)
    assert max(len(str(a["title"])) + len(str(a["text"])) for a in articles) < 10_000
    assert sum(1 for a in articles if str(a["title"]).startswith("Item ")) == 100
    odd = {str(a["title"]): a for a in articles if not str(a["title"]).startswith("Item ")}
    assert "Same guid, first" in odd and "Same guid, second" not in odd
    assert odd["No link, no date"]["published"] is None
    assert odd["From the future"]["published"] == clock().isoformat().replace("+00:00", "Z")
    assert server.hits("/rel/page") == 1 and "Relative" in odd
    assert "Lavrov & Choe" in odd
    assert not any("<" in title or "alert" in title for title in odd)
    assert not any(str(a["url"]).startswith("javascript") for a in articles)
    assert {"lavrov", "choe-son-hui", "zelensky", "kim-jong-un", "sanctions"} <= {
        h["entry"] for h in hit_rows(store)}
    assert assert_consistent(store).articles == len(articles)


def test_a_feed_failing_again_backs_off_and_keeps_what_it_stored(
        server: Server, store: Store, clock: Clock) -> None:
    one_article_feed(server)
    config = config_for(store.url, [server.url("/feed")])
    run(store, config, clock)
    before = assert_consistent(store)
    server.routes["/feed"] = Reply(502, b"bad gateway")
    waits = []
    for step in range(3):
        clock.now = datetime(2026, 11, 26 + step, 8, 0, tzinfo=UTC)
        run(store, config, clock, all_feeds=True)
        row = feed_rows(store)[0].as_json()
        waits.append(datetime.fromisoformat(str(row["next_poll"])) - clock.now)
    assert row["state"] == "failing" and row["error_count"] == 3
    assert waits[0] < waits[1] < waits[2]  # backing off
    assert assert_consistent(store) == before  # what the feed brought before is all there


def test_a_bug_one_feed_triggers_is_that_feeds_failure(
        server: Server, store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.sources.rss

    one_article_feed(server)
    server.routes["/poison"] = Reply(200, GOOD_RSS)
    real = monitor.sources.rss.parse_feed

    def parse(body: bytes, url: str = "", *args: object, **kwargs: object) -> object:
        if url.endswith("/poison"):
            raise RecursionError("maximum recursion depth exceeded")
        return real(body, url, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(monitor.sources.rss, "parse_feed", parse)
    summary = run(store, config_for(store.url, [server.url("/feed"), server.url("/poison")]),
                  clock)
    assert summary.failed == 1 and summary.articles_new == 1
    rows = row_by_url(store)
    assert rows["poison"]["state"] == "failing"
    assert rows["poison"]["last_error"] == "unexpected RecursionError: maximum recursion depth " \
        "exceeded"
    assert assert_consistent(store).articles == 1


# --- the database misbehaving -----------------------------------------------------------------


def many_feeds(server: Server, feeds: int, items: int, delay: float = 0.0) -> list[str]:
    for f in range(feeds):
        entries = []
        for i in range(items):
            server.routes[f"/p{f}-{i}"] = Reply(200, article_html(
                f"Report {f}-{i}", [f"Dispatch {f}-{i}: " + " ".join(PARAGRAPHS)]),
                {"Content-Type": "text/html"}, delay=delay)
            entries.append({"title": f"Report {f}-{i}", "link": server.url(f"/p{f}-{i}"),
                            "guid": f"p{f}-{i}", "description": PUTIN})
        server.routes[f"/f{f}"] = Reply(200, rss(entries))
    return [server.url(f"/f{f}") for f in range(feeds)]


def test_sqlite_busy_fails_the_cycle_and_the_next_one_catches_up(
        server: Server, tmp_path: Path, clock: Clock) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from monitor.ingest import sync_feeds

    path = tmp_path / "monitor.db"
    store = Store(f"sqlite:///{path}?timeout=0.3")
    try:
        config = config_for(store.url, many_feeds(server, 3, 2))
        sync_feeds(store, config.feeds, clock())
        # Another process holds the write lock for longer than the busy timeout.
        blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(OperationalError, match="locked"):
            run(store, config, clock)
        blocker.execute("ROLLBACK")
        # A lock held for less than the busy timeout only makes the writer wait.
        blocker.execute("BEGIN EXCLUSIVE")
        threading.Timer(0.1, blocker.execute, ("ROLLBACK",)).start()
        summary = run(store, config, clock)  # the same feeds: still due, nothing was lost
        assert summary.articles_new == 6 and summary.failed == 0
        assert assert_consistent(store).articles == 6
        blocker.close()
    finally:
        store.close()


def test_postgresql_restarting_mid_cycle_loses_nothing(server: Server, clock: Clock) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.ingest import sync_feeds
    from monitor.scheduler import Daemon
    from monitor.watchlist import load_watchlists
    from tests.support import Proxy, postgres_or_skip

    url = postgres_or_skip()
    proxy = Proxy(("127.0.0.1", 5432))
    store = Store(url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
    try:
        config = replace(config_for(store.url, many_feeds(server, 6, 3, delay=0.1)),
                         digests=())
        daemon = Daemon(config, store, load_watchlists(config.watchlists), clock)
        sync_feeds(store, config.feeds, clock())
        failed: list[BaseException] = []

        def first_cycle() -> None:
            try:
                daemon.poll()
            except SQLAlchemyError as exc:
                failed.append(exc)

        worker = threading.Thread(target=first_cycle)
        worker.start()
        deadline = time.monotonic() + 30
        while sum(r.path.startswith("/p") for r in server.requests) < 6:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proxy.stop()  # PostgreSQL restarts: every connection dropped, none accepted
        time.sleep(0.3)
        proxy.start()
        worker.join(60)
        assert failed, "the cycle should have failed while the database was away"
        summary = daemon.poll()  # reconnects (pool pre-ping) and claims what was left
        assert summary.failed == 0
        counts = assert_consistent(store)
        assert (counts.articles, counts.items) == (18, 18)
    finally:
        store.close()
        proxy.stop()
