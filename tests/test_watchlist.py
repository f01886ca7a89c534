"""The watchlist format and `monitor watchlist check`: every problem, with file, line, entry
and field."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import WatchlistError
from monitor.watchlist import (
    DEFAULT_FUZZY,
    check_watchlists,
    load_watchlists,
    parse_watchlist,
    shared_aliases,
)
from tests.support import examples


def problems(text: str) -> list[str]:
    watchlist, found = parse_watchlist(text, "w.yaml")
    assert (watchlist is None) == bool(found)
    return [str(p) for p in found]


def test_full_format_loads() -> None:
    watchlist, found = parse_watchlist("""
watchlist: russia-asia-diplomacy
description: test
defaults: {fuzzy: 90}
entries:
  - id: putin
    kind: actor
    name: Vladimir Putin
    aliases: [Putin]
    country: RU
    case_sensitive: false
    fuzzy: 85
    exclude: ["Michael Jordan"]
    requires: [Kremlin, Moscow]
    priority: high
  - {id: no, kind: country, name: Norway, country: NO}
  - {id: x, kind: topic, name: sanctions}
""", "w.yaml")
    assert not found and watchlist is not None
    putin, norway, topic = watchlist.entries
    assert putin.fuzzy == 85 and putin.priority == "high"
    assert putin.requires == ("Kremlin", "Moscow")
    assert putin.line == 6
    assert norway.country == "NO"  # YAML 1.1 would have read NO as false
    assert topic.fuzzy == 90  # the file's default
    assert len(putin.version) == 16 and putin.version != topic.version


def test_every_problem_is_reported_with_line_entry_and_field() -> None:
    found = problems("""watchlist: t
entries:
  - id: putin
    kind: actor
    name: Vladimir Putin
  - id: putin
    kind: actor
    name: Putin again
  - id: Bad_Id
    kind: person
    name: ""
  - id: ru
    kind: country
    name: Russia
    country: XX
  - id: p2
    kind: actor
    name: V. Putin
    aliases: [Vladimir Putin]
    alias: [typo]
    fuzzy: 150
    priority: urgent
""")
    text = "\n".join(found)
    assert "w.yaml:6: entry 'putin': field 'id': duplicate id (first used on line 3)" in text
    assert "w.yaml:9: entry 'Bad_Id': field 'id'" in text
    assert "w.yaml:10: entry 'Bad_Id': field 'kind': kind 'person' is unknown" in text
    assert "w.yaml:11: entry 'Bad_Id': field 'name': name is missing or empty" in text
    assert "w.yaml:15: entry 'ru': field 'country': 'XX' is not an ISO 3166" in text
    assert "w.yaml:20: entry 'p2': field 'alias': unknown field (did you mean 'aliases'?)" in text
    assert "w.yaml:21: entry 'p2': field 'fuzzy'" in text
    assert "w.yaml:22: entry 'p2': field 'priority'" in text
    # a shared alias is a warning now (see test_shared_aliases_are_warnings), not a problem
    assert "also a name of entry" not in text


def warnings(text: str) -> list[str]:
    watchlist, found = parse_watchlist(text, "w.yaml")
    assert watchlist is not None and not found, found
    return [str(p) for p in shared_aliases(watchlist)]


def test_alias_shared_after_folding_is_a_warning() -> None:
    found = warnings("""watchlist: t
entries:
  - {id: a, kind: actor, name: Tô Lâm}
  - {id: b, kind: actor, name: Someone, aliases: [TO LAM]}
""")
    assert len(found) == 1 and "'TO LAM' is also a name of entry 'a'" in found[0]
    assert found[0].startswith("w.yaml:4: entry 'b': field 'aliases': warning: ")


def test_shared_aliases_are_warnings_dotted_capitals_included() -> None:
    found = warnings("""watchlist: t
entries:
  - {id: us, kind: country, name: United States, aliases: [US], country: US}
  - {id: usa, kind: country, name: USA, aliases: [U.S.]}
  - {id: ok, kind: actor, name: Somebody, aliases: [U.S., US, u.s.]}
  - {id: uss, kind: other, name: U. S. S.}
""")
    assert len(found) == 2, found
    assert "entry 'usa': field 'aliases': warning: alias 'U.S.' is also a name of entry 'us'" \
        in found[0]
    assert "entry 'ok'" in found[1]


def test_new_kinds_and_fields() -> None:
    watchlist, found = parse_watchlist("""watchlist: t
entries:
  - {id: v, kind: vessel, name: Success, context: [tanker, IMO 9187629], country: PA}
  - {id: a, kind: aircraft, name: EP-GOM, context: []}
  - {id: p, kind: actor, name: Vladimir Putin, weak_aliases: [Vova, "Vladimir V."]}
  - {id: q, kind: actor, name: Q, weak_aliases: [3]}
""", "w.yaml")
    assert watchlist is None
    assert [str(p) for p in found] == [
        "w.yaml:6: entry 'q': field 'weak_aliases': 3 is not a non-empty string"]
    watchlist, found = parse_watchlist("""watchlist: t
entries:
  - {id: v, kind: vessel, name: Success, context: [tanker, IMO 9187629], country: PA}
  - {id: a, kind: aircraft, name: EP-GOM, context: []}
  - {id: p, kind: actor, name: Vladimir Putin, weak_aliases: [Vova, "Vladimir V."]}
""", "w.yaml")
    assert watchlist is not None and not found
    v, a, p = watchlist.entries
    assert v.context == ("tanker", "IMO 9187629") and a.context == () and p.context is None
    assert p.weak_aliases == ("Vova", "Vladimir V.")


def test_versions_do_not_change_for_entries_without_the_new_fields() -> None:
    from monitor.watchlist import Entry

    # computed before weak_aliases and context existed: stored hits keep their versions
    assert Entry("putin", "actor", "Vladimir Putin", ("Putin",), "RU").version == \
        "3e7f9eb86328e452"
    assert Entry("putin", "actor", "Vladimir Putin", ("Putin",), "RU",
                 weak_aliases=("Vova",)).version != "3e7f9eb86328e452"


def test_structural_problems() -> None:
    assert "w.yaml:1: a watchlist must be a mapping" in problems("- a\n- b\n")[0]
    assert "'entries' must be a non-empty list" in "\n".join(problems("watchlist: t\n"))
    assert "'watchlist'" in "\n".join(problems("entries: [{id: a, kind: actor, name: A}]\n"))
    assert "entry #1 must be a mapping" in "\n".join(problems("watchlist: t\nentries: [x]\n"))
    assert "not valid YAML" in problems("watchlist: [unclosed\n")[0]
    dup = problems("watchlist: t\nwatchlist: u\nentries: [{id: a, kind: actor, name: A}]\n")
    assert "w.yaml:2: field 'watchlist': 'watchlist' is given twice" in dup[0]
    assert "has no letters or digits" in "\n".join(
        problems("watchlist: t\nentries: [{id: a, kind: actor, name: A, aliases: ['!!']}]\n"))


def test_folder_checks_every_file_and_unique_names(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("watchlist: w\nentries: [{id: a, kind: actor, name: A}]\n")
    (tmp_path / "b.yml").write_text("watchlist: w\nentries: [{id: b, kind: actor, name: B}]\n")
    (tmp_path / "c.yaml").write_text("watchlist: c\nentries: [{id: c, kind: nope, name: C}]\n")
    (tmp_path / "notes.txt").write_text("ignored")
    loaded, found = check_watchlists(tmp_path)
    assert [w.name for w in loaded] == ["w"]
    text = "\n".join(map(str, found))
    assert "b.yml:1: field 'watchlist': watchlist name 'w' is already used by" in text
    assert "c.yaml:2: entry 'c': field 'kind'" in text
    try:
        load_watchlists(tmp_path)
    except WatchlistError as exc:
        assert len(exc.problems) == 2 and "2 watchlist problems" in str(exc)
    else:
        raise AssertionError("expected WatchlistError")


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    assert "no such file or folder" in str(check_watchlists(tmp_path / "nope")[1][0])
    assert "holds no .yaml" in str(check_watchlists(tmp_path)[1][0])


def test_fuzzy_values() -> None:
    wl, _ = parse_watchlist("""watchlist: t
entries:
  - {id: a, kind: actor, name: A}
  - {id: b, kind: actor, name: B, fuzzy: false}
  - {id: c, kind: actor, name: C, fuzzy: true}
""", "w.yaml")
    assert wl is not None
    assert [e.fuzzy for e in wl.entries] == [DEFAULT_FUZZY, None, DEFAULT_FUZZY]


def test_seed_watchlists_are_valid(seed_watchlists: list) -> None:  # type: ignore[type-arg]
    assert seed_watchlists and all(w.entries for w in seed_watchlists)


@settings(max_examples=examples(200), deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_problems_not_exceptions(text: str) -> None:
    watchlist, found = parse_watchlist(text, "w.yaml")
    assert watchlist is not None or found


@settings(max_examples=examples(200), deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["watchlist", "entries", "id", "kind", "name", "aliases",
                                       "country", "fuzzy", "exclude", "requires", "x"]),
                      children, max_size=5),
    max_leaves=20,
))
def test_any_yaml_structure_gives_problems_not_exceptions(data: object) -> None:
    import yaml

    watchlist, found = parse_watchlist(yaml.safe_dump(data), "w.yaml")
    assert watchlist is not None or found


def test_a_list_or_mapping_as_a_key_is_a_problem_not_an_exception() -> None:
    # Found by fuzzing: `[a]: 1` and `? {a: 1}` made the loader raise TypeError.
    for text in ("[a]: 1\n", "entries:\n  - ? {a: 1}\n    : x\n"):
        watchlist, found = parse_watchlist(text, "w.yaml")
        assert watchlist is None and "a key must be a name" in str(found[0])
