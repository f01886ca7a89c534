from __future__ import annotations

from pathlib import Path

import pytest

from monitor.match import Matcher
from monitor.watchlist import Watchlist, load_watchlists, parse_watchlist

ROOT = Path(__file__).resolve().parent.parent


def watchlist_from_yaml(text: str, path: str = "test.yaml") -> Watchlist:
    watchlist, problems = parse_watchlist(text, path)
    assert not problems, problems
    assert watchlist is not None
    return watchlist


@pytest.fixture(scope="session")
def seed_watchlists() -> list[Watchlist]:
    return load_watchlists(ROOT / "watchlists")


@pytest.fixture(scope="session")
def seed_matcher(seed_watchlists: list[Watchlist]) -> Matcher:
    return Matcher(seed_watchlists)


@pytest.fixture(scope="session")
def seed_text() -> str:
    return next((ROOT / "seeds").glob("*.txt")).read_text(encoding="utf-8")
