"""Rules in watchlist files: reading and checking them (`watchlist check`), their hits in
ingest and backfill (stored like entries' hits, kind "rule"), and `match --explain`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.backfill import Options, rematch_stored
from monitor.cli import main
from monitor.extract import Extracted
from monitor.ingest import Analyser, analyse
from monitor.query.rules import Rule
from monitor.store import Store
from monitor.store.queries import hit_rows
from monitor.watchlist import check_watchlists, load_watchlists, parse_watchlist

DESK = """\
watchlist: desk
entries:
  - id: putin
    kind: actor
    name: Vladimir Putin
    aliases: [Putin, Путин]
  - id: kim-jong-un
    kind: actor
    name: Kim Jong-un
  - id: russia
    kind: country
    name: Russia
    country: RU
  - id: north-korea
    kind: country
    name: North Korea
    country: KP
rules:
  - id: ru-dprk-arms
    name: Russia-North Korea arms cooperation
    query: (@putin OR @russia) NEAR/30 (@north-korea OR @kim-jong-un) AND (weapons OR munitions OR "military cooperation")
    priority: high
  - id: vietnam-not-tourism
    name: Vietnam but not tourism
    query: vietnam NOT tourism
"""  # noqa: E501


def write(tmp_path: Path, text: str, name: str = "desk.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- reading and checking --------------------------------------------------------------------


def test_rules_are_read_with_their_versions(tmp_path: Path) -> None:
    [desk] = load_watchlists(write(tmp_path, DESK))
    assert [r.id for r in desk.rules] == ["ru-dprk-arms", "vietnam-not-tourism"]
    rule = desk.rules[0]
    assert (rule.name, rule.priority, rule.line) == (
        "Russia-North Korea arms cooperation", "high", 21)
    assert desk.rules[1].priority == "normal"
    # the version is the query's meaning: spacing and case keep it, a new clause does not
    same = Rule("x", "x", "Vietnam   NOT  Tourism")
    assert same.version == desk.rules[1].version
    assert Rule("x", "x", "vietnam NOT tourism NOT beach").version != same.version


def test_a_file_of_rules_only(tmp_path: Path) -> None:
    write(tmp_path, DESK)
    write(tmp_path, "watchlist: mine\nrules:\n  - id: r\n    query: '@desk/putin NEAR/5 "
          "treaty'\n", "mine.yaml")
    loaded = load_watchlists(tmp_path)
    assert [(w.name, len(w.entries), len(w.rules)) for w in loaded] == [
        ("desk", 4, 2), ("mine", 0, 1)]


@pytest.mark.parametrize(("rules", "message"), [
    ("  - id: ru-dprk-arms\n    query: (@putin OR (@kim\n",
     "desk.yaml:20: rule 'ru-dprk-arms': col 17: expected ')' after \"(@kim\""),
    ("  - id: r\n    query: '@putin NEAR/0 x'\n",
     "desk.yaml:20: rule 'r': col 8: NEAR/0: the distance must be at least 1 word"),
    ("  - id: r\n    query: ''\n", "desk.yaml:20: rule 'r': query is missing or empty"),
    ("  - id: R_1\n    query: x\n", "desk.yaml:19: rule 'R_1': id 'R_1' is missing or not"),
    ("  - id: putin\n    query: x\n",
     "desk.yaml:20: rule 'putin': the id is already used by an entry of this file"),
    ("  - id: r\n    query: x\n  - id: r\n    query: y\n",
     "desk.yaml:22: rule 'r': the id is already used by rule on line 20"),
    ("  - id: r\n    qury: x\n", "desk.yaml:20: rule 'r': unknown field (did you mean "
     "'query'?)"),
    ("  - id: r\n    query: x\n    priority: urgent\n",
     "desk.yaml:21: rule 'r': priority 'urgent' must be normal or high"),
    ("  - just a string\n", "desk.yaml:18: rule #1 must be a mapping"),
])
def test_rule_problems_point_at_the_place(tmp_path: Path, rules: str, message: str) -> None:
    head = DESK.split("rules:")[0]
    _, problems = check_watchlists(write(tmp_path, head + "rules:\n" + rules))
    assert any(str(p).startswith(f"{tmp_path}/{message}") for p in problems), problems


@pytest.mark.parametrize(("query", "message"), [
    ("(@putin OR @rusia) NEAR/5 arms", "col 12: unknown entry '@rusia' (did you mean "
     "'@russia'?)"),
    ("@kim NEAR/5 arms", "col 1: unknown entry '@kim' (did you mean '@kim-jong-un'?)"),
    ("NOT x", "col 1: the query holds without any word or @entry, through NOT alone"),
    ("arms NOT arms", "can never match: 'arms' is both required and excluded"),
    ("kind:treatty", "unknown kind 'treatty' (did you mean 'treaty'?)"),
    ("kind:treaty arms", "no watchlist entry has kind 'treaty': kind:treaty can never match"),
    ("lang:en", "has only lang:, country: or feed:"),
])
def test_rules_checked_against_the_entries(tmp_path: Path, query: str, message: str) -> None:
    head = DESK.split("rules:")[0]
    path = write(tmp_path, head + f"rules:\n  - id: r\n    query: '{query}'\n")
    _, problems = check_watchlists(path)
    assert [str(p) for p in problems] == [f"{path}:20: rule 'r': " + str(p).split(
        "rule 'r': ", 1)[1] for p in problems]
    assert any(message in str(p) for p in problems), problems


def test_watchlist_check_prints_rule_problems_and_warnings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = DESK.replace("(@putin OR @russia)", "(@putin OR @rusia)")
    assert main(["watchlist", "check", str(write(tmp_path, bad))]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'desk.yaml'}:21: rule 'ru-dprk-arms': col 12: unknown entry " \
           "'@rusia' (did you mean '@russia'?)" in err
    warned = DESK.replace("vietnam NOT tourism", "vietnam and not tourism")
    assert main(["watchlist", "check", str(write(tmp_path, warned))]) == 0
    out, err = capsys.readouterr()
    assert "4 entries, 2 rules, 2 rule warnings" in out
    assert "warning: rule 'vietnam-not-tourism': col 9: 'and' is searched for as a word" in err


def test_rules_need_a_parsable_yaml_mapping() -> None:
    watchlist, problems = parse_watchlist("watchlist: w\nrules: x\n", "w.yaml")
    assert watchlist is None
    assert [str(p) for p in problems] == [
        "w.yaml:2: 'rules' must be a list of rules (id, name, query, priority)"]


# --- rule hits ---------------------------------------------------------------------------------

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
TITLE = "Putin meets Kim Jong-un"
TEXT = ("The two leaders spoke for hours in Pyongyang.\n"
        "Russia and North Korea agreed on military cooperation; munitions were not named.\n"
        "Vietnam watched closely.")
RULES_META = DESK + """  - id: in-english
    query: '@putin lang:en country:RU feed:"Desk feed"'
  - id: in-russian
    query: '@putin lang:ru'
"""


def test_rule_hits_are_stored_like_entries(tmp_path: Path) -> None:
    [desk] = load_watchlists(write(tmp_path, DESK))
    analyser = Analyser.create([desk])
    hits = {h.entry: h for h in analyser.hits(TITLE, TEXT)}
    assert set(hits) == {"putin", "kim-jong-un", "russia", "north-korea", "ru-dprk-arms",
                         "vietnam-not-tourism"}
    rule = hits["ru-dprk-arms"]
    assert (rule.kind, rule.watchlist, rule.priority, rule.name) == (
        "rule", "desk", "high", "Russia-North Korea arms cooperation")
    assert rule.entry_version == desk.rules[0].version
    assert rule.matched == "Putin"
    doc = f"{TITLE}\n\n{TEXT}"
    assert doc[rule.start:rule.end] == "Putin"
    marks = json.loads(rule.snippet_marks)
    shown = {rule.snippet[a:b] for a, b, *_ in marks}
    assert {"Putin", "Kim Jong-un"} <= shown
    assert all(m[2:] == ["desk", "ru-dprk-arms"] for m in marks)
    assert hits["vietnam-not-tourism"].snippet == "Vietnam watched closely."


def test_rules_compare_lang_country_and_feed(tmp_path: Path) -> None:
    [desk] = load_watchlists(write(tmp_path, RULES_META))
    analyser = Analyser.create([desk])

    def rules(**meta: object) -> set[str]:
        return {h.entry for h in analyser.hits(TITLE, TEXT, **meta)  # type: ignore[arg-type]
                if h.kind == "rule"}

    assert "in-english" in rules(lang="en-GB", country="RU", feeds=["Desk feed", "3"])
    assert "in-english" not in rules(lang="en", country="RU", feeds=["Other"])
    assert "in-russian" in rules(lang="ru")
    assert not {"in-english", "in-russian"} & rules()


def test_ingest_gives_rules_the_feeds_country_and_name(tmp_path: Path, store: Store) -> None:
    [desk] = load_watchlists(write(tmp_path, RULES_META))
    feed, _ = store.add_feed("https://desk.example/rss", NOW, name="Desk feed", country="RU")
    extracted = Extracted(text=TEXT, title=TITLE, author=None, published=None, language="en",
                          canonical_url=None, source="page")
    new = analyse(Analyser.create([desk]), extracted, url="https://desk.example/1",
                  feed_id=feed.id, item=None, key=None, page=None, feed=feed)
    store.add_article(new, NOW)
    rows = [h for h in hit_rows(store) if h["kind"] == "rule"]
    assert sorted(h["entry"] for h in rows) == ["in-english", "ru-dprk-arms",
                                                "vietnam-not-tourism"]
    assert {h["watchlist_version"] for h in rows if h["entry"] == "ru-dprk-arms"} == {
        desk.rules[0].version}


def test_backfill_evaluates_rules_over_stored_articles(tmp_path: Path, store: Store,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    plain = DESK.split("rules:")[0]
    [before] = load_watchlists(write(tmp_path, plain))
    feed, _ = store.add_feed("https://desk.example/rss", NOW, name="Desk feed", country="RU")
    extracted = Extracted(text=TEXT, title=TITLE, author=None, published=None, language="en",
                          canonical_url=None, source="page")
    store.add_article(analyse(Analyser.create([before]), extracted, url="https://d.example/1",
                              feed_id=feed.id, item=None, key=None, page=None), NOW)
    assert not [h for h in hit_rows(store) if h["kind"] == "rule"]
    [after] = load_watchlists(write(tmp_path, RULES_META))
    report = rematch_stored(store, [after], Options(workers=1), lambda: NOW)
    assert report.new_hits == 3
    rows = {h["entry"]: h for h in hit_rows(store) if h["kind"] == "rule"}
    assert set(rows) == {"ru-dprk-arms", "vietnam-not-tourism", "in-english"}
    assert {h["found_by"] for h in rows.values()} == {"backfill"}
    # a changed query is a new version: the backfill runs again (a new run key)
    changed = RULES_META.replace("vietnam NOT tourism", "vietnam NOT tourism NOT beach*")
    [again] = load_watchlists(write(tmp_path, changed))
    assert again.rules[1].version != after.rules[1].version
    assert rematch_stored(store, [again], Options(workers=1), lambda: NOW).read == 1


def test_match_explain_shows_each_rules_clauses(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, DESK)
    text = tmp_path / "a.txt"
    text.write_text(f"{TITLE}\n\n{TEXT}", encoding="utf-8")
    assert main(["match", "--watchlist", str(tmp_path), "--explain", str(text)]) == 0
    out = capsys.readouterr().out
    assert f"{text}: rule desk/ru-dprk-arms (Russia-North Korea arms cooperation) matches" in out
    assert "    ✓ (@putin OR @russia) NEAR/30 (@north-korea OR @kim-jong-un)  'Putin'@0, " in out
    assert "      ✗ munitions" not in out  # munitions is in the text
    assert "      ✓ munitions  'munitions'@" in out
    assert f"{text}: rule desk/vietnam-not-tourism (Vietnam but not tourism) matches" in out
    assert main(["match", "--watchlist", str(tmp_path), "--explain", "--json",
                 str(text)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(x["rule"], x["matched"]) for x in lines] == [("ru-dprk-arms", True),
                                                         ("vietnam-not-tourism", True)]
    assert lines[0]["explanation"]["children"][0]["spans"][0] == [0, 5]
