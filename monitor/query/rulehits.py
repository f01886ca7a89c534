"""Rules' hits: every rule of the watchlists evaluated over an article at once (QuerySet),
each rule that holds made a hit like an entry's (the same columns, kind "rule").

A rule's hit is stored under (watchlist, rule id) with the rule's version (a hash of its
query) as ``entry_version``; ``matched`` is the text of its first satisfying span, the
snippet the sentence(s) around the first spans, and ``snippet_marks`` every satisfying span
shown in it (so a digest highlights what made the rule hold).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.query.document import Document
from monitor.query.evaluate import Query, parse_query
from monitor.query.ruleset import QuerySet
from monitor.snippets import LIMIT, excerpt
from monitor.store.rows import NewHit

if TYPE_CHECKING:
    from monitor.match import Mention
    from monitor.query.rules import Rule
    from monitor.watchlist import Watchlist

RULE_KIND = "rule"
Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Saved:
    watchlist: str
    rule: Rule
    version: str


class RuleBook:
    """The rules of some watchlists, compiled together (built once per process)."""

    def __init__(self, watchlists: Sequence[Watchlist]) -> None:
        saved: list[_Saved] = []
        queries: list[Query] = []
        for watchlist in watchlists:
            for rule in getattr(watchlist, "rules", ()):
                saved.append(_Saved(watchlist.name, rule, rule.version))
                queries.append(parse_query(rule.query))
        self.saved = tuple(saved)
        self.rules = QuerySet(queries)
        self._index = {id(q): i for i, q in enumerate(self.rules.queries)}

    def __bool__(self) -> bool:
        return bool(self.saved)

    @property
    def versions(self) -> dict[tuple[str, str], str]:
        return {(s.watchlist, s.rule.id): s.version for s in self.saved}

    def hits(self, text: str, title_end: int, mentions: Sequence[Mention], *,
             lang: str | None = None, country: str | None = None,
             feeds: Iterable[str] = ()) -> list[NewHit]:
        """The hits of the rules that hold for a document (``text``: title, blank line,
        text, as matched; ``mentions``: what the matcher found in it)."""
        if not self.saved:
            return []
        doc = Document(text, title_end=title_end, mentions=mentions, lang=lang,
                       country=country, feeds=feeds)
        out = []
        for query, result in self.rules.matching(doc):
            saved = self.saved[self._index[id(query)]]
            out.append(rule_hit(saved.watchlist, saved.rule, saved.version, text,
                                list(result.spans)))
        return out


def shown_spans(spans: Sequence[Span]) -> tuple[int, int]:
    """The stretch a snippet shows: from the first span to the last one that still fits
    in a snippet's length after it (a rule's spans may lie paragraphs apart)."""
    start = spans[0][0]
    end = max(e for s, e in spans if e - start <= LIMIT * 2 // 3 or s == start)
    return start, end


def rule_hit(watchlist: str, rule: Rule, version: str, text: str,
             spans: list[Span]) -> NewHit:
    """A rule's hit as the store's hit columns (story and article ids aside)."""
    if not spans:  # a rule that holds without a place in the text (a title: scope...)
        spans = [(0, 0)]
    start, end = shown_spans(spans)
    snippet, places = excerpt(text, start, end, spans)
    marks = [[*place, watchlist, rule.id] for place in places if place is not None]
    first = spans[0]
    return NewHit(
        watchlist=watchlist, entry=rule.id, kind=RULE_KIND, name=rule.name,
        matched=" ".join(text[first[0]:first[1]].split()), alias=rule.query,
        score=100.0, start=first[0], end=first[1], snippet=snippet,
        snippet_marks=json.dumps(marks), priority=rule.priority, entry_version=version)
