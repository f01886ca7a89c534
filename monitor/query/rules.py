"""Rules: saved queries in watchlist files (``rules:``), read and checked.

    rules:
      - id: ru-dprk-arms
        name: Russia-North Korea arms cooperation
        query: (@putin OR @russia) NEAR/30 (@north-korea OR @kim-jong-un) AND weapons
        priority: high        # normal | high (alerts at once, like entries)

A rule's hit is stored like an entry's, under its watchlist and its id (so a rule id must
not be an entry id of the same file); its version is a hash of the query's canonical form,
so a changed query is a new version and an unchanged one keeps its hits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from monitor.errors import Problem, did_you_mean
from monitor.query.parse import QueryError, parse, rule_problem

if TYPE_CHECKING:
    from monitor.watchlist import Watchlist

RULE_KEYS = ("id", "name", "query", "priority")
PRIORITIES = ("normal", "high")
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class Rule:
    """One saved query of a watchlist file."""

    id: str
    name: str
    query: str
    priority: str = "normal"
    line: int | None = field(default=None, compare=False)  # the line of its query

    @property
    def version(self) -> str:
        """A hash of what the rule matches: its query in canonical form (same meaning, same
        text), so rewording the spacing or case keeps the version, a new clause does not."""
        from monitor.query.nodes import render

        canonical = render(parse(self.query), folded=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _lines(data: Any) -> tuple[int, dict[Any, int]]:
    """A YAML mapping's own line and its keys' lines (watchlist._Map keeps them)."""
    return getattr(data, "line", 0) or 0, getattr(data, "key_lines", {}) or {}


def read_rules(raw: Any, line: int | None, path: str,
               taken: Sequence[str] = ()) -> tuple[tuple[Rule, ...], list[Problem]]:
    """The ``rules:`` list of a watchlist file, validated: each a mapping with an id
    ([a-z0-9-]+, unique, not one of the file's entry ids in ``taken``), an optional name,
    a query that parses, a priority.  Problems point at the line and column to fix."""
    if raw is None:
        return (), []
    if not isinstance(raw, list):
        return (), [Problem(path, line, "'rules' must be a list of rules (id, name, query, "
                            "priority)")]
    problems: list[Problem] = []
    rules: list[Rule] = []
    seen: dict[str, int | None] = {}
    entry_ids = set(taken)
    for index, item in enumerate(raw):
        rule = _rule(item, index, line, path, problems)
        if rule is None:
            continue
        if rule.id in seen or rule.id in entry_ids:
            first = (f"rule on line {seen[rule.id]}" if rule.id in seen
                     else "an entry of this file")
            problems.append(Problem(path, rule.line, f"rule '{rule.id}': the id is already "
                                    f"used by {first}; a rule's hits are stored under its id"))
            continue
        seen[rule.id] = rule.line
        rules.append(rule)
    return tuple(rules), problems


def _rule(item: Any, index: int, line: int | None, path: str,
          problems: list[Problem]) -> Rule | None:
    if not isinstance(item, dict):
        problems.append(Problem(path, line, f"rule #{index + 1} must be a mapping (id: ..., "
                                "query: ...)"))
        return None
    own, lines = _lines(item)
    raw_id = item.get("id")
    label = raw_id if isinstance(raw_id, str) and raw_id else f"#{index + 1}"
    before = len(problems)
    for key in item:
        if key not in RULE_KEYS:
            problems.append(Problem(path, lines.get(key, own), f"rule '{label}': unknown "
                                    f"field{did_you_mean(key, RULE_KEYS)}; allowed: "
                                    f"{', '.join(RULE_KEYS)}"))
    if not isinstance(raw_id, str) or not _ID.fullmatch(raw_id):
        problems.append(Problem(path, lines.get("id", own), f"rule '{label}': id {raw_id!r} "
                                "is missing or not of the form [a-z0-9-]+"))
    name = item.get("name", raw_id)
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(path, lines.get("name", own), f"rule '{label}': name must be "
                                "a non-empty text"))
    priority = item.get("priority", "normal")
    if priority not in PRIORITIES:
        problems.append(Problem(path, lines.get("priority", own), f"rule '{label}': "
                                f"priority {priority!r} must be normal or high"))
    query = item.get("query")
    query_line = lines.get("query", own) or None
    if not isinstance(query, str) or not query.strip():
        problems.append(Problem(path, query_line, f"rule '{label}': query is missing or "
                                "empty"))
    else:
        try:
            parse(query)
        except QueryError as exc:
            problems.append(rule_problem(path, query_line, label, exc))
    if len(problems) > before:
        return None
    return Rule(str(raw_id), str(name).strip(), str(query).strip(), str(priority), query_line)


def check_rules(watchlists: Sequence[Watchlist]) -> tuple[list[Problem], list[Problem]]:
    """Every rule checked against the entries of all the watchlists: (errors, warnings).
    Errors: unknown or ambiguous @entries (with did-you-mean), unknown kinds, rules that can
    never match or that would match every article (``NOT x`` alone); warnings: a lower-case
    and/or/not searched for as a word."""
    from monitor.query.check import EntryIndex, check_query

    if not any(getattr(w, "rules", ()) for w in watchlists):
        return [], []
    entries = EntryIndex.from_watchlists(watchlists)
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for watchlist in watchlists:
        for rule in watchlist.rules:
            for problem in check_query(parse(rule.query), entries):
                found = rule_problem(watchlist.path, rule.line, rule.id, str(problem))
                if problem.severity == "error":
                    errors.append(found)
                else:
                    warnings.append(Problem(found.path, found.line,
                                            f"warning: {found.message}"))
    return errors, warnings
