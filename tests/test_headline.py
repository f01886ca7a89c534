"""Headlines without site names and kickers (monitor/headline.py)."""

from __future__ import annotations

import pytest

from monitor.headline import clean


@pytest.mark.parametrize(("title", "names", "url", "expected"), [
    ("Putin lands in Pyongyang | Local Wire", ["Local Wire"], None, "Putin lands in Pyongyang"),
    ("BBC News - Putin lands in Pyongyang", [], "https://www.bbc.co.uk/news/1",
     "Putin lands in Pyongyang"),
    ("Putin lands in Pyongyang - waz.de", [], "https://www.waz.de/politik/x",
     "Putin lands in Pyongyang"),
    ("Putin visits Hanoi - The Guardian", ["The Guardian"], "https://www.theguardian.com/a",
     "Putin visits Hanoi"),
    ("Russia: Putin visits Vietnam | DW | 20.06.2024", ["DW"], "https://www.dw.com/en/x",
     "Russia: Putin visits Vietnam"),
    ("UPDATE 2-Putin lands in Pyongyang", [], None, "Putin lands in Pyongyang"),
    ("LIVE: Putin in Pyongyang", [], None, "Putin in Pyongyang"),
    ("Ukraine war: Kyiv hit by drones - BBC News", [], "https://www.bbc.com/news/x",
     "Ukraine war: Kyiv hit by drones"),
])
def test_site_names_dates_and_kickers_go(title: str, names: list[str], url: str | None,
                                          expected: str) -> None:
    assert clean(title, site_names=names, url=url) == expected


def test_the_headlines_own_words_stay() -> None:
    # a dash inside the headline, a segment that is not the site, a site name alone
    assert clean("Kim - Putin summit: what we know", url="https://news.example/a") == \
        "Kim - Putin summit: what we know"
    assert clean("Local Wire", site_names=["Local Wire"]) == "Local Wire"
    assert clean("  Putin \n in   Hanoi ") == "Putin in Hanoi"
    assert clean("") == ""
    long_tail = "Putin in Hanoi - a visit that tells Washington more than Moscow would like"
    assert clean(long_tail, site_names=["Moscow"]) == long_tail
