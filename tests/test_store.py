"""Storage on SQLite and PostgreSQL: migrations, one transaction per article, stories."""

from __future__ import annotations

import subprocess
import sys
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect

from monitor.dedupe import fingerprint
from monitor.store import (
    DatabaseError,
    NewArticle,
    NewHit,
    Store,
    compress_page,
    decompress_page,
)

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
WIRE = ("Russian President Vladimir Putin arrived in Pyongyang on Wednesday for his first "
        "visit to North Korea in 24 years, where he and Kim Jong Un signed a comprehensive "
        "strategic partnership treaty that includes a pledge of mutual assistance if either "
        "country is attacked, state media in both countries reported later in the day. ") * 3


def new(url: str, text: str = WIRE, feed_id: int | None = None, key: str | None = None,
        hits: list[NewHit] | None = None) -> NewArticle:
    return NewArticle(
        feed_id=feed_id, item_key=key, item_url=url, url=url, canonical_url=url,
        title="Putin in Pyongyang", author=None, published=NOW, language="en",
        text_source="page", text=text, fingerprint=fingerprint(text), hits=hits or [],
        page=b"<html>page</html>", content_type="text/html")


def hit(entry: str = "putin", *, ambiguous: bool = False) -> NewHit:
    return NewHit(watchlist="w", entry=entry, kind="actor", name="Vladimir Putin",
                  matched="Vladimir Putin", alias="Vladimir Putin", score=100.0, start=18,
                  end=32, snippet="Russian President Vladimir Putin arrived.",
                  priority="normal", entry_version="abc", ambiguous=ambiguous)


def test_migrations_create_the_schema_and_are_idempotent(db_url: str) -> None:
    store = Store(db_url)
    Store(db_url).close()  # upgrading again is harmless (every start does it)
    tables = set(inspect(store.engine).get_table_names())
    assert {"feeds", "articles", "stories", "items", "bands", "pages", "hits",
            "alembic_version"} <= tables
    store.close()


def test_without_migrations_the_store_says_what_to_run(tmp_path: object) -> None:
    from monitor.store import StoreError

    with pytest.raises(StoreError, match="monitor db upgrade"):
        Store(f"sqlite:///{tmp_path}/empty.db", migrate=False)


def test_sqlite_is_in_wal_mode(tmp_path: object) -> None:
    store = Store(f"sqlite:///{tmp_path}/m.db")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


def test_an_article_and_its_story_hits_and_page(store: Store) -> None:
    feed, added = store.add_feed("http://f.example/rss", NOW)
    assert added
    stored = store.add_article(new("http://a.example/1", feed_id=feed.id, key="guid:1",
                                   hits=[hit()]), NOW)
    assert stored.new_story and stored.new_hits == 1 and not stored.duplicate
    assert store.page(stored.article_id) == b"<html>page</html>"
    assert store.unseen(feed.id, ["guid:1", "guid:2"]) == {"guid:2"}
    assert store.counts().as_json() == {"feeds": 1, "articles": 1, "stories": 1, "hits": 1,
                                        "items": 1}


def test_the_same_story_from_three_outlets_is_one_story_and_one_hit(store: Store) -> None:
    first = store.add_article(new("http://a.example/1", hits=[hit()]), NOW)
    edited = WIRE.replace("later in the day", "on Thursday") + " Updated with reaction."
    second = store.add_article(new("http://b.example/2", edited, hits=[hit()]), NOW)
    third = store.add_article(new("http://c.example/3", WIRE.upper(), hits=[hit(), hit("kim")]),
                              NOW)
    assert second.story_id == first.story_id == third.story_id
    assert not second.new_story and second.new_hits == 0
    assert third.new_hits == 1  # kim is new to the story; putin is not
    assert store.counts().hits == 2


def test_a_different_article_about_the_same_event_is_another_story(store: Store) -> None:
    first = store.add_article(new("http://a.example/1"), NOW)
    other = ("Vietnam's leaders welcomed Vladimir Putin in Hanoi on Thursday, a day after his "
             "trip to North Korea, and the two sides signed agreements on energy, education "
             "and science while Washington criticised the visit as a reward for the war. ") * 3
    second = store.add_article(new("http://b.example/2", other), NOW)
    assert second.new_story and second.story_id != first.story_id


def test_a_known_url_is_a_duplicate_not_a_new_article(store: Store) -> None:
    feed, _ = store.add_feed("http://f.example/rss", NOW)
    store.add_article(new("http://a.example/1"), NOW)
    again = store.add_article(new("http://a.example/1", feed_id=feed.id, key="guid:9"), NOW)
    assert again.duplicate
    assert store.counts().articles == 1
    assert store.unseen(feed.id, ["guid:9"]) == set()


def test_a_failed_write_leaves_nothing_behind(store: Store) -> None:
    # the last write of the transaction fails (a hit without its snippet: NOT NULL)
    bad = new("http://a.example/1", hits=[replace(hit(), snippet=None)])  # type: ignore[arg-type]
    with pytest.raises(DatabaseError):
        store.add_article(bad, NOW)
    assert store.counts().as_json() == {"feeds": 0, "articles": 0, "stories": 0, "hits": 0,
                                        "items": 0}


def test_datetimes_come_back_aware_utc(store: Store) -> None:
    feed, _ = store.add_feed("http://f.example/rss", NOW)
    assert store.feeds()[0].next_poll == NOW
    assert store.due_feeds(NOW)[0].id == feed.id
    store.update_feed(feed.id, state="disabled")
    assert store.due_feeds(NOW) == []


def test_old_pages_are_pruned(store: Store) -> None:
    stored = store.add_article(new("http://a.example/1"), NOW)
    assert store.prune_pages(NOW) == 0
    assert store.prune_pages(datetime(2027, 1, 1, tzinfo=UTC)) == 1
    assert store.page(stored.article_id) is None


def test_kept_pages_are_compressed_and_read_back() -> None:
    page = b"<html>" + b"<p>Putin in Pyongyang</p>" * 2000 + b"</html>"
    packed = compress_page(page)
    assert len(packed) < len(page) / 20
    assert decompress_page(packed) == page
    assert decompress_page(zlib.compress(page)) == page  # pages kept before zstd


def test_feed_states_are_written_in_one_batch(store: Store) -> None:
    a, _ = store.add_feed("http://f.example/a", NOW)
    b, _ = store.add_feed("http://f.example/b", NOW)
    store.update_feeds([
        (a.id, {"state": "failing", "error_count": 2, "last_error": "timed out"}),
        (b.id, {"state": "active", "etag": '"x"'}),
        (b.id, {"url": "http://f.example/a"}),  # moved onto a's URL: b keeps its own
    ])
    feeds = {f.id: f for f in store.feeds()}
    assert (feeds[a.id].state, feeds[a.id].error_count, feeds[a.id].last_error) == \
        ("failing", 2, "timed out")
    assert (feeds[b.id].state, feeds[b.id].etag, feeds[b.id].url) == \
        ("active", '"x"', "http://f.example/b")


def test_the_migrations_build_exactly_the_models_schema(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from monitor.store.models import Base
    from monitor.store.search import outside_models

    s = Store(db_url)
    try:
        with s.engine.connect() as connection:
            # the full-text index (monitor.store.search) is made by SQL, not by the models
            context = MigrationContext.configure(connection,
                                                 opts={"include_name": outside_models})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        s.close()


def test_processes_starting_together_on_a_new_sqlite_file_all_migrate_it(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code = ("import sys; from monitor.store import Store; "
            "Store(sys.argv[1]).close(); print('ok')")
    processes = [subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(6)]
    results = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0] * 6, [err for _, err in results]
    assert Store(url).counts().feeds == 0


def test_connections_opening_a_new_sqlite_file_together_all_switch_it_to_wal(
        tmp_path: Path) -> None:
    # Connections converting a new file at the same moment: SQLite answers one of them
    # "database is locked" at once (deadlock avoidance, no busy handler); about one round in
    # ten here without the engine's retry.
    import threading

    from monitor.store.db import make_engine

    failures: list[str] = []

    def connect(url: str, start: threading.Barrier) -> None:
        engine = make_engine(url)
        start.wait()
        try:
            with engine.connect() as connection:
                mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
                if mode != "wal":
                    failures.append(f"{url}: {mode}")
        except Exception as exc:
            failures.append(f"{url}: {exc}")
        finally:
            engine.dispose()

    for round_ in range(60):
        url = f"sqlite:///{tmp_path / f'new{round_}.db'}"
        start = threading.Barrier(4)
        threads = [threading.Thread(target=connect, args=(url, start)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


def test_an_older_schema_is_upgraded_keeping_its_rows(db_url: str) -> None:
    from monitor.store.db import make_engine, upgrade

    engine = make_engine(db_url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as c:
            c.exec_driver_sql(
                "INSERT INTO feeds (url, interval, full_text, tags, state, error_count, "
                "created) VALUES ('http://f.example/rss', 900, true, '', 'active', 0, "
                "'2026-11-25 08:00:00')")
        upgrade(engine)
        assert {"found_by", "notify"} <= {c["name"] for c in inspect(engine).get_columns("hits")}
    finally:
        engine.dispose()
    s = Store(db_url)
    assert [f.url for f in s.feeds()] == ["http://f.example/rss"]
    s.close()
