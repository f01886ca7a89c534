"""spikes.py: the baseline and spike test on daily event counts (pure, seeded where random)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from monitor import spikes
from monitor.spikes import (
    Baseline,
    assess,
    scan,
    scan_many,
    score_many,
    score_series,
    threshold,
)

MONDAY = date(2025, 3, 3)


def weekly(days: int, today: date, weekday: int, weekend: int) -> list[int]:
    """A strict weekly rhythm ending on ``today``."""
    first = today - timedelta(days=days - 1)
    return [weekend if (first + timedelta(days=i)).weekday() >= 5 else weekday
            for i in range(days)]


def poisson(days: int, rate: float, seed: int) -> list[int]:
    return np.random.default_rng(seed).poisson(rate, days).tolist()  # type: ignore[no-any-return]


def test_a_weekly_rhythm_flags_neither_mondays_nor_weekends() -> None:
    counts = weekly(120, MONDAY, weekday=10, weekend=2)
    days = scan(counts, MONDAY, history_days=120)
    assert not any(d.spike for d in days)
    mondays = [d for d in days[1:] if d.day.weekday() == 0]
    assert len(mondays) == 17
    assert all(d.score == 0 and d.baseline == Baseline(10, 10, 10) for d in mondays)
    assert days[-2].baseline == Baseline(median=2, low=2, high=2)  # Sunday: its own class


def test_a_noisy_weekly_rhythm_stays_within_the_false_alarm_budget() -> None:
    """Poisson noise alone does reach a spike now and then (bench/trends.py: ~0.3 per 90
    days); the rhythm itself must not add any: at most one a quarter, over a year."""
    rng = np.random.default_rng(7)
    first = MONDAY - timedelta(days=364)
    rates = [2.0 if (first + timedelta(days=i)).weekday() >= 5 else 10.0 for i in range(365)]
    counts = rng.poisson(rates).tolist()
    flagged = [d for d in scan(counts, MONDAY, history_days=365) if d.spike]
    assert len(flagged) <= 4
    assert all(d.score >= threshold("normal") and d.count >= 5 for d in flagged)


def test_a_weekday_level_on_a_weekend_is_a_spike() -> None:
    saturday = MONDAY + timedelta(days=5)
    counts = weekly(60, saturday, weekday=10, weekend=2)
    counts[-1] = 10
    today = assess(counts, saturday, history_days=60)
    assert today.spike and today.baseline == Baseline(median=2, low=2, high=2)


def test_a_clear_spike_is_flagged_with_its_usual_range() -> None:
    counts = [*poisson(56, 5, seed=1), 30]
    today = assess(counts, MONDAY, history_days=57)
    assert today.spike and today.count == 30 and today.day == MONDAY
    assert today.baseline is not None
    assert 3 <= today.baseline.median <= 7
    assert 0 <= today.baseline.low < today.baseline.median < today.baseline.high < 30
    assert today.score > threshold("normal")


def test_an_entry_under_14_days_old_never_spikes() -> None:
    counts = [0] * 13 + [50]
    assert not assess(counts, MONDAY, history_days=13).spike
    assert assess([0] * 13 + [50], MONDAY, history_days=14).spike
    # earlier days in the series do not count before the entry existed
    assert not assess([0] * 60 + [50], MONDAY, history_days=10).spike
    brand_new = assess([50], MONDAY, history_days=1)
    assert brand_new.baseline is None and not brand_new.spike and brand_new.score == 0


def test_days_before_the_entry_existed_are_not_in_its_baseline() -> None:
    counts = [40] * 30 + [1, 2] * 10 + [30]  # 40s before the entry (history 21 days) ignored
    today = assess(counts, MONDAY, history_days=21)
    assert today.baseline is not None and today.baseline.median < 3
    assert today.spike


def test_an_outlier_in_the_window_neither_masks_the_next_spike_nor_alarms_after() -> None:
    counts = poisson(70, 5, seed=3)
    counts[55] = 80  # a one-day burst 14 days before the end
    counts[-1] = 20  # x4
    days = scan(counts, MONDAY, history_days=70)
    assert days[55].spike and days[-1].spike
    assert [i for i, d in enumerate(days) if d.spike] == [55, 69]
    # and without the outlier, the same verdict and nearly the same score
    calm = list(counts)
    calm[55] = 5
    assert abs(assess(calm, MONDAY, history_days=70).score - days[-1].score) < 1.0


def test_a_burst_of_several_days_does_not_lift_the_baseline() -> None:
    counts = poisson(70, 4, seed=4)
    counts[50:54] = [30, 25, 20, 15]
    counts[-1] = 18
    assert assess(counts, MONDAY, history_days=70).spike


def test_min_events_is_honoured() -> None:
    quiet = [0] * 56
    assert not assess([*quiet, 4], MONDAY, history_days=57).spike
    assert assess([*quiet, 4], MONDAY, history_days=57).score >= 4  # unusual, but too few
    assert assess([*quiet, 5], MONDAY, history_days=57).spike
    assert not assess([*quiet, 5], MONDAY, history_days=57, min_events=6).spike
    assert assess([*quiet, 3], MONDAY, history_days=57, min_events=0).spike


def test_sensitivity_is_monotone() -> None:
    flagged: dict[str, set[tuple[int, int]]] = {}
    for name in ("low", "normal", "high"):
        found: set[tuple[int, int]] = set()
        for seed in range(30):
            rate = [0.5, 2, 5, 12, 30][seed % 5]
            counts = poisson(120, rate, seed)
            for i in range(0, 120, 17):
                counts[i] = int(counts[i] * (2 + seed % 4))
            days = scan(counts, MONDAY, history_days=120, sensitivity=name)
            found |= {(seed, i) for i, d in enumerate(days) if d.spike}
        flagged[name] = found
    assert flagged["low"] < flagged["normal"] < flagged["high"]
    assert threshold("low") > threshold("normal") > threshold("high")


def test_a_number_is_the_score_threshold() -> None:
    counts = [*poisson(56, 5, seed=1), 14]
    score = assess(counts, MONDAY, history_days=57).score
    assert assess(counts, MONDAY, history_days=57, sensitivity=score).spike
    assert not assess(counts, MONDAY, history_days=57, sensitivity=score + 0.01).spike


@pytest.mark.parametrize("bad", ["medium", "", 0, -1.0, float("nan"), float("inf")])
def test_a_bad_sensitivity_says_what_to_use(bad: str | float) -> None:
    with pytest.raises(ValueError, match="sensitivity"):
        threshold(bad)


def test_score_rises_with_the_count_and_compares_entries() -> None:
    history = poisson(56, 5, seed=2)
    scores = [assess([*history, c], MONDAY, history_days=57).score for c in range(0, 40, 3)]
    assert scores == sorted(scores) and scores[0] < 0
    busy = poisson(56, 40, seed=2)
    # doubling a busy entry is more unusual than doubling a quiet one, and both are ranked
    assert (assess([*busy, 80], MONDAY, history_days=57).score
            > assess([*history, 10], MONDAY, history_days=57).score)


def test_assess_is_the_last_day_of_scan_and_needs_only_57_days() -> None:
    counts = poisson(200, 6, seed=5)
    days = scan(counts, MONDAY, history_days=300)
    assert assess(counts, MONDAY, history_days=300) == days[-1]
    assert assess(counts[-57:], MONDAY, history_days=300) == days[-1]
    assert [d.day for d in days] == [MONDAY - timedelta(days=199 - i) for i in range(200)]


def test_score_series_gives_arrays_for_bulk_callers() -> None:
    scores = score_series(poisson(90, 3, seed=6), MONDAY, history_days=90)
    assert scores.score.shape == (90,) and np.isnan(scores.level[0])
    assert list(scores.age[-3:]) == [88, 89, 90]
    known = ~np.isnan(scores.level)
    assert known[7:].all() and np.all(scores.spread[known] >= 1)


def test_many_entries_at_once_match_one_at_a_time() -> None:
    rows = [poisson(90, rate, seed) for seed, rate in enumerate([0.5, 3, 12, 40])]
    rows[2][-1] = 60
    histories = [90, 30, 12, 200]
    many = scan_many(rows, MONDAY, history_days=histories)
    assert many == [scan(r, MONDAY, history_days=h) for r, h in zip(rows, histories, strict=True)]
    assert many[2][-1].spike is False and many[3][-1].spike is False  # 12 days old; usual
    scores = score_many(rows, MONDAY, history_days=histories)
    assert scores.score.shape == (4, 90)
    assert np.array_equal(scores.score[1], score_series(rows[1], MONDAY, history_days=30).score,
                          equal_nan=True)


def test_the_last_days_only_give_the_same_verdicts() -> None:
    rows = [poisson(86, rate, seed) for seed, rate in enumerate([2, 8, 25])]
    whole = scan_many(rows, MONDAY, history_days=[86, 86, 50])
    tail = scan_many(rows, MONDAY, history_days=[86, 86, 50], last=30)
    assert tail == [r[-30:] for r in whole]
    assert scan_many(rows, MONDAY, history_days=[86, 86, 50], last=0) == [[], [], []]
    with pytest.raises(ValueError, match="last"):
        score_many(rows, MONDAY, history_days=[86, 86, 50], last=87)


def test_many_entries_need_one_history_each_and_rows_of_one_length() -> None:
    with pytest.raises(ValueError, match="history_days"):
        score_many([[1, 2], [3, 4]], MONDAY, history_days=[5])
    with pytest.raises(ValueError, match="counts"):
        score_many([[1, 2], [3]], MONDAY, history_days=[5, 5])


@pytest.mark.parametrize("bad", [[1, -1], [1.5], [[1, 2]], [float("nan")]])
def test_counts_must_be_whole_numbers(bad: list[object]) -> None:
    with pytest.raises(ValueError, match="counts"):
        score_series(bad, MONDAY, history_days=10)  # type: ignore[arg-type]


def test_empty_and_negative_inputs() -> None:
    assert scan([], MONDAY, history_days=0) == []
    with pytest.raises(ValueError, match="counts"):
        assess([], MONDAY, history_days=1)
    with pytest.raises(ValueError, match="history_days"):
        scan([1], MONDAY, history_days=-1)
    with pytest.raises(ValueError, match="min_events"):
        scan([1], MONDAY, history_days=1, min_events=-1)


def test_the_defaults_are_the_issues() -> None:
    assert spikes.MIN_EVENTS == 5 and spikes.MIN_HISTORY_DAYS == 14
    assert spikes.WINDOW_DAYS == 28
