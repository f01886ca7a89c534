"""Search over stored articles, on SQLite (FTS5) and PostgreSQL (tsvector): every operator,
the index kept up to date on insert and update, the migration over an existing database,
ranking, and `monitor search` (JSON, refusals)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.cli import main
from monitor.dedupe import fingerprint
from monitor.matchcache import matcher_for
from monitor.query import EntryIndex, parse_query, search_plan
from monitor.store import NewArticle, Store
from monitor.store.db import make_engine, upgrade
from monitor.store.search import Filters, search
from monitor.watchlist import Watchlist
from tests.support import watchlist_from_yaml

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
DESK = """watchlist: desk
entries:
  - {id: putin, kind: actor, name: Vladimir Putin, aliases: [Putin, Путин]}
  - {id: kim-jong-un, kind: actor, name: Kim Jong-un}
  - {id: russia, kind: country, name: Russia, country: RU}
  - {id: north-korea, kind: country, name: North Korea, country: KP}
  - {id: new-start, kind: treaty, name: New START}
"""
# (key, title, text, language)
ARTICLES = [
    ("arms", "Putin meets Kim Jong-un", "The leaders met in Pyongyang.\n"
     "Russia and North Korea agreed on military cooperation and munitions.", "en"),
    ("hanoi", "Путин в Ханое", "Путин посетит Вьетнам. Russia and Vietnam signed a treaty "
     "on trade.", "ru"),
    ("tourism", "Tourism in Vietnam", "Beaches and tourism. Vietnam expects more visitors; "
     "no sanctions here.", "en"),
    ("sanctions", "US sanctions", "The United States sanctioned firms shipping weapons to "
     "North Korea.\nKim Jong-un did not comment.", "en"),
    ("geneva", "Talks in Geneva", "New START talks resume in Geneva. The treaty expires; "
     "Vladimir Putin sends Lavrov.", "de"),
    ("far", "A long report", "Putin spoke first. " + "Other matters were raised. " * 10
     + "Vietnam came last.", "en"),
]


def desk() -> list[Watchlist]:
    return [watchlist_from_yaml(DESK)]


def new_article(key: str, title: str | None, body: str, language: str | None,
                feed_id: int | None = None, published: datetime | None = None
                ) -> NewArticle:
    url = f"https://news.example/{key}"
    return NewArticle(feed_id=feed_id, item_key=None, item_url=None, url=url,
                      canonical_url=url, title=title, author=None, published=published,
                      language=language, text_source="page", text=body,
                      fingerprint=fingerprint(body), hits=[])


def fill(store: Store, articles: Sequence[tuple[str, str, str, str]] = ARTICLES) -> None:
    for key, title, body, language in articles:
        store.add_article(new_article(key, title, body, language), NOW)


ANY = Filters()


def found(store: Store, query: str, filters: Filters = ANY, limit: int = 50
          ) -> list[str]:
    watchlists = desk()
    q = parse_query(query)
    plan = search_plan(q, EntryIndex.from_watchlists(watchlists))
    outcome = search(store, q, plan, filters, limit, matcher_for(watchlists).match)
    return [f.row["url"].rsplit("/", 1)[1] for f in outcome.found]


@pytest.mark.parametrize(("query", "expected"), [
    ("vietnam", {"hanoi", "tourism", "far"}),
    ("Путин", {"arms", "hanoi", "geneva", "far"}),          # transliterated both ways
    ('"military cooperation"', {"arms"}),
    ('"cooperation military"', set()),                        # a phrase keeps its order
    ("sanction*", {"sanctions", "tourism"}),
    ("@putin", {"arms", "hanoi", "geneva", "far"}),
    ("kind:treaty", {"geneva"}),
    ("@putin NEAR/5 vietnam", {"hanoi"}),                     # far: 60 words apart
    ("@putin AND vietnam", {"hanoi", "far"}),
    ("@putin vietnam", {"hanoi", "far"}),                     # implicit AND
    ("tourism OR treaty", {"tourism", "hanoi", "geneva"}),
    ("vietnam NOT tourism", {"hanoi", "far"}),
    ("SENTENCE(@russia vietnam)", {"hanoi"}),
    ("SENTENCE(@putin treaty)", {"geneva"}),                  # hanoi: two sentences
    ("PARAGRAPH(@kim-jong-un comment)", {"sanctions"}),
    ("PARAGRAPH(@kim-jong-un munitions)", set()),             # the title is its own paragraph
    ("title:@putin", {"arms", "hanoi"}),
    ("title:vietnam", {"tourism"}),
    ("@north-korea lang:en", {"arms", "sanctions"}),
    ("treaty lang:ru", {"hanoi"}),
    ("(@putin OR @russia) NEAR/30 (@north-korea OR @kim-jong-un) AND (weapons OR munitions "
     'OR "military cooperation")', {"arms"}),
])
def test_every_operator(store: Store, query: str, expected: set[str]) -> None:
    fill(store)
    assert set(found(store, query)) == expected


def test_the_index_follows_inserts_and_updates(store: Store) -> None:
    fill(store, ARTICLES[:1])
    assert found(store, "pyongyang") == ["arms"]
    assert found(store, "hanoi") == []
    store.add_article(new_article("late", "Later", "A visit to Hanoi.", "en"), NOW)
    assert found(store, "hanoi") == ["late"]
    with store.engine.connect() as c:
        article_id = c.execute(text("SELECT id FROM articles WHERE url LIKE '%/arms'")).scalar()
    store.update_text(int(article_id), "Rewritten", "Nothing of Pyongyang; Hanoi now.",
                      None, "en")
    assert found(store, "pyongyang NOT nothing") == []
    assert found(store, "leaders") == []
    assert sorted(found(store, "hanoi")) == ["arms", "late"]
    assert found(store, "title:rewritten") == ["arms"]


def test_ranking_puts_the_title_and_repeated_words_first(store: Store) -> None:
    fill(store, [
        ("once", "Market report", "Prices rose. " * 20 + "Sanctions were mentioned once.",
         "en"),
        ("title", "Sanctions on exports", "New sanctions announced; sanctions widen.", "en"),
        ("twice", "Weekly notes", "Sanctions and more sanctions. " + "Filler text. " * 5,
         "en"),
    ])
    assert found(store, "sanctions") == ["title", "twice", "once"]
    assert found(store, "sanctions", limit=1) == ["title"]


def test_filters_narrow_the_search(store: Store) -> None:
    feed, _ = store.add_feed("https://desk.example/rss", NOW, name="Desk")
    fill(store)
    store.add_article(new_article("fed", "From the feed", "Vietnam news.", "en-GB",
                                  feed.id, NOW - timedelta(days=3)), NOW)
    assert set(found(store, "vietnam", Filters(feed_id=feed.id))) == {"fed"}
    assert set(found(store, "vietnam", Filters(lang="en"))) == {"tourism", "far", "fed"}
    assert set(found(store, "vietnam", Filters(until=NOW - timedelta(days=1)))) == {"fed"}
    assert "fed" not in found(store, "vietnam", Filters(since=NOW - timedelta(days=1)))
    assert found(store, 'vietnam feed:"Desk"') == ["fed"]


def test_migration_builds_the_index_for_existing_articles(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0008")
        with engine.begin() as c:
            c.execute(text("INSERT INTO stories (id, title, first_seen, article_count) "
                           "VALUES (1, 'old', :now, 1)"), {"now": NOW.replace(tzinfo=None)})
            for i, (key, title, body, language) in enumerate(ARTICLES, 1):
                c.execute(text(
                    "INSERT INTO articles (id, story_id, url, canonical_url, title, published, "
                    "language, text_source, text, content_hash, signature, first_seen) VALUES "
                    "(:id, 1, :url, :url, :title, NULL, :lang, 'page', :body, :hash, :sig, "
                    ":now)"), {"id": i, "url": f"https://news.example/{key}", "title": title,
                               "lang": language, "body": body, "hash": f"h{i}", "sig": b"",
                               "now": NOW.replace(tzinfo=None)})
        upgrade(engine)
    finally:
        engine.dispose()
    store = Store(db_url)
    try:
        assert set(found(store, "vietnam")) == {"hanoi", "tourism", "far"}
        assert found(store, '"military cooperation"') == ["arms"]
    finally:
        store.close()


def test_downgrade_removes_the_index(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        from alembic import command
        from alembic.config import Config as AlembicConfig

        from monitor.store.db import MIGRATIONS

        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as c:
            config.attributes["connection"] = c
            command.downgrade(config, "0008")
        with engine.connect() as c:
            names = {r[0] for r in c.execute(text(
                "SELECT name FROM sqlite_master" if c.dialect.name == "sqlite" else
                "SELECT column_name FROM information_schema.columns WHERE table_name = "
                "'articles'"))}
        assert not {n for n in names if n.startswith("article_fts") or n == "search_tsv"}
    finally:
        engine.dispose()


# --- the command --------------------------------------------------------------------------


@pytest.fixture
def configured(tmp_path: Path, db_url: str) -> Path:
    (tmp_path / "watchlists").mkdir()
    (tmp_path / "watchlists" / "desk.yaml").write_text(DESK, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(f"database: {db_url}\nwatchlists: {tmp_path / 'watchlists'}\n",
                      encoding="utf-8")
    store = Store(db_url)
    fill(store)
    store.close()
    return config


def test_search_command_json(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", str(configured), "search", "@putin NEAR/5 vietnam", "--json"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"article_id", "story_id", "feed", "url", "canonical_url", "title", "published",
            "language", "text_source", "text", "score", "highlights", "snippet"} <= set(row)
    document = f"{row['title']}\n\n{row['text']}"
    assert [document[a:b] for a, b in row["highlights"]] == ["Путин", "Vietnam"]
    assert row["highlights"][0][0] > len(row["title"])  # the body's Путин: 5 words away
    assert isinstance(row["score"], float)
    assert main(["-c", str(configured), "search", "vietnam", "--limit", "2", "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_search_command_text(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", str(configured), "search", '"military cooperation"']) == 0
    out = capsys.readouterr().out
    assert "Putin meets Kim Jong-un" in out
    assert "[military cooperation]" in out
    assert main(["-c", str(configured), "search", "zanzibar"]) == 0
    assert capsys.readouterr().out == "no articles match\n"


@pytest.mark.parametrize(("query", "message"), [
    ("NOT tourism", "the index finds words, not their absence"),
    ("v* NOT x", "a one-letter wildcard ('v*')"),
    ("lang:en", "lang:, country: and feed: only narrow a search"),
    ("@puttin", "unknown entry '@puttin' (did you mean '@putin'?)"),
    ("(vietnam", "col 9: expected ')' after \"(vietnam\""),
])
def test_unindexable_queries_are_refused(configured: Path, capsys: pytest.CaptureFixture[str],
                                         query: str, message: str) -> None:
    assert main(["-c", str(configured), "search", query]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
