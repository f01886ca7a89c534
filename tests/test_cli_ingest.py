"""The stable commands scripts depend on: poll, feeds, hits, articles, db (both databases)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor.cli import main
from tests.support import ROOT, Reply, Server, article_html, rss
from tests.test_pipeline import PARAGRAPHS

HIT_KEYS = {"hit_id", "story_id", "watchlist", "entry", "kind", "name", "matched", "score",
            "title", "url", "sources", "published", "first_seen", "snippet", "found_by",
            "watchlist_version", "notify", "alias", "priority", "ambiguous", "event_id"}
ARTICLE_KEYS = {"article_id", "story_id", "feed", "url", "canonical_url", "claimed_canonical",
                "title", "published", "language", "text_source", "text", "event_id"}
FEED_KEYS = {"feed_id", "url", "name", "state", "last_polled", "last_status", "error_count",
             "last_error", "next_poll", "origin", "kind"}
# An hour old when polled: news (a page published more than events.max_age before it is
# first seen is stored, but its hits are not notified).
PUBLISHED = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)


@pytest.fixture
def config(tmp_path: Path, db_url: str, server: Server) -> str:
    server.routes["/a1"] = Reply(200, article_html("Putin visits Pyongyang", PARAGRAPHS))
    server.routes["/world.rss"] = Reply(200, rss([{
        "title": "Putin visits Pyongyang", "link": server.url("/a1"), "guid": "a1",
        "pubDate": format_datetime(PUBLISHED, usegmt=True)}]))
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""database: {db_url}
watchlists: {ROOT / 'watchlists'}
fetch: {{timeout: 2s, allow_private_addresses: true}}
feeds:
  - {{url: "{server.url('/world.rss')}", name: Local World, interval: 30m}}
""")
    return str(path)


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_poll_once_then_hits_articles_and_feeds(config: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", config, "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "poll", "--once"]) == 0
    out = capsys.readouterr().out
    assert "feeds polled 1, not modified 0, failed 0; articles new 1; stories new 1" in out
    assert main(["--config", config, "hits", "--json"]) == 0
    hits = [json.loads(line) for line in lines(capsys)]
    assert hits and all(set(h) == HIT_KEYS for h in hits)
    assert all(h["found_by"] == "poll" and h["notify"] and h["watchlist_version"] for h in hits)
    assert {"putin", "north-korea"} <= {h["entry"] for h in hits}
    assert hits[0]["sources"][0]["feed"] == "Local World"
    assert main(["--config", config, "hits", "--entry", "putin", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["entry"] for r in rows] == ["putin"]
    assert main(["--config", config, "hits", "--since", "2999-01-01", "--json"]) == 0
    assert lines(capsys) == []
    assert main(["--config", config, "articles", "--json"]) == 0
    articles = [json.loads(line) for line in lines(capsys)]
    assert len(articles) == 1 and set(articles[0]) == ARTICLE_KEYS
    assert articles[0]["published"] == PUBLISHED.isoformat().replace("+00:00", "Z")
    assert main(["--config", config, "feeds", "list", "--json"]) == 0
    feeds = [json.loads(line) for line in lines(capsys)]
    assert set(feeds[0]) == FEED_KEYS and feeds[0]["state"] == "active"
    assert feeds[0]["last_status"] == 200
    # Not due again yet: a second poll does nothing; --all polls anyway.
    assert main(["--config", config, "poll", "--once"]) == 0
    assert "feeds polled 0" in capsys.readouterr().out
    assert main(["--config", config, "poll", "--once", "--all"]) == 0
    assert "feeds polled 1, not modified 1" in capsys.readouterr().out


def test_feeds_add_import_export(config: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", config, "feeds", "add", "https://e.org/rss", "--name", "E",
                 "--interval", "1h"]) == 0
    opml = tmp_path / "in.opml"
    opml.write_text("""<opml version="2.0"><body><outline text="Asia">
      <outline text="NK" xmlUrl="https://www.nknews.org/feed/"/></outline></body></opml>""")
    assert main(["--config", config, "feeds", "import", str(opml)]) == 0
    capsys.readouterr()
    out = tmp_path / "out.opml"
    assert main(["--config", config, "feeds", "export", "-o", str(out)]) == 0
    exported = out.read_text()
    assert "https://e.org/rss" in exported and "https://www.nknews.org/feed/" in exported
    assert main(["--config", config, "feeds", "list"]) == 0
    assert "NK" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["feeds", "add", "ftp://x"], "not an http"),
    (["feeds", "add", "https://e.org/rss", "--interval", "5s"], "at least 1m"),
    (["hits", "--since", "last tuesday"], "--since"),
    (["poll"], "poll --once"),
    (["poll", "--once", "--feed", "999"], "no feed"),
    (["feeds", "import", "/no/such.opml"], "cannot be read"),
])
def test_user_mistakes_exit_2_without_traceback(config: str, argv: list[str], message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", config, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_bad_config_exits_2_naming_file_line_key(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("database: sqlite:///x.db\nfeeds:\n  - url: https://e.org/rss\n"
                    "    intervall: 15m\n")
    assert main(["--config", str(path), "feeds", "list"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4" in err and "'intervall'" in err and "did you mean 'interval'" in err


def test_unknown_watchlist_or_entry_exits_2_with_did_you_mean(
        config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", config, "poll", "--once"]) == 0
    capsys.readouterr()
    for argv, message in (
            (["--watchlist", "russia-asia-diplomcy"], "--watchlist 'russia-asia-diplomcy': "
             "no such watchlist (did you mean 'russia-asia-diplomacy'?)"),
            (["--watchlist", "nope"], "no such watchlist (known: russia-asia-diplomacy)"),
            (["--entry", "puttin"], "--entry 'puttin': no such entry (did you mean 'putin'?)"),
            (["--watchlist", "russia-asia-diplomacy", "--entry", "nope"],
             "no such entry in 'russia-asia-diplomacy'")):
        assert main(["--config", config, "hits", *argv]) == 2
        out, err = capsys.readouterr()
        assert message in err and out == "" and "Traceback" not in err
    # A configured entry without hits yet is a name, not a mistake: nothing, exit 0.
    assert main(["--config", config, "hits", "--entry", "new-start"]) == 0
    assert capsys.readouterr().out == ""
    # The stored hits' names count when the watchlist is no longer configured.
    moved = tmp_path / "other.yaml"
    moved.write_text(Path(config).read_text().replace(str(ROOT / "watchlists"),
                                                      str(tmp_path / "gone")))
    assert main(["--config", str(moved), "hits", "--watchlist", "russia-asia-diplomacy",
                 "--entry", "putin", "--json"]) == 0
    assert [json.loads(line)["entry"] for line in lines(capsys)] == ["putin"]
