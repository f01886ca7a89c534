"""Small pictures of a daily count series: a Unicode sparkline for terminals and text mail, an
inline SVG bar chart for HTML mail and the web UI.  Pure and deterministic (same input, same
bytes), so digests stay reproducible and testable."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

BLOCKS: Final = "▁▂▃▄▅▆▇█"
SPIKE_MARK: Final = "^"
BAR: Final = "#64748b"
SPIKE: Final = "#dc2626"
BAND: Final = "#e2e8f0"
AXIS: Final = "#94a3b8"
_MARKER_SPACE: Final = 7  # pixels above the bars for the spike triangles
_XML_UNSAFE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class TrendLine:
    """One rising entry in a digest's Trends section: its last days' events, ending
    ``day``, and how that day stood against its usual range."""

    watchlist: str
    entry: str
    name: str
    kind: str
    day: date
    counts: tuple[int, ...]
    usual: tuple[int, int] | None
    spike: bool
    score: float

    @property
    def today(self) -> int:
        return self.counts[-1]

    @property
    def usual_text(self) -> str:
        if self.usual is None:
            return "no usual range yet"
        low, high = self.usual
        return f"{low}-{high} a day" if low != high else f"{low} a day"

    @property
    def sparkline(self) -> str:
        return sparkline(self.counts)

    @property
    def svg(self) -> str:
        """The inline chart, the day itself marked when it spiked."""
        flags = [False] * (len(self.counts) - 1) + [self.spike]
        return svg_chart(self.counts, title=f"{self.name}: events a day", spikes=flags,
                         usual=self.usual, last_day=self.day, width=168, height=36)


def sparkline(values: Sequence[float], *, top: float | None = None) -> str:
    """One block per value from ▁ (0) to █ (``top``, default the largest value); any value above
    0 gets at least ▂, so a quiet day with one event does not look like none.  Pass the same
    ``top`` to several lines to share their scale.  The blocks are "ambiguous width" in
    Unicode: CJK terminals may draw them two columns wide."""
    checked = _counts(values, "values")
    peak = max(checked, default=0.0) if top is None else float(top)
    if not math.isfinite(peak) or peak < 0:
        raise ValueError(f"top {top!r}: must be a number, 0 or more")
    levels = len(BLOCKS) - 1
    out = []
    for value in checked:
        if value <= 0 or peak == 0:
            out.append(BLOCKS[0])
        else:
            out.append(BLOCKS[max(1, min(levels, round(value / peak * levels)))])
    return "".join(out)


def spike_marks(spikes: Sequence[bool], *, mark: str = SPIKE_MARK) -> str:
    """A line to print under a sparkline: ``mark`` below each spike day, spaces elsewhere,
    trailing spaces removed (so "" when nothing spiked)."""
    if len(mark) != 1 or not mark.isprintable() or mark.isspace():
        raise ValueError(f"mark {mark!r}: one visible character")
    return "".join(mark if spike else " " for spike in spikes).rstrip()


def svg_chart(counts: Sequence[int], *, title: str, spikes: Sequence[bool] = (),
              usual: tuple[float, float] | None = None, last_day: date | None = None,
              width: int = 240, height: int = 48) -> str:
    """An inline SVG of daily bars, fixed ``width`` x ``height`` pixels: spike days in red
    with a triangle above them (not colour alone), the usual range (low, high) as a band
    behind the bars.  Accessible: role="img", a <title> (``title``) and a <desc> saying the
    days, the peak and the spike days in words (with dates when ``last_day`` is given).  No
    scripts, no styles, no external references; every text is escaped, so the result can go
    into HTML as it is."""
    data = _counts(counts, "counts")
    if not data:
        raise ValueError("counts: at least one day to draw")
    flags = list(spikes) or [False] * len(data)
    if len(flags) != len(data):
        raise ValueError(f"spikes: {len(flags)} flags for {len(data)} days")
    if width < 16 or height < 16:
        raise ValueError(f"size {width}x{height}: at least 16x16 pixels")
    if usual is not None and not (0 <= usual[0] <= usual[1] and math.isfinite(usual[1])):
        raise ValueError(f"usual {usual!r}: a range (low, high) with 0 <= low <= high")
    peak = max(max(data), usual[1] if usual else 0.0, 1.0)
    floor = height - 1  # the baseline's y
    scale = (floor - _MARKER_SPACE) / peak
    step = width / len(data)
    bar = max(step * 0.8, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f"<title>{_text(title)}</title>",
        f"<desc>{_text(_describe(data, flags, usual, last_day))}</desc>",
    ]
    if usual is not None:
        top_y, bottom_y = floor - usual[1] * scale, floor - usual[0] * scale
        parts.append(f'<rect x="0" y="{_n(top_y)}" width="{width}" '
                     f'height="{_n(max(bottom_y - top_y, 1.0))}" fill="{BAND}"/>')
    for i, (value, spike) in enumerate(zip(data, flags, strict=True)):
        if value <= 0:
            continue
        x, h = i * step + (step - bar) / 2, max(value * scale, 1.0)
        parts.append(f'<rect x="{_n(x)}" y="{_n(floor - h)}" width="{_n(bar)}" '
                     f'height="{_n(h)}" fill="{SPIKE if spike else BAR}"/>')
    for i, spike in enumerate(flags):
        if spike:
            centre, tip = i * step + step / 2, floor - data[i] * scale - 1
            half = max(min(step / 2, 3.0), 1.5)
            points = (f"{_n(centre - half)},{_n(tip - 5)} {_n(centre + half)},{_n(tip - 5)} "
                      f"{_n(centre)},{_n(tip)}")
            parts.append(f'<polygon points="{points}" fill="{SPIKE}"/>')
    parts.append(f'<line x1="0" y1="{_n(floor + 0.5)}" x2="{width}" y2="{_n(floor + 0.5)}" '
                 f'stroke="{AXIS}" stroke-width="1"/>')
    parts.append("</svg>")
    return "".join(parts)


def _describe(data: list[float], flags: list[bool], usual: tuple[float, float] | None,
              last_day: date | None) -> str:
    """The chart in words, for screen readers and mail clients that drop SVG."""
    n = len(data)
    if last_day is not None:
        first = last_day - timedelta(days=n - 1)
        span = f"{n} days, {first.isoformat()} to {last_day.isoformat()}"
        labels = [(first + timedelta(days=i)).isoformat() for i in range(n)]
    else:
        span = f"{n} days"
        labels = [f"day {i + 1}" for i in range(n)]
    words = [f"{span}: peak {_n(max(data))}, last day {_n(data[-1])}"]
    if usual is not None:
        words.append(f"usual range {_n(usual[0])}-{_n(usual[1])}")
    marked = [label for label, spike in zip(labels, flags, strict=True) if spike]
    words.append("spikes on " + ", ".join(marked) if marked else "no spikes")
    return "; ".join(words) + "."


def _counts(values: Sequence[float], what: str) -> list[float]:
    """The values as floats, refusing negative, infinite or NaN ones."""
    out = [float(v) for v in values]
    if any(not math.isfinite(v) or v < 0 for v in out):
        raise ValueError(f"{what}: numbers of 0 or more")
    return out


def _n(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros: stable output."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text(text: str) -> str:
    """Text for an XML element: control characters XML forbids dropped, markup escaped."""
    return html.escape(_XML_UNSAFE.sub("", text), quote=True)
