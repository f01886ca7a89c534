"""Compiled matchers kept between runs (monitor.matchcache): the same mentions as a fresh
build, invalidated by any change of the files, safe against damaged or foreign files."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor import matchcache
from monitor.cachedir import cache_dir, read_private, write_private
from monitor.match import Matcher
from monitor.normalize import fold_text
from tests.support import ROOT, watchlist_from_yaml

LIST = """watchlist: t
entries:
  - {id: putin, kind: actor, name: Vladimir Putin, aliases: [Putin, Путин, 普京], country: RU}
  - {id: us, kind: country, name: United States, aliases: [US, U.S.], country: US}
  - {id: kim, kind: actor, name: Kim Jong Un, aliases: [Kim Jong-un]}
  - {id: z, kind: actor, name: Volodymyr Zelensky, aliases: [Zelensky]}
  - {id: t, kind: vessel, name: Success}
"""
TEXT = ("Putin met Kim Jong-un; the U.S. and Zelenskyy objected. Путин, 普京. The tanker "
        "Success sailed.")


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(folder))
    return folder


def mentions(matcher: Matcher, text: str = TEXT) -> list[tuple[str, str, int]]:
    return [(m.entry, m.text, m.start) for m in matcher.match(text)]


def test_a_cached_matcher_finds_what_a_fresh_one_finds(tmp_path: Path,
                                                       private_cache: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(LIST)
    fresh = Matcher([watchlist_from_yaml(LIST)])
    _, built = matchcache.load(path)
    files = sorted(p.name for p in private_cache.glob("*.pickle"))
    assert [f.split("-")[0] for f in files] == ["content", "files"]
    watchlists, cached = matchcache.load(path)  # now from the cache
    assert cached is not built and watchlists[0].name == "t"
    assert mentions(cached) == mentions(fresh) == mentions(built)
    assert mentions(cached)[:3] == [("putin", "Putin", 0), ("kim", "Kim Jong-un", 10),
                                    ("us", "U.S.", 27)]
    assert oct(private_cache.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in private_cache.iterdir())


def test_a_changed_file_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(LIST)
    before = matchcache.files_key(path)
    matchcache.load(path)
    path.write_text(LIST.replace("name: Volodymyr Zelensky, aliases: [Zelensky]",
                                 "name: Someone Else"))
    assert matchcache.files_key(path) != before
    _, matcher = matchcache.load(path)
    assert "z" not in [entry for entry, _, _ in mentions(matcher)]


def test_damaged_or_foreign_files_are_misses_not_errors(tmp_path: Path,
                                                        private_cache: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(LIST)
    matchcache.load(path)
    key = matchcache.files_key(path)
    assert key is not None
    cached = private_cache / f"{key}.pickle"
    data = cached.read_bytes()
    cached.write_bytes(data[: len(data) // 2])  # damaged
    assert mentions(matchcache.load(path)[1]) == mentions(Matcher([watchlist_from_yaml(LIST)]))
    # a pickle without the header naming its key is never unpickled
    cached.write_bytes(pickle.dumps(("not", "ours")))
    assert matchcache._read(key) is None
    # nor one that others may write
    matchcache.load(path)
    os.chmod(cached, 0o666)
    assert read_private(cached) is None and matchcache._read(key) is None


def test_a_folder_others_may_write_is_not_used(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(shared))
    assert cache_dir() is None
    path = tmp_path / "w.yaml"
    path.write_text(LIST)
    assert mentions(matchcache.load(path)[1])  # works, without a cache
    assert not list(shared.iterdir())
    monkeypatch.setenv("MONITOR_CACHE_DIR", "off")
    assert cache_dir() is None
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(link))
    assert cache_dir() is None


def test_write_private_is_whole_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "x"
    assert write_private(target, b"data") and target.read_bytes() == b"data"
    assert not write_private(tmp_path / "missing" / "x", b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["x"]


def test_only_the_most_recently_used_are_kept(tmp_path: Path, private_cache: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matchcache, "KEEP", 3)
    for i in range(4):
        path = tmp_path / f"w{i}.yaml"
        path.write_text(LIST.replace("watchlist: t", f"watchlist: t{i}"))
        matchcache.load(path)
    assert len(list(private_cache.glob("*.pickle"))) == 3


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Putin", "Vladimir", "Kim", "Jong", "Un", "Jong-un", "U.S.",
                                 "US", "the", ",", "Zelensky", "Success", "tanker", "\n"]),
                max_size=40).map(" ".join))
def test_short_texts_looked_up_find_what_the_automaton_finds(text: str) -> None:
    matcher = Matcher([watchlist_from_yaml(LIST)])
    hay = fold_text(text).hay
    looked_up = sorted(matcher._lookup(hay))
    matcher._ascii_automaton = None
    from monitor import match

    scanned = sorted(match.Matcher._scan_bytes(matcher, hay + " " * match._SHORT))
    assert looked_up == [found for found in scanned if found[2] <= len(hay)]
    # With the C folding, every text in ASCII is looked up so (monitor._fold.runs).
    assert sorted(matcher._scan(hay)) == looked_up
    assert sorted(matcher._scan(hay + " " * match._SHORT)) == looked_up


def test_the_seed_watchlists_load_through_the_cache() -> None:
    watchlists, matcher = matchcache.load(ROOT / "watchlists")
    assert watchlists and matcher.match("Putin")
