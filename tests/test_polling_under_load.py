"""Polling under load (bench/soak.py): a feed whose every item was new when polled may
have lost items off the end of its document since the poll before, so it is polled sooner,
within [MIN_POLL, interval]; and a feed is not failed for a deadline that expired while the
poll was busy with other feeds' articles."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from monitor import ingest as pipeline
from monitor.config import FeedConfig
from monitor.feeds import JITTER, MIN_POLL, adapt_interval
from monitor.store import Store
from monitor.store.models import Item
from tests.support import Reply, Request, Server, rss
from tests.test_pipeline import Clock, config_for, run

HOUR = 3600.0


def unjittered(delay: float) -> float:
    return delay * (1 + JITTER / 2)  # a scheduled delay whose jitter was the mean


def test_every_item_new_halves_the_delay_down_to_the_floor() -> None:
    assert adapt_interval(HOUR, None, 20, 20) == HOUR  # a first poll: all new, says nothing
    assert adapt_interval(HOUR, unjittered(HOUR), 20, 20) == HOUR / 2
    assert adapt_interval(HOUR, unjittered(HOUR / 2), 20, 20) == HOUR / 4
    assert adapt_interval(HOUR, unjittered(150.0), 20, 20) == MIN_POLL  # the floor
    assert adapt_interval(60.0, 60.0, 20, 20) == 60.0  # an interval below the floor stays


def test_overlap_brings_the_delay_back_to_the_interval() -> None:
    assert adapt_interval(HOUR, unjittered(900), 12, 20) == 900  # half or more new: kept
    assert adapt_interval(HOUR, unjittered(900), 3, 20) == 1800  # fewer than half: doubled
    assert adapt_interval(HOUR, unjittered(1800), 0, 20) == HOUR  # up to the interval
    assert adapt_interval(HOUR, 4 * HOUR, 0, 20) == HOUR  # after a back-off: the interval
    assert adapt_interval(HOUR, 900, 0, 0) == HOUR  # an empty document


def test_a_feed_that_overflows_is_polled_sooner_then_at_its_interval_again(
        server: Server, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("monitor.feeds.JITTER", 0.0)  # exact delays
    clock = Clock()
    published = [0]  # the feed lists its 3 latest items; the test publishes

    def busy(_request: Request) -> Reply:
        last = published[0]
        return Reply(200, rss([{"title": f"Item {k}", "guid": f"g{k}",
                                "description": f"Report number {k} from the border talks."}
                               for k in range(max(0, last - 2), last + 1)]))

    server.routes["/busy.rss"] = busy
    config = replace(config_for(store.url, []), feeds=(
        FeedConfig(server.url("/busy.rss"), interval=HOUR, full_text=False),))

    def poll_when_due(new_items: int) -> float:
        """Publish, poll when the feed is due, return the delay to its next poll."""
        published[0] += new_items
        for feed in store.feeds():  # none before the first poll
            clock.now = max(clock.now, feed.next_poll or clock.now)
        summary = run(store, config, clock)
        assert summary.feeds_polled == 1 and summary.failed == 0
        [feed] = store.feeds()
        assert feed.next_poll is not None
        return (feed.next_poll - clock.now).total_seconds()

    assert poll_when_due(0) == HOUR  # the first poll: the interval
    # Busy: every poll finds 3 new items of 3 (more may have scrolled out unseen).
    assert [poll_when_due(3) for _ in range(6)] == [1800, 900, 450, 225, MIN_POLL, MIN_POLL]
    assert poll_when_due(1) == 2 * MIN_POLL  # 1 of 3 new: twice the delay
    assert poll_when_due(2) == 2 * MIN_POLL  # 2 of 3: kept
    # Quiet: the same document again, back to the interval (the ceiling).
    assert [poll_when_due(0) for _ in range(5)] == [480, 960, 1920, HOUR, HOUR]
    with store.engine.connect() as c:
        stored = {key.removeprefix("guid:") for key in c.scalars(select(Item.key))}
    assert stored == {f"g{k}" for k in range(published[0] + 1)}


def test_a_busy_poll_does_not_time_out_a_feed_that_answered(
        server: Server, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # One feed brings 5 articles whose matching takes 0.6 s of CPU each (3 s in all); another
    # answers after 0.3 s, well within its 2 s deadline, while the first is being matched.
    analyse = pipeline.analyse

    def heavy(*args: object, **kwargs: object) -> pipeline.NewArticle:
        end = time.perf_counter() + 0.6
        while time.perf_counter() < end:  # CPU, holding the interpreter like a matcher does
            pass
        return analyse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "analyse", heavy)
    server.routes["/busy.rss"] = Reply(200, rss([{"title": f"Item {k}", "guid": f"g{k}",
                                                  "description": f"Report {k} on the talks."}
                                                 for k in range(5)]))
    server.routes["/calm.rss"] = Reply(200, rss([]), delay=0.3)
    config = config_for(store.url, [])
    config = replace(config, fetch=replace(config.fetch, timeout=2.0), feeds=tuple(
        FeedConfig(server.url(p), full_text=False) for p in ("/busy.rss", "/calm.rss")))
    summary = run(store, config, Clock())
    assert (summary.feeds_polled, summary.failed, summary.errors) == (2, 0, [])
    assert summary.articles_new == 5
