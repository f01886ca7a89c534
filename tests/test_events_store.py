"""Events in the store (monitor/store/events.py), on SQLite and PostgreSQL: reports of one
happening join one event whatever their order, copies stay one story, a bridging story
merges two events (the old id still resolves), the window is on publication dates, and an
old page is stored but is not news."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from monitor.extract import Extracted
from monitor.ingest import Analyser, analyse
from monitor.store import NewArticle, Store
from monitor.store.events import Event, resolve
from monitor.store.models import Article, Hit, Story
from monitor.watchlist import Watchlist
from tests.support import watchlist_from_yaml
from tests.test_event_profiles import BBC, DW, FLOODS

DAY = datetime(2026, 6, 19, 8, tzinfo=UTC)
PUTIN = watchlist_from_yaml("""
watchlist: people
entries:
  - id: putin
    kind: actor
    name: Vladimir Putin
    aliases: [Putin]
""")


def article(title: str, text: str, url: str, published: datetime | None = DAY,
            watchlists: list[Watchlist] | None = None) -> NewArticle:
    extracted = Extracted(text=text, title=title, author=None, published=published,
                          language="en", canonical_url=None, source="page")
    return analyse(Analyser.create(watchlists or []), extracted, url=url, feed_id=None,
                   item=None, key=None, page=None)


def groups(store: Store) -> list[set[str]]:
    """The stored articles' URLs by event (events resolved through merges)."""
    with store.engine.connect() as c:
        rows = c.execute(select(Article.url, Story.event_id)
                         .join(Story, Story.id == Article.story_id)).all()
        roots = resolve(c, [e for _, e in rows if e is not None])
    found: dict[int, set[str]] = defaultdict(set)
    for url, event_id in rows:
        found[roots[event_id]].add(url)
    return sorted(found.values(), key=sorted)


def test_reports_of_one_happening_are_one_event_and_copies_one_story(store: Store) -> None:
    store.add_article(article(*BBC, "https://bbc.example/putin"), DAY)
    store.add_article(article(*FLOODS, "https://dw.example/floods"), DAY)
    store.add_article(article(*DW, "https://dw.example/putin"), DAY)
    copy = store.add_article(article(*BBC, "https://copy.example/putin"), DAY + timedelta(hours=1))
    assert not copy.new_story
    assert groups(store) == [{"https://bbc.example/putin", "https://copy.example/putin",
                              "https://dw.example/putin"}, {"https://dw.example/floods"}]
    with store.session() as s:
        putin = s.scalars(select(Event).order_by(Event.id)).first()
        assert putin is not None and putin.title == BBC[0]
        assert putin.last_seen == DAY + timedelta(hours=1) and putin.published == DAY


A = ("Zorblat quintessa", "Zorblat quintessa marrowfen plindrake osterquay vennibrook.")
C = ("Thaxmoor ruddleton", "Thaxmoor ruddleton calvishaw dremmick fulhaven yarrowick.")
B = ("Zorblat quintessa thaxmoor ruddleton",
     "Zorblat quintessa marrowfen plindrake osterquay vennibrook; thaxmoor ruddleton "
     "calvishaw dremmick fulhaven yarrowick.")


def test_a_story_that_bridges_two_events_merges_them_in_any_order(db_url: str) -> None:
    for order in itertools.permutations([A, B, C]):
        store = Store(db_url)
        try:
            with store.engine.begin() as c:  # a fresh database each time
                for table in ("event_terms", "hits", "bands", "articles"):
                    c.exec_driver_sql(f"DELETE FROM {table}")
                c.exec_driver_sql("UPDATE stories SET event_id = NULL")
                c.exec_driver_sql("DELETE FROM stories")
                c.exec_driver_sql("UPDATE events SET merged_into = NULL")
                c.exec_driver_sql("DELETE FROM events")
            for title, text in order:
                store.add_article(article(title, text, f"https://x.example/{len(text)}"), DAY)
            assert len(groups(store)) == 1, order
            with store.engine.connect() as c:
                events = c.execute(select(Event.id, Event.merged_into)).all()
                roots = resolve(c, [e for e, _ in events])
            assert len(set(roots.values())) == 1
            if order[1] == B or order[0] == B:  # the bridge came before the last: no merge
                assert len(events) == 1
            else:  # A and C first: two events, merged by B into the older
                assert sorted(events) == [(min(e for e, _ in events), None),
                                          (max(e for e, _ in events), min(e for e, _ in events))]
        finally:
            store.close()


AJ = ("Kim Jong Un welcomes Putin in Pyongyang",
      "North Korean leader Kim Jong Un hugged Vladimir Putin on the tarmac in Pyongyang as the "
      "Russian president began a state visit; the partnership pact covers military aid.")


def test_the_window_is_on_publication_dates_whatever_the_import_order(store: Store) -> None:
    """Backfill imports last year's reports today: they join by publication date."""
    old = DAY - timedelta(days=400)
    store.add_article(article(*AJ, "https://aj.example/late", DAY - timedelta(days=396)), DAY)
    store.add_article(article(*BBC, "https://bbc.example/old", old), DAY)
    store.add_article(article(*DW, "https://dw.example/old", old + timedelta(hours=10)), DAY)
    assert groups(store) == [{"https://aj.example/late"},
                             {"https://bbc.example/old", "https://dw.example/old"}]


def test_an_old_page_is_stored_but_its_hits_are_not_news(store: Store) -> None:
    store.add_article(article(*BBC, "https://bbc.example/2017", DAY - timedelta(days=2000),
                              [PUTIN]), DAY)
    store.add_article(article(*DW, "https://dw.example/today", DAY - timedelta(hours=5),
                              [PUTIN]), DAY)
    store.add_article(article("Putin", "Putin spoke.", "https://x.example/undated", None,
                              [PUTIN]), DAY)
    with store.engine.connect() as c:
        notify = dict(c.execute(select(Article.url, Hit.notify)
                                .join(Hit, Hit.article_id == Article.id)).all())
    assert notify == {"https://bbc.example/2017": False, "https://dw.example/today": True,
                      "https://x.example/undated": True}


def test_batches_assign_events_as_single_articles_do(store: Store) -> None:
    store.add_articles([article(*BBC, "https://bbc.example/p"),
                        article(*FLOODS, "https://dw.example/f"),
                        article(*DW, "https://dw.example/p")], DAY)
    assert groups(store) == [{"https://bbc.example/p", "https://dw.example/p"},
                             {"https://dw.example/f"}]
