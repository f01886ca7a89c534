"""The one validating reader, as monitor.yaml and the watchlists both use it."""

from __future__ import annotations

from pathlib import Path

import pytest

import monitor.matchcache as matchcache
from monitor.config import ConfigError, parse_config
from monitor.config.reader import LineMap, Reader, parse_yaml
from monitor.watchlist import parse_watchlist


def _messages(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "m.yaml", env={})
    return [str(p) for p in info.value.problems]


def test_a_key_given_twice_is_reported_at_each_repeat() -> None:
    text = "fetch:\n  timeout: 5s\n  timeout: 6s\n  timeout: 7s\n"
    assert _messages(text) == [
        "m.yaml:3: entry 'fetch': field 'timeout': 'timeout' is given twice",
        "m.yaml:4: entry 'fetch': field 'timeout': 'timeout' is given twice",
    ]


def test_the_file_names_its_keys_in_its_own_words() -> None:
    assert "unknown key" in _messages("fetch: {colour: 1}\n")[0]
    _, problems = parse_watchlist("watchlist: w\nentries:\n  - {id: a, kind: actor, name: A,"
                                  " zzz: 1}\n", "w.yaml")
    assert [str(p) for p in problems] == [
        "w.yaml:3: entry 'a': field 'zzz': unknown field; allowed: id, kind, name, aliases, "
        "country, case_sensitive, fuzzy, exclude, requires, priority, weak_aliases, context"]


def test_a_key_that_is_not_text_keeps_its_line() -> None:
    data, problems = parse_yaml("a: 1\n\n3: x\n", "f.yaml")
    assert not problems and isinstance(data, LineMap)
    reader = Reader("f.yaml")
    reader.keys(data, ("a",), None)
    assert [str(p) for p in reader.problems] == ["f.yaml:3: field '3': unknown key; allowed: a"]


def test_a_change_to_the_reader_is_a_matcher_cache_miss() -> None:
    """The watchlists are read with the reader's YAML loader (its booleans, its lines), so
    the compiled-matcher cache's key covers its source like watchlist.py's."""
    here = Path(matchcache.__file__).parent
    assert "config/reader.py" in matchcache._CODE
    assert all((here / name).is_file() for name in matchcache._CODE)
