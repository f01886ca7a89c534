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
_BLOCK: Final = 64  # entries scored together: 64 x 365 days x 56 floats is 10 MB an array

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
    """One day judged against its baseline."""

    day: date
    count: int
    baseline: Baseline | None  # None: no earlier day of its class (weekday/weekend) yet
    score: float  # (count - median) / spread: how unusual, comparable across entries; 0 if None
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
    not part of any baseline."""
    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("counts: one count per day, a flat sequence")
    many = score_many(x[None, :], today, history_days=[history_days])
    return SeriesScores(level=many.level[0], low=many.low[0], high=many.high[0],
                        spread=many.spread[0], score=many.score[0], age=many.age[0])


def score_many(counts: Sequence[Sequence[int]] | npt.ArrayLike, today: date, *,
               history_days: Sequence[int] | npt.ArrayLike, last: int | None = None
               ) -> SeriesScores:
    """score_series for many entries at once, one row of counts each (the same days for all)
    and one history each; 2-D arrays back (entries x days).  ``last``: score only the last
    that many days, the earlier ones serving as history (a chart of 30 days needs 30 + 56
    days of counts).  One call for 500 entries costs a fraction of 500 calls for one."""
    x = _checked(counts, history_days)
    hist = np.asarray(history_days, dtype=np.int64).reshape(len(x))
    width = x.shape[1] if last is None else last
    if not 0 <= width <= x.shape[1]:
        raise ValueError(f"last {last}: between 0 and the {x.shape[1]} days of counts")
    parts = [_score_block(x[i:i + _BLOCK], today, hist[i:i + _BLOCK], width)
             for i in range(0, len(x), _BLOCK)] or [_score_block(x, today, hist, width)]
    return SeriesScores(*(np.concatenate([getattr(p, f) for p in parts])
                          for f in SeriesScores.__slots__))


def _score_block(x: FloatArray, today: date, history: npt.NDArray[np.int64],
                 width: int) -> SeriesScores:
    """score_many on a block of entries, its last ``width`` days (entries x days x 56 floats
    at a time)."""
    n = x.shape[1]
    age = history[:, None] - (n - 1 - np.arange(n, dtype=np.int64))[None, :]
    values = np.where(age >= 1, x, np.nan)
    padded = np.concatenate([np.full((len(x), SCALE_WINDOW_DAYS), np.nan), values], axis=1)
    # [entry, day i, k]: day i - 56 + k, if of day i's class (weekday or weekend)
    scored = np.arange(n - width, n)
    windows = sliding_window_view(padded, SCALE_WINDOW_DAYS, axis=1)[:, scored, :]
    offsets = scored[:, None] - SCALE_WINDOW_DAYS + np.arange(SCALE_WINDOW_DAYS)[None, :]
    weekend = _is_weekend(scored, n, today)
    same_class = _is_weekend(offsets, n, today) == weekend[:, None]
    x, age = x[:, scored], age[:, scored]
    scale_window = np.where(same_class[None, :, :], windows, np.nan)
    recent, recent_n = _sorted(scale_window[..., -WINDOW_DAYS:])
    level = (_pick(recent, recent_n, 0.5, np.floor) + _pick(recent, recent_n, 0.5, np.ceil)) / 2
    centre = _nanmedian(scale_window)
    mad = _MAD_TO_SD * _nanmedian(np.abs(scale_window - centre[..., None]))
    reach = _CLIP_MADS * np.maximum(mad, 1.0)
    clipped = np.clip(scale_window, (centre - reach)[..., None], (centre + reach)[..., None])
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = _WINSOR_SD * _nanstd(clipped)
        # the Poisson floor: the median of small counts is coarse (a rate of 2 often has a
        # median of 1), so the rate is also estimated by the mean of the clipped days
        rate = np.fmax(level, _nanmean(clipped))
        spread = np.fmax(sd, np.sqrt(np.fmax(rate, 1.0)))
        spread = np.where(np.isnan(level), np.nan, spread)
        score = (x - level) / spread
    return SeriesScores(level=level, low=_pick(recent, recent_n, _USUAL[0], np.floor),
                        high=_pick(recent, recent_n, _USUAL[1], np.ceil), spread=spread,
                        score=score, age=age)


def scan(counts: Sequence[int] | npt.ArrayLike, today: date, *, history_days: int,
         min_events: int = MIN_EVENTS, sensitivity: str | float = "normal"
         ) -> list[DayAssessment]:
    """Every day of ``counts`` judged as if it were today: for a chart's spike marks."""
    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("counts: one count per day, a flat sequence")
    return scan_many(x[None, :], today, history_days=[history_days], min_events=min_events,
                     sensitivity=sensitivity)[0]


def scan_many(counts: Sequence[Sequence[int]] | npt.ArrayLike, today: date, *,
              history_days: Sequence[int] | npt.ArrayLike, min_events: int = MIN_EVENTS,
              sensitivity: str | float = "normal", last: int | None = None
              ) -> list[list[DayAssessment]]:
    """scan for many entries at once (one row of counts and one history each), of the
    ``last`` days only if given: what `monitor trends` needs for a screen of entries (counts
    for N + 56 days, last=N), in one vectorised pass."""
    limit = threshold(sensitivity)
    if min_events < 0:
        raise ValueError(f"min_events {min_events}: must be 0 or more")
    scores = score_many(counts, today, history_days=history_days, last=last)
    n = scores.score.shape[1]
    dates = [today - timedelta(days=n - 1 - i) for i in range(n)]
    whole = np.asarray(counts, dtype=np.int64)
    shown = whole[:, whole.shape[1] - n:]
    spikes = ((scores.age >= MIN_HISTORY_DAYS) & (shown >= min_events)
              & (np.nan_to_num(scores.score, nan=-np.inf) >= limit))
    rows = []
    for e, row in enumerate(shown.tolist()):
        level, low, high = scores.level[e].tolist(), scores.low[e].tolist(), scores.high[e].tolist()
        score, spike = scores.score[e].tolist(), spikes[e].tolist()
        rows.append([
            DayAssessment(dates[i], count, None, 0.0, False) if math.isnan(level[i]) else
            DayAssessment(dates[i], count, Baseline(level[i], int(low[i]), int(high[i])),
                          score[i], spike[i])
            for i, count in enumerate(row)
        ])
    return rows


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


def _checked(counts: Sequence[Sequence[int]] | npt.ArrayLike,
             history_days: Sequence[int] | npt.ArrayLike) -> FloatArray:
    """The counts as an entries x days float array, refusing what is not a day's count."""
    try:
        x = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError):
        x = np.empty(0)  # ragged rows, or not numbers at all
    if x.ndim != 2:
        raise ValueError("counts: one row of daily counts per entry, all the same length")
    if x.size and (not np.all(np.isfinite(x)) or x.min() < 0 or np.any(x != np.floor(x))):
        raise ValueError("counts: each day's count must be a whole number, 0 or more")
    history = np.asarray(history_days)
    if history.size != len(x):
        raise ValueError(f"history_days: {history.size} for {len(x)} rows of counts")
    if history.size and history.min() < 0:
        raise ValueError(f"history_days {history.min()}: must be 0 or more")
    return x


def _is_weekend(index: npt.NDArray[np.int64], n: int, today: date) -> npt.NDArray[np.bool_]:
    """Whether day ``index`` (0 = the first of ``n`` days ending ``today``) is Sat or Sun."""
    weekday = (today.weekday() - (n - 1 - index)) % 7
    return np.isin(weekday, _WEEKEND)


def _nanmedian(rows: FloatArray) -> FloatArray:
    """Medians along the last axis ignoring NaN (NaN for none)."""
    ordered, n = _sorted(rows)
    return (_pick(ordered, n, 0.5, np.floor) + _pick(ordered, n, 0.5, np.ceil)) / 2


def _sorted(rows: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """The rows sorted along the last axis (NaN last) and how many values each has: sorting
    once is much faster than np.nanmedian / np.nanquantile on many short rows."""
    return np.sort(rows, axis=-1), np.sum(~np.isnan(rows), axis=-1)


def _pick(ordered: FloatArray, n: npt.NDArray[np.int64], q: float,
          rounding: np.ufunc) -> FloatArray:
    """The q-quantile of each sorted row, an observed value (its rank rounded down or up);
    NaN for an empty row."""
    rank = np.maximum(rounding(q * (n - 1)), 0).astype(np.int64)
    value = np.take_along_axis(ordered, rank[..., None], -1)[..., 0]
    return np.where(n > 0, value, np.nan)


def _nanmean(rows: FloatArray) -> FloatArray:
    """Means along the last axis ignoring NaN (NaN for none, without np.nanmean's warning)."""
    n = np.sum(~np.isnan(rows), axis=-1)
    return np.where(n > 0, np.nansum(rows, axis=-1) / np.maximum(n, 1), np.nan)


def _nanstd(rows: FloatArray) -> FloatArray:
    """Standard deviations along the last axis ignoring NaN (population form; NaN for none)."""
    n = np.sum(~np.isnan(rows), axis=-1)
    mean = _nanmean(rows)
    squares = np.nansum((rows - mean[..., None]) ** 2, axis=-1)
    return np.where(n > 0, np.sqrt(squares / np.maximum(n, 1)), np.nan)
