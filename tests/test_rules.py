"""Rules in watchlist files: reading and checking them (`watchlist check`), their hits in
ingest and backfill (stored like entries' hits, kind "rule"), and `match --explain`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.query.rules import Rule
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
    assert json.dumps  # keep the import used by later sections
