"""Daily counts kept by the store (store/trends.py), on SQLite and PostgreSQL: events and
articles per entry and day, never counted twice by re-matching, backfill or replicas, on the
days of the configured timezone (DST included)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from monitor.dedupe import fingerprint
from monitor.store import DatabaseError, NewArticle, NewHit, Store
from monitor.store.models import Hit
from monitor.store.trends import TrendDay, TrendKey, entry_counts, recount

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
WORDS = ["harbour", "grain", "convoy", "missile", "treaty", "summit", "border", "pipeline",
         "election", "court", "tariff", "drone", "satellite", "refinery", "protest"]


def text_of(seed: int) -> str:
    """A story's text of its own: no two seeds make texts alike enough to share a story."""
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) + str(rng.randrange(10**6)) for _ in range(120))


def hit(entry: str = "shoigu", **extra: Any) -> NewHit:
    return NewHit(**{"watchlist": "w", "entry": entry, "kind": "person", "name": entry.title(),
                     "matched": entry, "alias": entry, "score": 100.0, "start": 0, "end": 5,
                     "snippet": "...", "priority": "normal", "entry_version": "v1", **extra})


def article(url: str, seed: int, published: datetime | None = NOW,
            hits: list[dict[str, Any]] | None = None) -> NewArticle:
    text = text_of(seed)
    return NewArticle(
        feed_id=None, item_key=None, item_url=url, url=url, canonical_url=url, title=url,
        author=None, published=published, language="en", text_source="page", text=text,
        fingerprint=fingerprint(text), hits=[hit()] if hits is None else hits)


def days(store: Store) -> dict[tuple[str, date], tuple[int, int]]:
    """(entry, day) -> (events, articles)."""
    with store.engine.connect() as c:
        return {(e, d): (ev, ar) for e, d, ev, ar in c.execute(
            select(TrendDay.entry, TrendDay.day, TrendDay.events, TrendDay.articles))}


def assert_matches_keys(store: Store) -> None:
    """The counts are exactly the keys: nothing counted twice, nothing lost."""
    with store.engine.connect() as c:
        from_keys = {(w, e, d, u): n for w, e, d, u, n in c.execute(
            select(TrendKey.watchlist, TrendKey.entry, TrendKey.day, TrendKey.unit,
                   func.count()).group_by(TrendKey.watchlist, TrendKey.entry, TrendKey.day,
                                          TrendKey.unit))}
        for w, e, d, ev, ar in c.execute(select(TrendDay.watchlist, TrendDay.entry,
                                                TrendDay.day, TrendDay.events,
                                                TrendDay.articles)):
            assert (ev, ar) == (from_keys.pop((w, e, d, "e"), 0), from_keys.pop((w, e, d, "a"), 0))
        assert from_keys == {}


def test_one_story_from_three_outlets_is_one_event_and_three_articles(store: Store) -> None:
    for outlet in "abc":
        store.add_article(article(f"http://{outlet}.example/1", seed=1), NOW)
    store.add_article(article("http://a.example/2", seed=2), NOW)
    store.add_article(article("http://a.example/3", seed=3, hits=[hit("lavrov")]), NOW)
    assert days(store) == {("shoigu", NOW.date()): (2, 4), ("lavrov", NOW.date()): (1, 1)}
    assert_matches_keys(store)


def test_the_day_is_the_publication_date_else_first_seen(store: Store) -> None:
    store.add_article(article("http://a.example/1", 1, NOW - timedelta(days=3)), NOW)
    store.add_article(article("http://a.example/2", 2, None), NOW)
    store.add_article(article("http://a.example/3", 3, NOW + timedelta(days=2)), NOW)  # clock
    assert days(store) == {("shoigu", date(2026, 11, 22)): (1, 1),
                           ("shoigu", date(2026, 11, 25)): (2, 2)}


def test_days_are_those_of_the_configured_timezone_across_dst(store: Store) -> None:
    """Berlin: CET (UTC+1) until 2026-03-29 01:00 UTC, CEST (UTC+2) after; 22:30 UTC is
    23:30 the same day before the change and 00:30 the next day after it."""
    store.trends.use("Europe/Berlin")
    seen = datetime(2026, 4, 2, tzinfo=UTC)
    for i, when in enumerate([datetime(2026, 3, 28, 22, 30, tzinfo=UTC),   # 28th 23:30 CET
                              datetime(2026, 3, 28, 23, 30, tzinfo=UTC),   # 29th 00:30 CET
                              datetime(2026, 3, 29, 21, 59, tzinfo=UTC),   # 29th 23:59 CEST
                              datetime(2026, 3, 29, 22, 30, tzinfo=UTC)]):  # 30th 00:30 CEST
        store.add_article(article(f"http://a.example/{i}", i, when), seen)
    assert days(store) == {("shoigu", date(2026, 3, 28)): (1, 1),
                           ("shoigu", date(2026, 3, 29)): (2, 2),
                           ("shoigu", date(2026, 3, 30)): (1, 1)}


def test_rematching_and_backfill_never_count_twice(store: Store) -> None:
    first = store.add_article(article("http://a.example/1", 1), NOW)
    second = store.add_article(article("http://b.example/1", 1, hits=[]), NOW)  # same story
    old = NOW - timedelta(days=40)
    backfilled = store.add_articles([
        article("http://c.example/1", 7, old, hits=[hit(found_by="backfill", notify=False)]),
        article("http://c.example/2", 8, old, hits=[hit(found_by="backfill", notify=False)])],
        NOW)
    assert days(store) == {("shoigu", NOW.date()): (1, 1), ("shoigu", old.date()): (2, 2)}
    with store.engine.connect() as c:
        assert c.scalar(select(TrendDay.live_at).where(TrendDay.day == old.date())) is None
        assert c.scalar(select(TrendDay.live_at).where(TrendDay.day == NOW.date())) == NOW
    # re-matching everything with a watchlist that now also has Lavrov, twice
    again = [hit(found_by="backfill", notify=False), hit("lavrov", found_by="backfill")]
    found = [(first.article_id, first.story_id, again), (second.article_id, second.story_id,
                                                         again)]
    found += [(s.article_id, s.story_id, again) for s in backfilled]
    for _ in range(2):
        store.add_hits(found, NOW + timedelta(hours=1))
    assert days(store) == {("shoigu", NOW.date()): (1, 2), ("shoigu", old.date()): (2, 2),
                           ("lavrov", NOW.date()): (1, 2), ("lavrov", old.date()): (2, 2)}
    assert_matches_keys(store)


def test_a_failed_write_counts_nothing(store: Store) -> None:
    bad = article("http://a.example/1", 1, hits=[hit(kind=None)])  # NOT NULL: refused
    with pytest.raises(DatabaseError):
        store.add_article(bad, NOW)
    store.add_article(article("http://a.example/2", 2), NOW)
    assert days(store) == {("shoigu", NOW.date()): (1, 1)}


def test_replicas_storing_and_rematching_at_once_count_each_thing_once(db_url: str) -> None:
    stores = [Store(db_url) for _ in range(4)]
    start = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            order = list(range(12))
            random.Random(n).shuffle(order)
            for i in order:  # every replica stores the same 12 articles of 4 stories
                entries = [hit("shoigu"), hit(f"e{i % 3}")]
                stores[n].add_article(article(f"http://o{i % 3}.example/{i}", i // 3,
                                              NOW - timedelta(days=i % 2), entries), NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = stores[0]
    with store.engine.connect() as c:
        hits = c.execute(select(Hit.story_id, Hit.article_id, Hit.entry)).all()
    stories = {s for s, _, _ in hits}
    got = days(store)
    assert sum(got[k][1] for k in got if k[0] == "shoigu") == 12
    assert sum(got[k][0] for k in got if k[0] == "shoigu") == len(stories)
    assert sum(v[1] for k, v in got.items() if k[0].startswith("e")) == 12
    assert_matches_keys(store)
    # and re-matching from every replica at once
    found = [(a, s, [hit("shoigu"), hit("kim")]) for s, a, e in hits if e == "shoigu"]
    threads = [threading.Thread(target=st.add_hits, args=(found, NOW)) for st in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(v[0] for k, v in days(store).items() if k[0] == "kim") == len(stories)
    assert_matches_keys(store)
    for s in stores:
        s.close()


def test_entry_counts_reads_a_span_with_zero_days(store: Store) -> None:
    for i in range(3):
        store.add_article(article(f"http://a.example/{i}", i, NOW - timedelta(days=2 * i)), NOW)
    [counts] = entry_counts(store, NOW.date() - timedelta(days=5), NOW.date())
    assert (counts.entry, counts.name, counts.kind) == ("shoigu", "Shoigu", "person")
    assert counts.events == [0, 1, 0, 1, 0, 1] and counts.articles == counts.events
    assert counts.first_day == NOW.date() - timedelta(days=4)
    assert counts.history_days(NOW.date()) == 5
    assert entry_counts(store, NOW.date(), NOW.date(), entry="nobody") == []


def test_the_migration_counts_the_hits_stored_before_it(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from monitor.store.db import MIGRATIONS, upgrade

    store = Store(db_url)
    for i, outlet in enumerate("abc"):
        store.add_article(article(f"http://{outlet}.example/1", 1,
                                  NOW - timedelta(days=i), [hit(), hit("kim")]), NOW)
    store.add_article(article("http://a.example/2", 2), NOW)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")  # to just before the trends
    upgrade(store.engine)
    # the hits' own articles: one per story and entry (the first that mentioned it)
    assert days(store) == {("shoigu", NOW.date()): (2, 2), ("kim", NOW.date()): (1, 1)}
    assert_matches_keys(store)
    store.close()


def test_a_recount_moves_the_counts_to_another_timezone(db_url: str, tmp_path: Path) -> None:
    """Counted in UTC, recounted in Berlin: the same as counted in Berlin from the start."""
    stamps = [datetime(2026, 3, 28, 22, 30, tzinfo=UTC), datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
              datetime(2026, 3, 29, 21, 30, tzinfo=UTC), datetime(2026, 3, 29, 22, 30, tzinfo=UTC)]
    seen = datetime(2026, 4, 2, tzinfo=UTC)
    store, berlin = Store(db_url), Store(f"sqlite:///{tmp_path / 'berlin.db'}")
    berlin.trends.use("Europe/Berlin")
    for s in (store, berlin):
        for i, when in enumerate(stamps):
            s.add_article(article(f"http://a.example/{i}", i, when, [hit(), hit("kim")]), seen)
            s.add_article(article(f"http://b.example/{i}", i, when, [hit()]), seen)  # same story
    assert days(store) != days(berlin)
    assert recount(store, "Europe/Berlin") == 2 * 5  # 2 stamps move: 3 a + 2 e keys
    assert days(store) == days(berlin) == {
        ("shoigu", date(2026, 3, 28)): (1, 2), ("shoigu", date(2026, 3, 29)): (2, 4),
        ("shoigu", date(2026, 3, 30)): (1, 2), ("kim", date(2026, 3, 28)): (1, 1),
        ("kim", date(2026, 3, 29)): (2, 2), ("kim", date(2026, 3, 30)): (1, 1)}
    assert_matches_keys(store)
    assert recount(store, "Europe/Berlin") == 0
    store.close()
    berlin.close()
