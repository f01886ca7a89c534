"""`monitor events` and `event_id` on `hits --json` / `articles --json`, end to end."""

from __future__ import annotations

import json

import pytest

from monitor.cli import main
from tests.test_cli_ingest import config, lines  # noqa: F401  (the fixture)

EVENT_KEYS = {"event_id", "title", "summary", "first_seen", "last_seen", "published",
              "articles", "outlets", "entries", "score", "news"}


def test_events_list_explain_and_ids_on_hits_and_articles(
        config: str, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    assert main(["--config", config, "poll", "--once"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "events", "--json"]) == 0
    events = [json.loads(line) for line in lines(capsys)]
    assert len(events) == 1 and set(events[0]) == EVENT_KEYS
    event = events[0]
    assert event["title"] == "Putin visits Pyongyang" and event["news"] is True
    assert event["articles"] == 1 and event["outlets"][0]["feed"] == "Local World"
    assert event["summary"] and event["score"] > 0
    assert {"putin", "north-korea"} <= {e["entry"] for e in event["entries"]}
    kinds = [e["kind"] for e in event["entries"]]  # high priority first, then the most specific
    assert kinds[0] == "treaty" and kinds[1:4] == ["actor", "actor", "topic"]
    assert kinds[-1] == "country" and kinds.index("place") < kinds.index("country")
    assert main(["--config", config, "hits", "--json"]) == 0
    assert {json.loads(line)["event_id"] for line in lines(capsys)} == {event["event_id"]}
    assert main(["--config", config, "articles", "--json"]) == 0
    assert [json.loads(line)["event_id"] for line in lines(capsys)] == [event["event_id"]]
    assert main(["--config", config, "events", "--entry", "putin"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"event {event['event_id']}  score") and "Local World" in out
    assert main(["--config", config, "events", "--since", "2999-01-01"]) == 0
    assert capsys.readouterr().out == "no events\n"
    assert main(["--config", config, "events", "--explain", str(event["event_id"])]) == 0
    assert "1 stories" in capsys.readouterr().out
    assert main(["--config", config, "events", "--explain", "9999"]) == 2
    assert "no such event" in capsys.readouterr().err
    assert main(["--config", config, "events", "--limit", "0"]) == 2
