"""A mention of a shared alias (one alias, several entries) is stored for each entry and
marked ``ambiguous`` (hits.ambiguous, migration 0008): the matcher's mark travels through
NewHit into the store, and `monitor hits` (JSON, CSV, text) and the web API show it."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from monitor.cli import main
from monitor.config.web import WebConfig
from monitor.dedupe import fingerprint
from monitor.ingest import Analyser
from monitor.store import NewArticle, Store, queries
from monitor.web.app import create_app
from monitor.web.data import StoreData
from tests.support import ROOT, Reply, Server, article_html, rss, watchlist_from_yaml

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
WATCHLIST = """watchlist: desk
entries:
  - {id: hassan, kind: actor, name: Ali Hassan, aliases: [Abu Ali]}
  - {id: said, kind: actor, name: Omar Said, aliases: [Abu Ali]}
  - {id: putin, kind: actor, name: Vladimir Putin}
"""
PARAGRAPHS = [
    "Abu Ali, a commander named in the sanctions notice, met Vladimir Putin in Moscow on "
    "Wednesday, according to a statement published by the Kremlin late in the evening.",
    "The meeting was not announced in advance and lasted about two hours, officials said, "
    "and neither side gave details of what had been agreed between the delegations.",
    "Analysts said the visit showed how far ties had grown over the past two years, while "
    "diplomats in the region warned of further measures against both governments.",
]
TEXT = " ".join(PARAGRAPHS)
EXPECTED = {("hassan", True), ("said", True), ("putin", False)}


def analyser() -> Analyser:
    return Analyser.create([watchlist_from_yaml(WATCHLIST)])


def test_hits_from_keeps_the_matchers_mark() -> None:
    found = analyser().hits("Abu Ali meets Putin", TEXT)
    assert {(h.entry, h.ambiguous) for h in found} == EXPECTED


def stored(store: Store, url: str = "https://news.example/1") -> int:
    new = NewArticle(feed_id=None, item_key=None, item_url=url, url=url, canonical_url=url,
                     title="Abu Ali meets Putin", author=None, published=NOW, language="en",
                     text_source="page", text=TEXT, fingerprint=fingerprint(TEXT),
                     hits=analyser().hits("Abu Ali meets Putin", TEXT))
    return store.add_article(new, NOW).new_hits


def test_the_store_keeps_it_and_the_views_show_it(store: Store) -> None:
    assert stored(store) == 3
    assert {(h.entry, h.ambiguous) for h in queries.hits(store)} == EXPECTED
    assert {(h["entry"], h["ambiguous"]) for h in queries.hit_rows(store)} == EXPECTED


def test_hits_added_to_stored_articles_keep_it_too(store: Store) -> None:
    """The backfill path (Store.add_hits) writes the mark as a poll does."""
    text = "A different report altogether, about the weather in the mountains this week."
    url = "https://news.example/2"
    first = store.add_article(NewArticle(
        feed_id=None, item_key=None, item_url=url, url=url, canonical_url=url, title=None,
        author=None, published=NOW, language="en", text_source="page", text=text,
        fingerprint=fingerprint(text), hits=[]), NOW)
    found = analyser().hits("Abu Ali meets Putin", TEXT)
    assert store.add_hits([(first.article_id, first.story_id, found)], NOW) == 3
    assert {(h.entry, h.ambiguous) for h in queries.hits(store)} == EXPECTED


@pytest.fixture
def config(tmp_path: Path, db_url: str, server: Server) -> str:
    (tmp_path / "watchlists").mkdir()
    (tmp_path / "watchlists" / "desk.yaml").write_text(WATCHLIST, encoding="utf-8")
    server.routes["/a1"] = Reply(200, article_html("Abu Ali meets Putin", PARAGRAPHS))
    server.routes["/world.rss"] = Reply(200, rss([{
        "title": "Abu Ali meets Putin", "link": server.url("/a1"), "guid": "a1",
        "pubDate": "Wed, 25 Nov 2026 07:00:00 GMT"}]))
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""database: {db_url}
watchlists: {tmp_path / 'watchlists'}
fetch: {{timeout: 2s, allow_private_addresses: true}}
feeds:
  - {{url: "{server.url('/world.rss')}", name: Local World}}
""")
    return str(path)


def test_monitor_hits_shows_it_as_json_csv_and_text(
        config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", config, "poll", "--once"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "hits", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(r["entry"], r["ambiguous"]) for r in rows} == EXPECTED
    assert main(["--config", config, "hits", "--csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {(r["entry"], r["ambiguous"]) for r in table} == {
        ("hassan", "True"), ("said", "True"), ("putin", "False")}
    assert main(["--config", config, "hits"]) == 0
    text = capsys.readouterr().out.splitlines()
    marked = [line for line in text if "(shared alias)" in line]
    assert len(text) == 3 and len(marked) == 2
    assert all("  Abu Ali (shared alias)  " in line for line in marked)
    assert not any("hassan" in line or "said" in line for line in set(text) - set(marked))


def test_the_web_api_shows_it(store: Store) -> None:
    stored(store)
    data = StoreData(store, str(ROOT / "watchlists"), lambda: NOW)
    app = create_app(data, WebConfig(), "127.0.0.1", clock=lambda: NOW)
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        items = client.get("/api/v1/hits").json()["items"]
        schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["Hit"]
    assert {(h["entry"], h["ambiguous"]) for h in items} == EXPECTED
    assert "ambiguous" in schema["required"]
