"""Several replicas on one database (PostgreSQL, and SQLite too): each due feed polled by
exactly one replica at a time, a dead replica's feeds taken over when its lease expires,
one digest per window."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from monitor.channels import channel as make_channel
from monitor.config import Config
from monitor.config.delivery import DigestConfig
from monitor.ingest import sync_feeds
from monitor.scheduler import LEASE, Daemon
from monitor.store import Store
from monitor.store.models import Article, DigestRun, Hit
from monitor.watchlist import load_watchlists
from tests.support import Reply, Server, article_html
from tests.test_pipeline import PARAGRAPHS, config_for, feed_of

FEEDS = 24


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def together(jobs: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = jobs[i]()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return results


@pytest.fixture
def replicas(db_url: str, server: Server, tmp_path: Path) -> Iterator[list[Daemon]]:
    for i in range(FEEDS):
        server.routes[f"/a{i}"] = Reply(200, article_html(f"Putin visit {i}", PARAGRAPHS),
                                        {"Content-Type": "text/html"})
        feed_of(server, f"/f{i}", [(f"Putin visit {i}", f"/a{i}")])
    digest = DigestConfig("daily", "0 7 * * *", "UTC",
                          channels=(make_channel("file", dir=str(tmp_path / "outbox")),))
    config: Config = replace(config_for(db_url, [server.url(f"/f{i}") for i in range(FEEDS)]),
                             digests=(digest,))
    config = replace(config, fetch=replace(config.fetch, concurrency=2))  # chunks of 8 feeds
    clock = Clock()
    stores = [Store(db_url) for _ in range(3)]
    sync_feeds(stores[0], config.feeds, clock())
    watchlists = load_watchlists(config.watchlists)
    daemons = [Daemon(config, s, watchlists, clock, owner=f"replica-{i}")
               for i, s in enumerate(stores)]
    yield daemons
    for s in stores:
        s.close()


def polls(server: Server) -> list[int]:
    return [server.hits(f"/f{i}") for i in range(FEEDS)]


def count(store: Store, model: type[Any]) -> int:
    with store.engine.begin() as c:
        return int(c.execute(select(func.count()).select_from(model)).scalar_one())


def test_each_due_feed_is_polled_by_one_replica(replicas: list[Daemon], server: Server
                                                ) -> None:
    summaries = together([d.poll for d in replicas])
    assert polls(server) == [1] * FEEDS
    assert sum(s.feeds_polled for s in summaries) == FEEDS
    store = replicas[0].store
    assert count(store, Article) == FEEDS
    with store.engine.begin() as c:
        dupes = c.execute(select(Hit.story_id, Hit.watchlist, Hit.entry)
                          .group_by(Hit.story_id, Hit.watchlist, Hit.entry)
                          .having(func.count() > 1)).all()
    assert dupes == []
    clock = replicas[0].clock
    assert isinstance(clock, Clock)
    clock.now += timedelta(minutes=5)
    together([d.poll for d in replicas])
    assert polls(server) == [1] * FEEDS  # not due yet
    clock.now += timedelta(minutes=20)
    together([d.poll for d in replicas])
    assert polls(server) == [2] * FEEDS  # once per interval, whatever the replicas


def test_a_dead_replicas_feeds_are_taken_over_when_its_lease_expires(
        replicas: list[Daemon], server: Server) -> None:
    alive = replicas[1]
    clock = alive.clock
    assert isinstance(clock, Clock)
    claimed = replicas[0].store.claim_feeds(clock(), "dead", LEASE, 10)  # then killed
    assert len(claimed) == 10
    assert alive.poll().feeds_polled == FEEDS - 10
    held = {int(f.url.rsplit("/f", 1)[1]) for f in claimed}
    assert [n for i, n in enumerate(polls(server)) if i in held] == [0] * 10
    clock.now += LEASE - timedelta(seconds=1)
    assert alive.poll().feeds_polled == 0  # still leased, others not due yet
    clock.now += timedelta(seconds=2)
    assert alive.poll().feeds_polled == 10  # taken over
    assert polls(server) == [1] * FEEDS


def test_one_digest_per_window_across_replicas(replicas: list[Daemon]) -> None:
    together([d.poll for d in replicas])
    clock = replicas[0].clock
    assert isinstance(clock, Clock)
    clock.now = clock.now.replace(hour=7, minute=0, second=30) + timedelta(days=1)
    made = together([d.digests for d in replicas])
    assert sum(1 for m in made for x in m if x.run_id is not None) == 1
    assert count(replicas[0].store, DigestRun) == 1
    outbox = Path(replicas[0].config.digests[0].channels[0].dir)
    assert len(list(outbox.glob("*.eml"))) == 1
