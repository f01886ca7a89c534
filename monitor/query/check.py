"""Static checks of a query against the watchlists (for ``watchlist check`` and search):
unknown or ambiguous @entries, unknown kinds, clauses that can never match or that would
match nearly everything, each with the column to fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.countries import english_country_names, foreign_country_names, is_country_code
from monitor.errors import Problem
from monitor.query.evaluate import Query
from monitor.query.nodes import (
    And,
    EntryRef,
    KindRef,
    Meta,
    Node,
    Not,
    Prefix,
    Term,
    needs_text,
    render,
    walk,
)
from monitor.query.parse import QueryError, parse, rule_problem
from monitor.watchlist import KINDS, Watchlist

OPERATOR_WORDS = ("and", "or", "not")


@dataclass(frozen=True, slots=True)
class EntryInfo:
    """What queries need of a watchlist entry: where it is, its kind, the names the
    matcher looks for (search looks them up in the full-text index)."""

    watchlist: str
    id: str
    kind: str
    names: tuple[str, ...] = ()


class EntryIndex:
    """The known entries, by qualified id, by id and by kind."""

    def __init__(self, entries: Iterable[EntryInfo]) -> None:
        self.entries = tuple(entries)
        self.by_id: dict[str, list[EntryInfo]] = {}
        self.by_kind: dict[str, list[EntryInfo]] = {}
        self.watchlists: dict[str, list[EntryInfo]] = {}
        for info in self.entries:
            self.by_id.setdefault(info.id, []).append(info)
            self.by_kind.setdefault(info.kind, []).append(info)
            self.watchlists.setdefault(info.watchlist, []).append(info)

    @classmethod
    def from_watchlists(cls, watchlists: Sequence[Watchlist]) -> EntryIndex:
        """Every entry with its names, a country's with its CLDR names as the matcher has."""
        out = []
        for watchlist in watchlists:
            for entry in watchlist.entries:
                names = list(entry.names)
                if entry.kind == "country" and entry.country:
                    names += english_country_names().get(entry.country, ())
                    names += foreign_country_names(entry.country)
                out.append(EntryInfo(watchlist.name, entry.id, entry.kind,
                                     tuple(dict.fromkeys(names))))
        return cls(out)

    def resolve(self, ref: EntryRef) -> list[EntryInfo]:
        """The entries a reference stands for (several for an id in several watchlists)."""
        if ref.watchlist is None:
            return self.by_id.get(ref.entry, [])
        return [i for i in self.watchlists.get(ref.watchlist, []) if i.id == ref.entry]


@dataclass(frozen=True, slots=True)
class QueryProblem:
    """A problem with a query, at a 1-based column.  ``code`` names the kind of problem
    (syntax, unknown-entry, unknown-watchlist, ambiguous-entry, unknown-kind, bad-country,
    never, only-not, no-words, short-prefix, operator-word); operator-word is a warning."""

    column: int
    message: str
    code: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"col {self.column}: {self.message}"


def check_query(query: Query | Node, entries: EntryIndex | None = None) -> list[QueryProblem]:
    """Every problem found in a parsed query, in column order.  Without ``entries`` the
    @entry references are not checked."""
    root = query.root if isinstance(query, Query) else query
    problems: list[QueryProblem] = []
    for node in walk(root):
        if isinstance(node, EntryRef) and entries is not None:
            problems += _entry_problems(node, entries)
        elif isinstance(node, KindRef):
            problems += _kind_problems(node, entries)
        elif isinstance(node, Meta) and node.name == "country" and not is_country_code(
                node.value):
            problems.append(QueryProblem(node.col, f"country:{node.value} is not an ISO 3166 "
                                         "country code (e.g. RU, KP, VN)", "bad-country"))
        elif isinstance(node, Prefix) and len(node.stem) == 1 and node.stem.isascii():
            problems.append(QueryProblem(node.col, f"'{render(node)}' matches almost every "
                                         "text: give at least 2 letters before '*'",
                                         "short-prefix"))
        elif isinstance(node, Term) and node.raw.lower() in OPERATOR_WORDS and not (
                node.raw.isupper()):
            problems.append(QueryProblem(
                node.col, f"'{node.raw}' is searched for as a word; the operator is "
                f"{node.raw.upper()}, in capitals (quote it to keep it a word)",
                "operator-word", "warning"))
        elif isinstance(node, And):
            problems += _contradictions(node)
    problems += _too_wide(root)
    return sorted(problems, key=lambda p: p.column)


def check_rule(path: str, line: int | None, rule_id: str, text: str,
               entries: EntryIndex | None) -> list[Problem]:
    """A rule's query checked, its problems as file problems (path:line: rule 'id': col N:
    ...); warnings included, marked as such."""
    try:
        root = parse(text)
    except QueryError as exc:
        return [rule_problem(path, line, rule_id, exc)]
    return [rule_problem(path, line, rule_id, str(p) if p.severity == "error"
                         else f"{p} (warning)") for p in check_query(root, entries)]


def _did_you_mean(key: str, allowed: Iterable[str]) -> str:
    """The closest spelling, else a name that has the key as one of its hyphened parts
    ('@kim' -> '@kim-jong-un')."""
    names = sorted(allowed)
    close = difflib.get_close_matches(key, names, n=1)
    if not close:
        head, _, last = key.rpartition("/")
        bare = last.lstrip("@")
        close = [n for n in names if n.startswith(head) and bare in
                 n.rpartition("/")[2].lstrip("@").split("-")][:1]
    return f" (did you mean '{close[0]}'?)" if close else ""


def _entry_problems(ref: EntryRef, entries: EntryIndex) -> list[QueryProblem]:
    if ref.watchlist is not None:
        if ref.watchlist not in entries.watchlists:
            return [QueryProblem(ref.col, f"no watchlist '{ref.watchlist}' in '{ref.label}'"
                                 + _did_you_mean(ref.watchlist, entries.watchlists),
                                 "unknown-watchlist")]
        if not entries.resolve(ref):
            ids = [f"@{ref.watchlist}/{i.id}" for i in entries.watchlists[ref.watchlist]]
            return [QueryProblem(ref.col, f"no entry '{ref.entry}' in watchlist "
                                 f"'{ref.watchlist}'" + _did_you_mean(ref.label, ids),
                                 "unknown-entry")]
        return []
    found = entries.resolve(ref)
    if not found:
        ids = [f"@{i}" for i in entries.by_id]
        return [QueryProblem(ref.col, f"unknown entry '{ref.label}'"
                             + _did_you_mean(ref.label, ids), "unknown-entry")]
    if len({i.watchlist for i in found}) > 1:
        names = sorted({i.watchlist for i in found})
        return [QueryProblem(ref.col, f"'{ref.label}' is in watchlists {', '.join(names)}; "
                             "say which: " + " or ".join(f"@{w}/{ref.entry}" for w in names),
                             "ambiguous-entry")]
    return []


def _kind_problems(ref: KindRef, entries: EntryIndex | None) -> list[QueryProblem]:
    if ref.kind not in KINDS:
        return [QueryProblem(ref.col, f"unknown kind '{ref.kind}'"
                             + _did_you_mean(ref.kind, KINDS) + "; the kinds are "
                             + ", ".join(KINDS), "unknown-kind")]
    if entries is not None and ref.kind not in entries.by_kind:
        return [QueryProblem(ref.col, f"no watchlist entry has kind '{ref.kind}': "
                             f"kind:{ref.kind} can never match", "never")]
    return []


def _contradictions(node: And) -> list[QueryProblem]:
    """Clauses of one AND that cannot all hold: x AND NOT x, lang:en AND lang:ru."""
    out = []
    for child in node.children:
        if isinstance(child, Not) and child.child in node.children:
            out.append(QueryProblem(child.col, f"can never match: '{render(child.child)}' "
                                    "is both required and excluded", "never"))
    metas = [c for c in node.children if isinstance(c, Meta) and c.name != "feed"]
    for i, a in enumerate(metas):
        for b in metas[i + 1:]:
            if a.name == b.name and not _compatible(a.value, b.value):
                out.append(QueryProblem(b.col, f"can never match: an article has one "
                                        f"{a.name}, not both {a.value} and {b.value}", "never"))
    return out


def _compatible(a: str, b: str) -> bool:
    """Whether one article can satisfy both (lang:en and lang:en-gb can)."""
    return a == b or a.startswith(b + "-") or b.startswith(a + "-")


def _too_wide(root: Node) -> list[QueryProblem]:
    """A query that holds without any word or mention: only NOT clauses, or metadata."""
    if needs_text(root):
        return []
    if any(isinstance(n, Not) for n in walk(root)):
        return [QueryProblem(root.col or 1, "the query holds without any word or @entry, "
                             "through NOT alone: it matches every article that lacks what NOT "
                             "excludes; add what to look for", "only-not")]
    return [QueryProblem(root.col or 1, "the query has only lang:, country: or feed: and no "
                         "word or @entry: it matches every such article; add what to look for",
                         "no-words")]
