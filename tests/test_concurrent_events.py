"""Three replicas polling three feeds that each report the same ten happenings in their own
words make ten events, every time, on SQLite and PostgreSQL (issue 17: assignment is
deterministic whatever the database, the order of arrival and the number of replicas)."""

from __future__ import annotations

import random
import string
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from monitor.config import FeedConfig
from monitor.ingest import sync_feeds
from monitor.store import Store
from monitor.store.events import resolve
from monitor.store.models import Article, Story
from monitor.watchlist import load_watchlists
from tests.support import Reply, Server, article_html, assert_consistent
from tests.test_concurrent_stories import WORDS, OneFeedAClaim
from tests.test_pipeline import config_for, feed_of
from tests.test_replicas import Clock, together

FEEDS, EVENTS, REPLICAS, ROUNDS = 3, 10, 3, 3


def happening(round_: int, number: int) -> list[str]:
    """What every report of one happening names: a few rare words of its own."""
    rng = random.Random(f"event-{round_}-{number}")
    return ["".join(rng.choices(string.ascii_lowercase, k=9)).capitalize() for _ in range(6)]


def report(round_: int, number: int, outlet: int) -> tuple[str, list[str]]:
    """One outlet's own report: the happening's names in its own sentences."""
    names = happening(round_, number)
    rng = random.Random(f"report-{round_}-{number}-{outlet}")
    paragraphs = []
    for _ in range(3):
        words = rng.sample(WORDS, 30)
        for name in rng.sample(names, 3):
            words.insert(rng.randrange(len(words)), name)
        paragraphs.append(" ".join(words).capitalize() + ".")
    return f"{' '.join(rng.sample(names, 3))}: {' '.join(rng.sample(WORDS, 3))}", paragraphs


def publish(server: Server, round_: int) -> list[str]:
    feeds = []
    for outlet in range(FEEDS):
        items = []
        for number in range(EVENTS):
            title, paragraphs = report(round_, number, outlet)
            path = f"/e{round_}/outlet{outlet}/event{number}.html"
            server.routes[path] = Reply(200, article_html(title, paragraphs),
                                        {"Content-Type": "text/html"})
            items.append((title, path))
        feed_of(server, f"/e{round_}/outlet{outlet}.rss", items)
        feeds.append(server.url(f"/e{round_}/outlet{outlet}.rss"))
    return feeds


def events_of(store: Store) -> dict[int, set[str]]:
    """Each event (resolved through merges) with the paths of its articles."""
    with store.engine.connect() as c:
        rows = c.execute(select(Article.url, Story.event_id)
                         .join(Story, Story.id == Article.story_id)).all()
        roots = resolve(c, [e for _, e in rows if e is not None])
    found: dict[int, set[str]] = defaultdict(set)
    for url, event_id in rows:
        assert event_id is not None
        found[roots[event_id]].add(url.split("/", 3)[3])
    return found


def test_three_replicas_three_feeds_ten_happenings_make_ten_events(
        db_url: str, server: Server, tmp_path: Path) -> None:
    config = config_for(db_url, [])
    watchlists = load_watchlists(config.watchlists)
    clock = Clock()
    stores = [Store(db_url) for _ in range(REPLICAS)]
    try:
        replicas = [OneFeedAClaim(config, s, watchlists, clock, owner=f"replica-{i}")
                    for i, s in enumerate(stores)]
        for round_ in range(ROUNDS):
            feeds = publish(server, round_)
            sync_feeds(stores[0], [FeedConfig(url) for url in feeds], clock())
            summaries = together([r.poll for r in replicas])
            assert sum(s.feeds_polled for s in summaries) == FEEDS
            assert sum(s.stories_new for s in summaries) == FEEDS * EVENTS  # no copies
            assert_consistent(stores[0])
            found = [paths for paths in events_of(stores[0]).values()
                     if next(iter(paths)).startswith(f"e{round_}/")]
            assert len(found) == EVENTS, f"round {round_}: {len(found)} events"
            names = [{p.rsplit("/", 1)[1] for p in paths} for paths in found]
            assert all(len(n) == 1 for n in names)  # each event: one happening's reports
            assert sorted(n.pop() for n in names) == sorted(f"event{n}.html"
                                                            for n in range(EVENTS))
            assert all(len(paths) == FEEDS for paths in found)
            clock.now += timedelta(minutes=1)
    finally:
        for s in stores:
            s.close()
