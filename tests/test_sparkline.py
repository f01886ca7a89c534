"""trendview.py: the Unicode sparkline, its spike marks and the inline SVG chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from monitor.trendview import BLOCKS, SPIKE, sparkline, spike_marks, svg_chart

NS = {"svg": "http://www.w3.org/2000/svg"}


def test_sparkline_scales_from_zero_to_the_peak() -> None:
    assert sparkline([0, 7, 14, 21, 28, 35, 42, 49]) == "▁▂▃▄▅▆▇█"
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([]) == ""
    assert sparkline([5]) == "█"


def test_a_small_count_never_looks_like_none() -> None:
    assert sparkline([0, 1, 100]) == "▁▂█"


def test_a_shared_top_puts_lines_on_one_scale() -> None:
    assert sparkline([1, 2], top=2) == "▅█"
    assert sparkline([1, 2], top=14) == "▂▂"
    assert sparkline([20], top=10) == "█"  # above the shared top: clipped, not an error
    assert set(sparkline(list(range(50)))) <= set(BLOCKS)


@pytest.mark.parametrize("bad", [[-1], [float("nan")], [float("inf")]])
def test_sparkline_refuses_what_is_not_a_count(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="values"):
        sparkline(bad)


def test_spike_marks_line_up_under_the_sparkline() -> None:
    counts, spikes = [1, 2, 9, 1, 8, 1], [False, False, True, False, True, False]
    line, marks = sparkline(counts), spike_marks(spikes)
    assert marks == "  ^ ^"
    assert [i for i, c in enumerate(marks) if c == "^"] == [2, 4]
    assert len(line) == len(counts)
    assert spike_marks([False, False]) == ""
    assert spike_marks([True], mark="*") == "*"
    with pytest.raises(ValueError, match="mark"):
        spike_marks([True], mark="ab")
    with pytest.raises(ValueError, match="mark"):
        spike_marks([True], mark=" ")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def test_svg_has_a_fixed_size_a_title_and_a_description() -> None:
    svg = svg_chart([0, 2, 3, 12, 1], title="Sergei Shoigu", spikes=[False] * 3 + [True, False],
                    usual=(0, 3), last_day=date(2025, 3, 3), width=200, height=40)
    root = parse(svg)
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("200", "40",
                                                                            "0 0 200 40")
    assert root.get("role") == "img"
    assert root[0].tag == "{http://www.w3.org/2000/svg}title"
    assert root[0].text == "Sergei Shoigu"
    desc = root.find("svg:desc", NS)
    assert desc is not None and desc.text == (
        "5 days, 2025-02-27 to 2025-03-03: peak 12, last day 1; usual range 0-3; "
        "spikes on 2025-03-02.")


def test_svg_draws_a_bar_per_non_zero_day_and_marks_spikes_beyond_colour() -> None:
    root = parse(svg_chart([0, 2, 3, 12, 1], title="t", spikes=[False] * 3 + [True, False],
                           usual=(0, 3)))
    rects = root.findall("svg:rect", NS)
    band, bars = rects[0], rects[1:]
    assert band.get("fill") != SPIKE and float(band.get("width", 0)) == 240
    assert len(bars) == 4  # the zero day has no bar
    assert [b.get("fill") == SPIKE for b in bars] == [False, False, True, False]
    heights = [float(b.get("height", 0)) for b in bars]
    assert heights[2] == max(heights) and heights == sorted(heights[:3]) + heights[3:]
    triangles = root.findall("svg:polygon", NS)
    assert len(triangles) == 1 and triangles[0].get("fill") == SPIKE
    assert all(0 <= float(b.get("y", 0)) <= 48 for b in bars)
    tip_ys = [float(p.split(",")[1]) for p in triangles[0].get("points", "").split()]
    assert min(tip_ys) >= 0


def test_svg_escapes_text_and_carries_no_script() -> None:
    hostile = "</title><script>alert(1)</script> & \"quotes\" 'too' \x00\x1b"
    svg = svg_chart([1, 2], title=hostile)
    root = parse(svg)
    assert root[0].text == "</title><script>alert(1)</script> & \"quotes\" 'too' "
    assert "<script" not in svg and "\x00" not in svg and "\x1b" not in svg
    lowered = svg.lower()
    assert not any(bad in lowered for bad in ("onload", "href", "<style", "javascript:"))


def test_svg_is_deterministic_and_its_numbers_are_short() -> None:
    args = ([3, 1, 4, 1, 5, 9, 2, 6], "pi")
    first = svg_chart(args[0], title=args[1], width=97, height=31)
    assert first == svg_chart(args[0], title=args[1], width=97, height=31)
    numbers = [n for attr in ("x", "y", "width", "height")
               for n in (el.get(attr) for el in parse(first).iter()) if n]
    assert all(len(n.split(".")[-1]) <= 2 or "." not in n for n in numbers)


def test_svg_without_spikes_or_dates_says_so() -> None:
    desc = parse(svg_chart([0, 0, 0], title="quiet")).find("svg:desc", NS)
    assert desc is not None and desc.text == "3 days: peak 0, last day 0; no spikes."


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"counts": []}, "counts"),
    ({"counts": [1, -2]}, "counts"),
    ({"counts": [1, 2], "spikes": [True]}, "spikes"),
    ({"counts": [1], "width": 8}, "size"),
    ({"counts": [1], "usual": (3, 1)}, "usual"),
])
def test_svg_refuses_bad_input_with_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        svg_chart(title="t", **kwargs)  # type: ignore[arg-type]
