"""Is today unusual for this entry? A robust baseline of daily event counts and a spike test.

Pure functions over a daily count series (events per day, zero days included, most recent
last).  The method, chosen by measurement in bench/trends.py against a naive rule, a median/MAD
on counts alone, variance-stabilised (Anscombe) z-scores and Poisson / negative-binomial tail
tests:

* each day is compared with the earlier days of its own class, weekdays (Mon-Fri) or weekend
  (Sat-Sun), so a weekly rhythm such as 10 a weekday and 2 a weekend day flags neither Mondays
  nor Saturdays;
* the usual level is the median of those days in the last 28 (``WINDOW_DAYS``): a burst or a
  one-day outlier does not move it;
* the usual spread is the standard deviation of those days in the last 56
  (``SCALE_WINDOW_DAYS``), each clipped to the median +- 3 MADs first (so one outlier widens
  it only a little), and never below sqrt(rate) or 1, the rate being the larger of the level
  and those clipped days' mean: a count of Poisson mean m varies by sqrt(m) at least, and a
  quiet entry's spread is not zero;
* the score is (today - level) / spread, a z-score comparable across entries ("rising most");
* a spike needs a score of at least the sensitivity's threshold, at least ``min_events``
  events, and ``MIN_HISTORY_DAYS`` (14) days of history.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

WINDOW_DAYS: Final = 28
SCALE_WINDOW_DAYS: Final = 56
MIN_HISTORY_DAYS: Final = 14
MIN_EVENTS: Final = 5
# The score a day must reach.  bench/trends.py (500 entries x 365 days), Poisson histories and
# in brackets overdispersed ones: x4+ spikes detected / false alarms per entry per 90 days are
# high 98% / 0.7 (98% / 1.3), normal 96% / 0.3 (95% / 0.7), low 91% / 0.06 (88% / 0.16).
SENSITIVITIES: Final[dict[str, float]] = {"low": 4.0, "normal": 3.0, "high": 2.5}
_CLIP_MADS: Final = 3.0
_MAD_TO_SD: Final = 1.4826
_WINSOR_SD: Final = 1.05  # clipping and the n (not n - 1) form leave the SD a few % low
_USUAL: Final = (0.1, 0.9)  # the "usual range": where the middle 80% of comparable days fell
_WEEKEND: Final = (5, 6)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Baseline:
    """A day's usual count: the median of the earlier days of its weekday class in the last 28,
    and the range the middle 80% of them fell in ("usually 0-3 a day")."""

    median: float
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class DayAssessment:
    """One day judged against its baseline (None while the entry has no earlier day)."""

    day: date
    count: int
    baseline: Baseline | None
    score: float
    spike: bool


@dataclass(frozen=True, slots=True)
class SeriesScores:
    """Arrays over the days of a series (NaN where there is no baseline), for bulk callers."""

    level: FloatArray
    low: FloatArray
    high: FloatArray
    spread: FloatArray
    score: FloatArray
    age: npt.NDArray[np.int64]


def threshold(sensitivity: str | float) -> float:
    """The score a spike must reach: a name in ``SENSITIVITIES`` or the score itself (> 0);
    a higher number is less sensitive."""
    if isinstance(sensitivity, str):
        try:
            return SENSITIVITIES[sensitivity]
        except KeyError:
            names = ", ".join(SENSITIVITIES)
            raise ValueError(
                f"sensitivity {sensitivity!r}: use one of {names}, or a score such as 3.5"
            ) from None
    value = float(sensitivity)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"sensitivity {sensitivity!r}: a score threshold must be above 0")
    return value


def score_series(counts: Sequence[int] | npt.ArrayLike, today: date, *,
                 history_days: int) -> SeriesScores:
    """Level, spread and score for every day of ``counts`` (``today`` is the last day).

    ``history_days`` is the entry's age on ``today``, today included (1 for an entry added
    today; backfilled days count if the caller says so): days before the entry existed are
    not part of any baseline.  Vectorised over days: 500 entries x a year in well under a
    second."""
    x = _checked(counts, history_days)
    n = len(x)
    age = history_days - (n - 1 - np.arange(n, dtype=np.int64))
    values = np.where(age >= 1, x, np.nan)
    padded = np.concatenate([np.full(SCALE_WINDOW_DAYS, np.nan), values])
    windows = sliding_window_view(padded, SCALE_WINDOW_DAYS)[:n]  # row i: days i-56 .. i-1
    offsets = np.arange(n)[:, None] - SCALE_WINDOW_DAYS + np.arange(SCALE_WINDOW_DAYS)[None, :]
    weekend = _is_weekend(np.arange(n), n, today)
    same_class = _is_weekend(offsets, n, today) == weekend[:, None]
    scale_window = np.where(same_class, windows, np.nan)
    recent = scale_window[:, -WINDOW_DAYS:]
    level = _nanmedian(recent)
    centre = _nanmedian(scale_window)
    mad = _MAD_TO_SD * _nanmedian(np.abs(scale_window - centre[:, None]))
    reach = _CLIP_MADS * np.maximum(mad, 1.0)
    clipped = np.clip(scale_window, (centre - reach)[:, None], (centre + reach)[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = _WINSOR_SD * _nanstd(clipped)
        # the Poisson floor: the median of small counts is coarse (a rate of 2 often has a
        # median of 1), so the rate is also estimated by the mean of the clipped days
        rate = np.fmax(level, _nanmean(clipped))
        spread = np.fmax(sd, np.sqrt(np.fmax(rate, 1.0)))
        spread = np.where(np.isnan(level), np.nan, spread)
        score = (x - level) / spread
    return SeriesScores(level=level, low=_nanquantile(recent, _USUAL[0], np.floor),
                        high=_nanquantile(recent, _USUAL[1], np.ceil), spread=spread,
                        score=score, age=age)


def scan(counts: Sequence[int] | npt.ArrayLike, today: date, *, history_days: int,
         min_events: int = MIN_EVENTS, sensitivity: str | float = "normal"
         ) -> list[DayAssessment]:
    """Every day of ``counts`` judged as if it were today: for a chart's spike marks."""
    limit = threshold(sensitivity)
    if min_events < 0:
        raise ValueError(f"min_events {min_events}: must be 0 or more")
    scores = score_series(counts, today, history_days=history_days)
    n = len(scores.score)
    first = today - timedelta(days=n - 1)
    days: list[DayAssessment] = []
    for i, count in enumerate(np.asarray(counts, dtype=np.int64).tolist()):
        level = float(scores.level[i])
        if math.isnan(level):
            days.append(DayAssessment(first + timedelta(days=i), count, None, 0.0, False))
            continue
        score = float(scores.score[i])
        baseline = Baseline(level, int(scores.low[i]), int(scores.high[i]))
        spike = (int(scores.age[i]) >= MIN_HISTORY_DAYS and count >= min_events
                 and score >= limit)
        days.append(DayAssessment(first + timedelta(days=i), count, baseline, score, spike))
    return days


def assess(counts: Sequence[int] | npt.ArrayLike, today: date, *, history_days: int,
           min_events: int = MIN_EVENTS, sensitivity: str | float = "normal"
           ) -> DayAssessment:
    """Today (the last count) against its baseline; ``counts`` needs the 56 days before it
    for the full baseline, fewer make a rougher one."""
    if len(np.asarray(counts)) == 0:
        raise ValueError("counts: at least today's count is needed")
    tail = np.asarray(counts)[-(SCALE_WINDOW_DAYS + 1):]
    return scan(tail, today, history_days=history_days, min_events=min_events,
                sensitivity=sensitivity)[-1]


def _checked(counts: Sequence[int] | npt.ArrayLike, history_days: int) -> FloatArray:
    """The counts as floats, refusing what is not a day's count."""
    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("counts: one count per day, a flat sequence")
    if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or np.any(x != np.floor(x))):
        raise ValueError("counts: each day's count must be a whole number, 0 or more")
    if history_days < 0:
        raise ValueError(f"history_days {history_days}: must be 0 or more")
    return x


def _is_weekend(index: npt.NDArray[np.int64], n: int, today: date) -> npt.NDArray[np.bool_]:
    """Whether day ``index`` (0 = the first of ``n`` days ending ``today``) is Sat or Sun."""
    weekday = (today.weekday() - (n - 1 - index)) % 7
    return np.isin(weekday, _WEEKEND)


def _nanmedian(rows: FloatArray) -> FloatArray:
    """Row medians ignoring NaN (NaN for an empty row)."""
    return (_nanquantile(rows, 0.5, np.floor) + _nanquantile(rows, 0.5, np.ceil)) / 2


def _nanquantile(rows: FloatArray, q: float, rounding: np.ufunc) -> FloatArray:
    """Row quantiles ignoring NaN, an observed value each (the rank rounded down or up); NaN
    for an empty row.  Sorting is much faster than np.nanquantile on many short rows."""
    ordered = np.sort(rows, axis=1)  # NaN last
    n = np.sum(~np.isnan(rows), axis=1)
    rank = np.maximum(rounding(q * (n - 1)), 0).astype(np.int64)
    value = np.take_along_axis(ordered, rank[:, None], 1)[:, 0]
    return np.where(n > 0, value, np.nan)


def _nanmean(rows: FloatArray) -> FloatArray:
    """Row means ignoring NaN (NaN for an empty row, without np.nanmean's warning)."""
    n = np.sum(~np.isnan(rows), axis=1)
    return np.where(n > 0, np.nansum(rows, axis=1) / np.maximum(n, 1), np.nan)


def _nanstd(rows: FloatArray) -> FloatArray:
    """Row standard deviations ignoring NaN (population form; NaN for an empty row)."""
    n = np.sum(~np.isnan(rows), axis=1)
    mean = _nanmean(rows)
    squares = np.nansum((rows - mean[:, None]) ** 2, axis=1)
    return np.where(n > 0, np.sqrt(squares / np.maximum(n, 1)), np.nan)
