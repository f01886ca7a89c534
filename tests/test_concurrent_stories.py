"""Copies of one story polled at the same moment by several replicas are one story, with one
hit per (story, entry), on SQLite and PostgreSQL alike (issue 15, item 2: PostgreSQL made
two stories of one when two transactions looked for the story before either committed)."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import wordfreq
from sqlalchemy import select

from monitor.config import FeedConfig
from monitor.extract import Extracted
from monitor.ingest import Analyser, analyse, sync_feeds
from monitor.scheduler import Daemon
from monitor.store import NewArticle, Store
from monitor.store.models import Article, Hit, Item
from monitor.watchlist import load_watchlists
from tests.support import Reply, Server, article_html, assert_consistent
from tests.test_pipeline import config_for, feed_of
from tests.test_replicas import Clock, together

FEEDS, STORIES, REPLICAS, ROUNDS = 3, 10, 3, 5
NAMES = ["Vladimir Putin", "Kim Jong Un", "Sergei Lavrov", "To Lam", "Volodymyr Zelensky",
         "Pyongyang", "Hanoi", "NATO", "the Kremlin", "North Korea", "Vietnam", "Ukraine"]
WORDS = [w for w in wordfreq.top_n_list("en", 3000) if w.isalpha() and len(w) > 3]


class OneFeedAClaim(Daemon):
    """A replica that claims one feed at a time, so three replicas share three feeds (with
    the default chunk the first to ask would take them all)."""

    @property
    def chunk(self) -> int:
        return 1


def story(round_: int, number: int) -> tuple[str, list[str]]:
    """A story of its own (random words, so no two stories are alike) naming two entries."""
    rng = random.Random(f"{round_}-{number}")
    names = rng.sample(NAMES, 2)
    paragraphs = []
    for p in range(4):
        words = rng.sample(WORDS, 24)
        words.insert(rng.randrange(24), names[p % 2])
        paragraphs.append(" ".join(words).capitalize() + ".")
    return f"{names[0]}: {' '.join(rng.sample(WORDS, 4))}", paragraphs


def publish(server: Server, round_: int) -> list[str]:
    """FEEDS outlets each carrying a copy of the same STORIES stories under its own URLs."""
    feeds = []
    for outlet in range(FEEDS):
        items = []
        for number in range(STORIES):
            title, paragraphs = story(round_, number)
            path = f"/r{round_}/outlet{outlet}/story{number}.html"
            server.routes[path] = Reply(200, article_html(title, paragraphs),
                                        {"Content-Type": "text/html"})
            items.append((title, path))
        feed_of(server, f"/r{round_}/outlet{outlet}.rss", items)
        feeds.append(server.url(f"/r{round_}/outlet{outlet}.rss"))
    return feeds


def check(store: Store, analyser: Analyser, rounds: int) -> None:
    """STORIES new stories a round, each with one article per outlet, and each entry its
    text names found once in it."""
    assert_consistent(store)  # one article per URL, one hit per (story, watchlist, entry)
    with store.engine.connect() as c:
        articles = c.execute(select(Article.story_id, Article.title, Article.text,
                                    Article.feed_id)).all()
        hits = c.execute(select(Hit.story_id, Hit.watchlist, Hit.entry)).all()
        sources = c.execute(select(Item.article_id)).all()
    by_story: dict[int, list[tuple[str | None, str, int | None]]] = defaultdict(list)
    for a in articles:
        by_story[a.story_id].append((a.title, a.text, a.feed_id))
    assert len(by_story) == STORIES * rounds, f"{len(by_story)} stories after {rounds} rounds"
    assert all(len({feed for _, _, feed in copies}) == FEEDS for copies in by_story.values())
    assert len(sources) == FEEDS * STORIES * rounds
    found: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for h in hits:
        found[h.story_id].add((h.watchlist, h.entry))
    assert len(hits) == sum(len(keys) for keys in found.values())
    for story_id, copies in by_story.items():
        title, text, _ = copies[0]
        expected = {(h.watchlist, h.entry) for h in analyser.hits(title, text)}
        assert expected and found[story_id] == expected


def test_copies_polled_at_once_by_three_replicas_are_one_story(db_url: str, server: Server,
                                                              tmp_path: Path) -> None:
    config = config_for(db_url, [])
    watchlists = load_watchlists(config.watchlists)
    analyser = Analyser.create(watchlists)
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
            assert sum(s.failed + s.pages_failed for s in summaries) == 0
            assert sum(s.stories_new for s in summaries) == STORIES
            check(stores[0], analyser, round_ + 1)
            clock.now += timedelta(minutes=1)  # this round's feeds are not due again yet
    finally:
        for s in stores:
            s.close()


def test_batches_and_single_articles_stored_at_once_join_one_story_each(db_url: str) -> None:
    """Backfill's batches (one transaction for many articles) and the poll's articles (one
    each), in four writers at once, each writer with a copy of the same five stories."""
    analyser = Analyser.create(load_watchlists(config_for(db_url, []).watchlists))

    def copies(writer: int) -> list[NewArticle]:
        found = []
        for number in range(5):
            title, paragraphs = story(ROUNDS, number)
            extracted = Extracted(text="\n\n".join(paragraphs), title=title, author=None,
                                  published=None, language="en", canonical_url=None,
                                  source="page")
            found.append(analyse(analyser, extracted, url=f"https://w{writer}.example/{number}",
                                 feed_id=None, item=None, key=None, page=None))
        return found

    stores = [Store(db_url) for _ in range(4)]
    start = threading.Barrier(4)
    clock = Clock()

    def batch(writer: int) -> None:
        start.wait()
        stores[writer].add_articles(copies(writer), clock())

    def one_by_one(writer: int) -> None:
        start.wait()
        for new in copies(writer):
            stores[writer].add_article(new, clock())

    try:
        together([lambda: batch(0), lambda: one_by_one(1), lambda: batch(2),
                  lambda: one_by_one(3)])
        assert_consistent(stores[0])
        with stores[0].engine.connect() as c:
            stories = c.execute(select(Article.story_id)).scalars().all()
        assert len(stories) == 20 and len(set(stories)) == 5
        assert sorted(stories.count(s) for s in set(stories)) == [4] * 5
    finally:
        for s in stores:
            s.close()
