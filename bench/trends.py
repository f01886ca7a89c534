"""Spike detection on synthetic histories: monitor.spikes next to simpler rules, same data.

    python bench/trends.py [--entries 500] [--days 365] [--seed 20]

Histories (seeded; all arrays numpy).  Each entry is created on day 0 and has a weekday rate
drawn log-uniformly from 0.3 to 50 events a day; a weekend factor (45% of entries 0.15-0.5,
20% 0.7-0.9, 25% none, 10% 1.2-1.6: weekend-heavy); a slow drift (x exp(0.25 sin), periods of
120-365 days); and on top of that "normal" life, surges that are real but not injected:

* bursts: about 1.5 a year, 2-6 days at x2-x4;
* one-day outliers x5-x15: about 2 a year at random, and one 3-20 days before half of the
  injected spikes, to check that an outlier in the window neither masks the next spike nor
  causes false alarms afterwards.

Injected spikes: six per entry, on days 42 and later, at least 10 days apart, with the
multipliers 3, 4, 5, 6, 8 and 10 once each: that day's count is Poisson(multiplier x the day's
expected count) (level x weekday factor x drift).

Two scenarios run: "Poisson" (the day's count is Poisson, as the issue specifies) and
"overdispersed" (its rate is also multiplied by a Gamma noise of variance 0.1, i.e. negative
binomial, closer to real news volumes).

Definitions:

* evaluated days: every day an entry is at least 14 days old (``MIN_HISTORY_DAYS``);
* detected: the injected spike's own day is flagged.  Rates are over the spikes whose count
  reached min_events (5); the others ("below min") cannot be flagged by design (the minimum
  exists for that) and are only counted;
* "after surge": x4+ spikes with a burst or outlier day in the 28 days before them;
* surge days: flags on burst and outlier days are real surges in the data, neither
  detections nor false alarms; the share flagged is shown apart;
* false alarm: a flagged evaluated day that is neither a spike nor a surge day; shown per
  entry per 90 such days;
* "@0.5 FA": detection of x4+ spikes when each method's own score threshold is set so it
  makes exactly 0.5 false alarms per entry per 90 days: the methods compared on equal terms,
  whatever their default thresholds.

Methods (each honours min_events and the 14 days of history):

* naive: today > 3 x the mean of the 28 days before ("as stated": without min_events);
* mad: (today - median) / max(1.4826 MAD, 1) of the same weekday class in 28 days >= 3;
* anscombe: the same on 2 sqrt(count + 3/8), variance-stabilised, MAD floored at 1, >= 3;
* neg-binomial: P(X >= today) < 0.001 under a negative binomial fitted per weekday class
  (winsorised mean, dispersion from the MAD, the mean's own uncertainty added);
* monitor.spikes at each sensitivity (see that module's docstring).

Targets (issue 20): >= 95% of x4+ spikes detected, <= 1 false alarm per entry per 90 days.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor import spikes  # noqa: E402

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]

MULTIPLIERS = (3, 4, 5, 6, 8, 10)
NORMAL, BURST, OUTLIER, SPIKE = 0, 1, 2, 3
FIRST_DAY = date(2025, 1, 6)  # a Monday: day d is weekday d % 7
MIN_EVENTS = spikes.MIN_EVENTS
LEVEL_BANDS = (0.3, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)


@dataclass
class Histories:
    counts: Ints  # entries x days
    label: npt.NDArray[np.int8]
    multiplier: Ints  # on spike days
    level: Floats  # weekday rate per entry


def generate(entries: int, days: int, seed: int, dispersion: float) -> Histories:
    """Synthetic histories as the module docstring describes."""
    rng = np.random.default_rng(seed)
    day = np.arange(days)
    weekend = day % 7 >= 5
    level = np.exp(rng.uniform(math.log(0.3), math.log(50), entries))
    kind = rng.choice(4, entries, p=[0.45, 0.2, 0.25, 0.1])
    factor = np.select([kind == 0, kind == 1, kind == 3],
                       [rng.uniform(0.15, 0.5, entries), rng.uniform(0.7, 0.9, entries),
                        rng.uniform(1.2, 1.6, entries)], 1.0)
    period, phase = rng.uniform(120, 365, entries), rng.uniform(0, 2 * math.pi, entries)
    drift = np.exp(0.25 * np.sin(2 * math.pi * day[None, :] / period[:, None] + phase[:, None]))
    expected = level[:, None] * np.where(weekend[None, :], factor[:, None], 1.0) * drift
    rate = expected * (rng.gamma(1 / dispersion, dispersion, expected.shape)
                       if dispersion > 0 else 1.0)
    label = np.zeros((entries, days), np.int8)
    multiplier = np.zeros((entries, days), np.int64)
    for e in range(entries):
        for _ in range(rng.poisson(1.5 * days / 365)):
            start, length = int(rng.integers(0, days - 6)), int(rng.integers(2, 7))
            rate[e, start:start + length] *= rng.uniform(2, 4)
            label[e, start:start + length] = BURST
        while True:
            chosen = np.sort(rng.choice(np.arange(42, days), len(MULTIPLIERS), replace=False))
            if np.all(np.diff(chosen) >= 10) and np.all(label[e, chosen] == NORMAL):
                break
        for d, m in zip(chosen, rng.permutation(MULTIPLIERS), strict=True):
            label[e, d], multiplier[e, d] = SPIKE, m
            before = d - int(rng.integers(3, 21))
            if rng.random() < 0.5 and label[e, before] == NORMAL:
                label[e, before] = OUTLIER
                rate[e, before] *= rng.uniform(5, 15)
        for _ in range(rng.poisson(2 * days / 365)):
            d = int(rng.integers(0, days))
            if label[e, d] == NORMAL:
                label[e, d] = OUTLIER
                rate[e, d] *= rng.uniform(5, 15)
    counts = rng.poisson(rate).astype(np.int64)
    spike = label == SPIKE
    counts[spike] = rng.poisson(multiplier[spike] * expected[spike])
    return Histories(counts, label, multiplier, level)


# --- the other methods, vectorised over entries x days ---------------------------------------

def windows(x: Floats, width: int) -> Floats:
    """entries x days x width: for day t the values of days t-width .. t-1 (NaN before 0)."""
    padded = np.concatenate([np.full((x.shape[0], width), np.nan), x], axis=1)
    return sliding_window_view(padded, width, axis=1)[:, :x.shape[1], :]


def class_windows(x: Floats, width: int = spikes.WINDOW_DAYS) -> Floats:
    """windows() with NaN where the day is not of the same class (weekday/weekend) as t."""
    t = np.arange(x.shape[1])[:, None]
    source = t - width + np.arange(width)[None, :]
    same = (source % 7 >= 5) == (t % 7 >= 5)
    return np.where(same[None], windows(x, width), np.nan)


def naive_ratio(counts: Ints) -> Floats:
    mean: Floats = np.nanmean(windows(counts.astype(float), 28), axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return counts / mean


def robust_z(values: Floats, floor: float) -> Floats:
    same = class_windows(values)
    median = np.nanmedian(same, axis=2)
    mad = 1.4826 * np.nanmedian(np.abs(same - median[..., None]), axis=2)
    return (values - median) / np.maximum(mad, floor)


def mad_z(counts: Ints) -> Floats:
    return robust_z(counts.astype(float), 1.0)


def anscombe_z(counts: Ints) -> Floats:
    return robust_z(2 * np.sqrt(counts + 0.375), 1.0)


def negbin_surprise(counts: Ints) -> Floats:
    """-log P(X >= today) under a per-class negative binomial; 0 where today <= the mean."""
    same = class_windows(counts.astype(float))
    n = np.sum(~np.isnan(same), axis=2)
    median = np.nanmedian(same, axis=2)
    mad = 1.4826 * np.nanmedian(np.abs(same - median[..., None]), axis=2)
    cap = median + 4 * np.maximum(mad, np.sqrt(median) + 1)
    total = np.nansum(np.minimum(same, cap[..., None]), axis=2)
    mean = total / np.maximum(n, 1)
    alpha = np.maximum(0, (mad**2 - mean) / np.maximum(mean, 1e-3) ** 2) + 1 / (total + 0.5)
    return -negbin_log_tail(counts, mean, alpha)


def negbin_log_tail(x: Ints, mean: Floats, alpha: Floats) -> Floats:
    """log P(X >= x) for X negative binomial (mean, variance mean + alpha mean^2), summing the
    probabilities upward from x; 0 where x <= mean (not a spike candidate)."""
    out = np.zeros(x.shape)
    sel = (x > mean) & ~np.isnan(mean)
    k = x[sel].astype(float)
    mu, r = np.maximum(mean[sel], 1e-3), 1 / np.maximum(alpha[sel], 1e-8)
    p = mu / (mu + r)
    lgamma = np.vectorize(math.lgamma, otypes=[float])
    log_pmf = lgamma(k + r) - lgamma(r) - lgamma(k + 1) + r * np.log1p(-p) + k * np.log(p)
    total, term = np.zeros(k.shape), np.ones(k.shape)
    for j in range(5000):
        term = term * (k + j + r) / (k + j + 1) * p
        total += term
        if np.all(term <= 1e-10 * (1 + total)):
            break
    out[sel] = np.minimum(log_pmf + np.log1p(total), 0.0)
    return out


def monitor_z(counts: Ints) -> Floats:
    """monitor.spikes.score_many over every entry at once, as `monitor trends` will call it."""
    last = FIRST_DAY + timedelta(days=counts.shape[1] - 1)
    return spikes.score_many(counts, last, history_days=[counts.shape[1]] * len(counts)).score


# --- scoring ----------------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    flags: Flags
    score: Floats | None  # for the matched-false-alarm column


def evaluate(h: Histories, row: Row) -> str:
    days = h.counts.shape[1]
    evaluated = np.zeros(h.counts.shape, bool)
    evaluated[:, spikes.MIN_HISTORY_DAYS - 1:] = True
    normal = (h.label == NORMAL) & evaluated
    surge = ((h.label == BURST) | (h.label == OUTLIER)) & evaluated
    eligible = (h.label == SPIKE) & (h.counts >= MIN_EVENTS)
    after = np.zeros(h.counts.shape, bool)
    surged = (h.label == BURST) | (h.label == OUTLIER)
    for lag in range(1, 29):
        after[:, lag:] |= surged[:, :days - lag]
    flags = row.flags

    def rate(sel: Flags) -> str:
        return f"{100 * flags[sel].mean():5.1f}" if sel.any() else "    -"

    cells = [rate(eligible & (h.multiplier == m)) for m in (3, 4, 5)]
    cells.append(rate(eligible & (h.multiplier >= 6)))
    cells.append(rate(eligible & (h.multiplier >= 4)))
    cells.append(rate(eligible & (h.multiplier >= 4) & after))
    false_alarms = (flags & normal).sum() / normal.sum() * 90
    cells.append(f"{false_alarms:6.2f}")
    cells.append(rate(surge))
    cells.append(matched(h, row.score, normal, eligible & (h.multiplier >= 4)))
    return f"{row.name:<30}" + " ".join(f"{c:>7}" for c in cells)


def matched(h: Histories, score: Floats | None, normal: Flags, target: Flags) -> str:
    """x4+ detection with the threshold at 0.5 false alarms per entry per 90 days."""
    if score is None:
        return "-"
    clean = np.nan_to_num(score, nan=-np.inf, posinf=np.inf)
    usable = h.counts >= MIN_EVENTS
    ranked = np.sort(clean[normal & usable])[::-1]
    allowed = int(0.5 * normal.sum() / 90)
    limit = ranked[allowed] if allowed < len(ranked) else -np.inf
    return f"{100 * (clean[target] > limit).mean():5.1f}"


def bands(h: Histories, flags: Flags) -> str:
    """x4+ detection and false alarms by the entry's weekday rate."""
    evaluated = np.zeros(h.counts.shape, bool)
    evaluated[:, spikes.MIN_HISTORY_DAYS - 1:] = True
    parts = []
    for low, high in itertools.pairwise(LEVEL_BANDS):
        mine = ((h.level >= low) & (h.level < high + (high == LEVEL_BANDS[-1])))[:, None]
        spike = mine & (h.label == SPIKE) & (h.counts >= MIN_EVENTS) & (h.multiplier >= 4)
        normal = mine & (h.label == NORMAL) & evaluated
        parts.append(f"{low:g}-{high:g}/day: {100 * flags[spike].mean():5.1f}% "
                     f"{flags[normal].sum() / max(normal.sum(), 1) * 90:4.2f} FA")
    return "  by weekday rate (x4+ detected, false alarms/90d): " + "; ".join(parts)


def scenario(name: str, h: Histories) -> None:
    counts = h.counts
    age = np.arange(counts.shape[1]) + 1
    old_enough = (age >= spikes.MIN_HISTORY_DAYS)[None, :]
    enough = old_enough & (counts >= MIN_EVENTS)
    rows: list[Row] = []
    timings: list[str] = []

    def run(label: str, fn: Callable[[Ints], Floats]) -> Floats:
        start = time.perf_counter()
        score = fn(counts)
        timings.append(f"{label} {time.perf_counter() - start:.1f}s")
        return score

    ratio = run("naive", naive_ratio)
    rows.append(Row("naive 3x mean (as stated)", old_enough & (ratio > 3), None))
    rows.append(Row("naive 3x mean", enough & (ratio > 3), ratio))
    mad = run("mad", mad_z)
    rows.append(Row("mad z>=3", enough & (mad >= 3), mad))
    anscombe = run("anscombe", anscombe_z)
    rows.append(Row("anscombe z>=3", enough & (anscombe >= 3), anscombe))
    negbin = run("neg-binomial", negbin_surprise)
    rows.append(Row("neg-binomial p<0.001", enough & (negbin > math.log(1000)), negbin))
    ours = run("monitor.spikes", monitor_z)
    for sensitivity, limit in spikes.SENSITIVITIES.items():
        rows.append(Row(f"monitor.spikes {sensitivity} (z>={limit:g})",
                        enough & (ours >= limit), ours))
    spike = h.label == SPIKE
    below = int((spike & (counts < MIN_EVENTS)).sum())
    print(f"\n== {name}: {counts.shape[0]} entries x {counts.shape[1]} days, "
          f"{int(spike.sum())} injected spikes ({below} below min_events={MIN_EVENTS}: "
          f"undetectable by design, left out of the rates) ==")
    print(f"{'method':<30}" + " ".join(f"{c:>7}" for c in (
        "x3 %", "x4 %", "x5 %", "x6-10 %", "x4+ %", "after", "FA/90d", "surges", "@0.5FA")))
    for row in rows:
        print(evaluate(h, row))
    normal_flags = next(r.flags for r in rows if r.name.startswith("monitor.spikes normal"))
    print(bands(h, normal_flags))
    print("  time: " + ", ".join(timings))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    start = time.perf_counter()
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning)  # all-NaN windows: day 0
        for name, dispersion in (("Poisson", 0.0), ("overdispersed (NB, variance 0.1)", 0.1)):
            scenario(name, generate(args.entries, args.days, args.seed, dispersion))
    print("\ncolumns: detection % of spikes with >= min_events by multiplier; 'after': x4+ "
          "with a burst or outlier in the 28 days before; FA/90d: false alarms per entry per "
          "90 normal days; surges: % of burst/outlier days flagged (real surges, apart); "
          "@0.5FA: x4+ detected at each method's threshold for 0.5 FA/90d")
    print("targets: x4+ >= 95%, FA/90d <= 1")
    print(f"total {time.perf_counter() - start:.1f}s")


if __name__ == "__main__":
    main()
