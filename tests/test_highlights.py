"""Digest highlights are the matcher's own word-bounded spans (issue 15): never `la*un*ch`,
`Aug*us*t`, `c*us*tody` or `*Russia*n`, in the HTML <mark>s, the text and the JSON
`highlights` (SQLite and PostgreSQL, through a real poll and digest); hits stored before the
spans were kept (migration 0005) fall back to a word-bounded search."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect

from monitor.cli import main
from monitor.digest import build, highlights
from monitor.snippets import excerpt
from monitor.store import Store
from monitor.store.db import make_engine, upgrade
from monitor.store.queries import hit_rows
from tests.support import Reply, Server, rss

SENTENCE = ("Russia, the UN and the US condemned the launch in August and the custody of "
            "Russian nationals.")
WATCHLIST = """watchlist: desk
entries:
  - {id: russia, kind: country, name: Russia, country: RU}
  - {id: un, kind: organization, name: United Nations, aliases: [UN]}
  - {id: us, kind: country, name: United States, aliases: [US], country: US}
"""


def test_excerpt_places_spans_through_collapsed_space_and_trimming() -> None:
    text = "First one. Then  Vladimir\nPutin  arrived in\x1bHanoi with Kim. Next."
    start, end = text.index("Vladimir"), text.index("Putin") + 5
    kim, hanoi = text.index("Kim"), text.index("Hanoi")
    snippet, placed = excerpt(text, start, end, [(start, end), (kim, kim + 3), (0, 5),
                                                 (hanoi, hanoi + 5)])
    assert snippet == "Then Vladimir Putin arrived in Hanoi with Kim."
    assert [snippet[a:b] if p else None for p in placed for a, b in [p or (0, 0)]] == [
        "Vladimir Putin", "Kim", None, "Hanoi"]
    long = "word " * 200 + "Putin spoke " + "more " * 200 + "."
    at = long.index("Putin")
    snippet, placed = excerpt(long, at, at + 5, [(at, at + 5), (0, 4)])
    assert snippet.startswith("…") and snippet.endswith("…") and placed[1] is None
    assert placed[0] is not None and snippet[placed[0][0]:placed[0][1]] == "Putin"


def test_the_fallback_for_old_hits_is_word_bounded() -> None:
    assert highlights(SENTENCE, ["UN", "US", "Russia"]) == ((0, 6), (12, 14), (23, 25))
    assert highlights("Vladimir\u00a0Putin met", ["Vladimir Putin"]) == ((0, 14),)
    assert highlights("The launch in August; custody.", ["UN", "US"]) == ()


def _config(tmp_path: Path, db_url: str, feed: str) -> str:
    (tmp_path / "desk.yaml").write_text(WATCHLIST)
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
database: {db_url}
watchlists: {tmp_path / 'desk.yaml'}
fetch: {{timeout: 2s, allow_private_addresses: true}}
server: false
digests:
  - {{name: daily, channels: [{{file: {{dir: {tmp_path / 'outbox'}}}}}]}}
feeds:
  - {{url: "{feed}", name: Wire, full_text: false}}
""")
    return str(path)


def test_digest_highlights_are_the_matchers_spans(server: Server, db_url: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    server.routes["/feed"] = Reply(200, rss([{
        "title": "Talks in Geneva", "link": server.url("/a"), "guid": "a",
        "description": f"Delegates met on Monday. {SENTENCE} More talks follow."}]))
    config = _config(tmp_path, db_url, server.url("/feed"))
    assert main(["-c", config, "poll", "--once"]) == 0
    assert main(["-c", config, "digest", "preview", "--text"]) == 0
    text = capsys.readouterr().out
    assert ('"*Russia*, the *UN* and the *US* condemned the launch in August and the custody '
            'of Russian nationals."') in text
    assert main(["-c", config, "digest", "send", "daily", "--now"]) == 0
    outbox = tmp_path / "outbox"
    body = json.loads(next(outbox.glob("*.json")).read_text(encoding="utf-8"))
    story = body["watchlists"][0]["entries"][0]["stories"][0]
    assert story["snippet"] == SENTENCE
    assert [story["snippet"][a:b] for a, b in story["highlights"]] == ["Russia", "UN", "US"]
    for a, b in story["highlights"]:  # whole words
        assert not SENTENCE[a - 1:a].isalnum() and not SENTENCE[b:b + 1].isalnum()
    html = next(outbox.glob("*.eml")).read_text(encoding="utf-8")
    marks = re.findall(r"<mark[^>]*>([^<]*)</mark>", html.replace("=\n", ""))
    assert marks == ["Russia", "UN", "US"]


def test_hits_stored_before_marks_upgrade_in_place_and_highlight_whole_words(
        db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as c:
            c.exec_driver_sql("INSERT INTO stories (id, title, first_seen, article_count) "
                              "VALUES (1, 'Talks', '2026-11-25 08:00:00', 1)")
            c.exec_driver_sql(
                "INSERT INTO articles (id, story_id, url, canonical_url, title, text_source, "
                "text, content_hash, signature, first_seen) VALUES (1, 1, 'http://a.example/1',"
                " 'http://a.example/1', 'Talks', 'feed', 'x', 'h', '', '2026-11-25 08:00:00')")
            c.exec_driver_sql(
                "INSERT INTO hits (story_id, article_id, watchlist, entry, entry_version, kind, "
                "name, matched, alias, score, start, \"end\", snippet, priority, first_seen, "
                "found_by, notify) VALUES (1, 1, 'desk', 'us', 'v', 'country', "
                f"'United States', 'US', 'US', 100, 0, 2, '{SENTENCE}', 'normal', "
                "'2026-11-25 08:00:00', 'poll', true)")
        upgrade(engine)
        assert "snippet_marks" in {c["name"] for c in inspect(engine).get_columns("hits")}
    finally:
        engine.dispose()
    store = Store(db_url)
    try:
        rows = hit_rows(store, marks=True)
    finally:
        store.close()
    assert [r["snippet_marks"] for r in rows] == [None]
    digest = build("daily", "digest", "k", (None, datetime(2026, 12, 1, tzinfo=UTC)), "UTC",
                   rows)
    story = digest.stories[0]
    assert [story.snippet[a:b] for a, b in story.highlights] == ["US"]


def test_only_the_digests_entries_are_marked_and_only_inside_the_snippet() -> None:
    row = {"hit_id": 1, "story_id": 1, "watchlist": "desk", "entry": "us", "kind": "country",
           "name": "United States", "matched": "US", "alias": "US", "score": 100.0,
           "title": "Talks", "url": "https://a.example/1", "sources": [], "published": None,
           "snippet": SENTENCE, "snippet_marks": [
               [0, 6, "desk", "russia"], [23, 25, "desk", "us"], [23, 25, "other", "us"],
               [90, 400, "desk", "us"]]}
    digest = build("daily", "digest", "k", (None, datetime(2026, 12, 1, tzinfo=UTC)), "UTC",
                   [row])
    assert digest.stories[0].highlights == ((23, 25),)  # russia is not in this digest
