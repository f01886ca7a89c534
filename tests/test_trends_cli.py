"""`monitor trends`: a row per entry (sparkline, today, usual range, spike mark) or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from monitor.cli import main
from monitor.store import Store
from tests.test_trends_store import article, hit

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday


def history(store: Store, entry: str, per_day: list[int], *, seed: int) -> None:
    """``per_day[i]`` stories naming ``entry`` i days before NOW's day (0 is today)."""
    batch = []
    for back, count in enumerate(per_day):
        for n in range(count):
            when = NOW - timedelta(days=back, hours=n % 5)
            batch.append(article(f"http://x.example/{entry}/{back}/{n}",
                                 seed * 10**6 + back * 100 + n, when, [hit(entry)]))
    store.add_articles(batch, NOW)


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"database: sqlite:///{tmp_path / 'm.db'}\nwatchlists: .\n"
                    "alerts:\n  spikes: {min_events: 5, sensitivity: normal}\n")
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    history(store, "shoigu", [14] + [1, 2, 0, 1, 2, 1, 0] * 8, seed=1)
    history(store, "lavrov", [2] + [2, 1, 2, 3, 1, 2, 2] * 8, seed=2)
    store.close()
    return str(path)


def test_json_gives_one_object_per_entry(config: str, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    with time_machine.travel(NOW, tick=False):
        assert main(["-c", config, "trends", "--json", "--days", "7"]) == 0
    rows = {r["entry"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    shoigu = rows["shoigu"]
    assert set(shoigu) == {"watchlist", "entry", "kind", "name", "days", "baseline", "today",
                           "spike", "score"}
    assert shoigu["today"] == 14 and shoigu["spike"] is True and shoigu["score"] > 3
    assert [d["events"] for d in shoigu["days"]] == [1, 2, 1, 0, 2, 1, 14]
    assert shoigu["days"][-1] == {"day": "2026-11-25", "events": 14, "articles": 14}
    assert shoigu["baseline"]["low"] <= shoigu["baseline"]["median"] <= 2
    assert rows["lavrov"]["spike"] is False and rows["lavrov"]["today"] == 2


def test_the_table_has_a_sparkline_and_a_spike_mark(config: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with time_machine.travel(NOW, tick=False):
        assert main(["-c", config, "trends", "--entry", "shoigu", "--days", "10"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ENTRY") and len(out) == 2
    assert "Shoigu (w/shoigu)" in out[1] and "█" in out[1] and "^ spike" in out[1]
    assert " 14  " in out[1]


def test_an_unknown_entry_or_a_bad_number_of_days_is_a_usage_error(
        config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", config, "trends", "--entry", "nobody"]) == 2
    assert "entry nobody: nothing counted" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["-c", config, "trends", "--days", "0"])
    assert exit_.value.code == 2
