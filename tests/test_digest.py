"""Digests, pure: cron windows (DST, downtime), grouping (each story once), the subject,
highlighting, escaping of hostile input, golden files for the HTML and the text."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from monitor.digest import (
    HealthNote,
    build,
    clean_header,
    cron_trigger,
    due_window,
    fire_after,
    highlights,
    last_fire,
    safe_url,
)
from monitor.render import Renderer, payload, slack_link, slack_text

GOLDEN = Path(__file__).parent / "data" / "golden"
BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc, arg-type]


def hit(hit_id: int, story_id: int, entry: str, name: str, matched: str, *,
        title: str = "", url: str = "", watchlist: str = "russia-asia-diplomacy",
        kind: str = "actor", snippet: str = "", score: float = 100.0, alias: str = "",
        sources: list[dict[str, Any]] | None = None, published: str | None = None
        ) -> dict[str, Any]:
    return {"hit_id": hit_id, "story_id": story_id, "watchlist": watchlist, "entry": entry,
            "kind": kind, "name": name, "matched": matched, "alias": alias or matched,
            "score": score, "title": title or f"Story {story_id}",
            "url": url or f"https://news.example/{story_id}", "snippet": snippet,
            "published": published, "sources": sources or [
                {"url": url or f"https://news.example/{story_id}", "feed": "Example News",
                 "published": published}]}


def sample_hits() -> list[dict[str, Any]]:
    pyongyang = [{"url": "https://bbc.example/putin-kim", "feed": "BBC World",
                  "published": "2024-06-19T01:30:00Z"},
                 {"url": "https://dw.example/putin-pyongyang", "feed": "DW World",
                  "published": "2024-06-19T03:10:00Z"}]
    return [
        hit(1, 10, "putin", "Vladimir Putin", "Putin", title="Putin lands in Pyongyang",
            url="https://bbc.example/putin-kim", sources=pyongyang,
            published="2024-06-19T01:30:00Z",
            snippet="Putin and Kim Jong Un signed a comprehensive strategic partnership."),
        hit(2, 10, "kim-jong-un", "Kim Jong Un", "Kim Jong Un", sources=pyongyang,
            title="Putin lands in Pyongyang", url="https://bbc.example/putin-kim",
            snippet="Putin and Kim Jong Un signed a comprehensive strategic partnership."),
        hit(3, 11, "putin", "Vladimir Putin", "Poutine", score=91.0, alias="Putin",
            title="Hanoi welcomes Putin", published="2024-06-20T02:00:00Z",
            snippet="Vietnam's leaders received Poutine with full honours in Hanoi."),
        hit(4, 12, "sanctions", "sanctions", "sanctions", kind="topic",
            title="EU weighs new sanctions", published="2024-06-20T09:00:00Z",
            snippet="Brussels is drafting new sanctions on Russian LNG."),
    ]


def sample_digest() -> Any:
    health = [HealthNote("TASS English", "https://tass.example/rss",
                         "failing: 4 polls in a row, last error: HTTP 503")]
    return build("daily", "digest", "digest:daily:2024-06-20T05:00:00+00:00",
                 (utc(2024, 6, 19, 5), utc(2024, 6, 20, 5)), "Europe/Berlin", sample_hits(),
                 health)


# --- windows --------------------------------------------------------------------------------


def test_windows_follow_the_schedule_in_the_digest_timezone() -> None:
    trigger = cron_trigger("0 7 * * *", BERLIN)
    assert fire_after(trigger, utc(2026, 1, 10, 12)) == utc(2026, 1, 11, 6)  # 07:00 CET
    assert fire_after(trigger, utc(2026, 7, 10, 12)) == utc(2026, 7, 11, 5)  # 07:00 CEST
    assert last_fire(trigger, utc(2026, 7, 11, 5)) == utc(2026, 7, 11, 5)


@pytest.mark.parametrize("start,end,hours", [
    (utc(2026, 3, 28, 6), utc(2026, 3, 29, 5), 23),   # spring forward: a 23-hour day
    (utc(2026, 10, 24, 5), utc(2026, 10, 25, 6), 25),  # fall back: a 25-hour day
])
def test_windows_across_dst_changes(start: datetime, end: datetime, hours: int) -> None:
    trigger = cron_trigger("0 7 * * *", BERLIN)
    assert due_window(trigger, start, end) == (start, end)
    assert end - start == timedelta(hours=hours)
    assert due_window(trigger, start, end - timedelta(seconds=1)) is None


def test_a_time_that_does_not_exist_fires_once_that_day() -> None:
    trigger = cron_trigger("30 2 * * *", BERLIN)  # 02:30 does not exist on 29 March
    fires: list[datetime] = []
    moment: datetime | None = utc(2026, 3, 27, 12)
    while moment is not None and (moment := fire_after(trigger, moment)) is not None \
            and moment < utc(2026, 3, 31):
        fires.append(moment)
    assert len(fires) >= 3 and len(fires) == len({f.astimezone(BERLIN).date() for f in fires})


def test_downtime_windows_come_once_as_one() -> None:
    trigger = cron_trigger("0 7 * * *", BERLIN)
    start = utc(2026, 11, 20, 6)
    window = due_window(trigger, start, utc(2026, 11, 23, 9))  # down for three mornings
    assert window == (start, utc(2026, 11, 23, 6))
    assert due_window(trigger, window[1], utc(2026, 11, 23, 9)) is None  # not sent twice


def test_bad_cron_is_a_value_error() -> None:
    for expression in ("every morning", "0 7 * *", "61 7 * * *"):
        with pytest.raises(ValueError):
            cron_trigger(expression, BERLIN)


# --- content --------------------------------------------------------------------------------


def test_each_story_appears_once_under_its_biggest_entry() -> None:
    digest = sample_digest()
    assert [e.entry for e in digest.entries] == ["putin", "sanctions"]
    assert [s.story_id for s in digest.stories] == [10, 11, 12]
    pyongyang = digest.stories[0]
    assert [w.entry for w in pyongyang.why] == ["putin", "kim-jong-un"]
    assert pyongyang.outlets == ("BBC World", "DW World")
    assert sorted(digest.hit_ids) == [1, 2, 3, 4]


def test_subject_names_the_top_entries_and_counts_the_events() -> None:
    assert sample_digest().subject == "monitor daily — Vladimir Putin, sanctions: 3 events"
    empty = build("daily", "digest", "k", (None, utc(2026, 1, 1)), "UTC", [])
    assert empty.subject == "monitor daily — no new events"


def test_highlights_every_matched_word_without_overlaps() -> None:
    text = "Putin and Kim Jong Un met; Putin left."
    assert highlights(text, ["Putin", "Kim Jong Un", "Kim"]) == ((0, 5), (10, 21), (27, 32))


def test_hostile_titles_are_escaped_and_links_are_http_only() -> None:
    rows = [hit(1, 1, "putin", "Vladimir <b>Putin</b>", "Putin",
                title='<script>alert(1)</script> "Putin"\r\nBcc: x@example.org',
                url="javascript:alert(1)",
                snippet="<img src=x onerror=alert(1)> Putin spoke.")]
    digest = build("daily", "digest", "k", (None, utc(2026, 1, 1)), "UTC", rows)
    rendered = Renderer().render(digest)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<img" not in rendered.html and "<b>Putin" not in rendered.html
    assert "javascript:" not in rendered.html and "javascript:" not in rendered.payload
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert "<script>" not in slack_text(digest)
    assert safe_url("data:text/html,x") is None and safe_url("https://a.example/") is not None
    assert clean_header("a\u2028b\x00c") == "a b c"


def test_slack_links_survive_pipes_angle_brackets_and_ampersands() -> None:
    url = "https://news.example/a?q=x|y&r=<1> 2"
    assert slack_link(url, "A | B & <C>") == (
        "<https://news.example/a?q=x%7Cy&amp;r=%3C1%3E%202|A ¦ B &amp; &lt;C&gt;>")
    rows = [hit(1, 1, "putin", "Vladimir Putin", "Putin", title="Putin | Kim", url=url)]
    text = slack_text(build("daily", "digest", "k", (None, utc(2026, 1, 1)), "UTC", rows))
    line = next(x for x in text.splitlines() if x.startswith("• "))
    inner = line[line.index("<") + 1:line.rindex(">")]
    target, label = inner.split("|")  # one separator: the URL ends where Slack reads it
    assert target.replace("&amp;", "&") == "https://news.example/a?q=x%7Cy&r=%3C1%3E%202"
    assert label == "Putin ¦ Kim" and "<" not in inner and ">" not in inner


def test_payload_schema() -> None:
    body = payload(sample_digest())
    assert body["schema"] == "monitor.digest/1" and body["kind"] == "digest"
    assert body["window"] == {"start": "2024-06-19T05:00:00Z", "end": "2024-06-20T05:00:00Z",
                              "timezone": "Europe/Berlin"}
    assert (body["story_count"], body["hit_count"]) == (3, 4)
    story = body["watchlists"][0]["entries"][0]["stories"][0]
    assert set(story) == {"story_id", "title", "url", "published", "outlets", "sources",
                          "snippet", "highlights", "why", "hit_ids"}
    assert story["why"][0] == {"watchlist": "russia-asia-diplomacy", "entry": "putin",
                               "name": "Vladimir Putin", "matched": "Putin",
                               "alias": "Putin", "score": 100.0}
    json.dumps(body)


def test_user_templates_override_the_built_in_ones(tmp_path: Path) -> None:
    (tmp_path / "digest.txt").write_text("{{ digest.subject }} / {{ digest.stories|length }}")
    rendered = Renderer(str(tmp_path)).render(sample_digest())
    assert rendered.text == "monitor daily — Vladimir Putin, sanctions: 3 events / 3"
    assert "<!doctype html>" in rendered.html  # digest.html still the built-in one


@pytest.mark.parametrize("name", ["digest.html", "digest.txt"])
def test_golden_files(name: str) -> None:
    rendered = Renderer().render(sample_digest(), "example.org")
    got = rendered.html if name.endswith(".html") else rendered.text
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8"), \
        f"{name} changed: check it, then UPDATE_GOLDEN=1 pytest {__file__}"
