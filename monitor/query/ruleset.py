"""Many queries over one document for little more than one: the rules of the watchlists.

Each query has a necessary condition, a group of things of which the document must hold at
least one (an @entry or kind: the matcher found, or a word): ``(@putin OR @russia) NEAR/30
(arms OR weapons)`` needs @putin or @russia.  The queries are indexed by it, so for a
document only the queries whose group it meets are tested (mentions first: they are known
without reading the text).  Every word, phrase and prefix of every query goes into one
Aho-Corasick automaton, and the folded text is scanned once, when a query needs words.

Most of the cost left is folding and scanning the text, which the matcher does already:
pass the matcher's ``Folded`` to the Document (``folded=``), and let its scan look for
``patterns`` too (``accept``), and the rules cost little more than their own tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import ahocorasick_rs

from monitor.query.document import Document, WordKey, needle
from monitor.query.evaluate import Evaluation, Query, mention_key
from monitor.query.nodes import (
    And,
    EntryRef,
    KindRef,
    Near,
    Node,
    Or,
    Phrase,
    Prefix,
    Scope,
    Term,
    Title,
    walk,
)

# ("id", id), ("entry", watchlist, id), ("kind", kind), ("words", tokens), ("prefix", stem)
Atom = tuple[str, ...] | tuple[str, WordKey]
_MENTIONS = ("id", "entry", "kind")


def requirements(node: Node) -> list[frozenset[Atom]]:
    """Groups of atoms such that a document the node matches holds one atom of each group
    (a necessary condition: the node may still fail)."""
    if isinstance(node, Term | Phrase):
        return [frozenset({("words", node.tokens)})]
    if isinstance(node, Prefix):
        return [frozenset({("prefix", node.stem)})]
    if isinstance(node, EntryRef | KindRef):
        return [frozenset({mention_key(node)})]
    if isinstance(node, And):
        return [g for c in node.children for g in requirements(c)]
    if isinstance(node, Near):
        return requirements(node.left) + requirements(node.right)
    if isinstance(node, Title | Scope):
        return requirements(node.child)
    if isinstance(node, Or):
        sides = [requirements(c) for c in node.children]
        if all(sides):
            # one group of each side will do; the smallest keep the union selective
            return [frozenset().union(*(min(side, key=len) for side in sides))]
    return []  # NOT, metadata: nothing is required


class QuerySet:
    """Queries compiled together; ``matching(doc)`` is what each document goes through."""

    def __init__(self, queries: Sequence[Query]) -> None:
        self.queries = tuple(queries)
        self._always: list[int] = []  # queries that require nothing (only NOT, metadata)
        self._by_mention: dict[Atom, list[int]] = {}
        self._by_word: dict[WordKey, list[int]] = {}
        self._needs_words = [False] * len(self.queries)
        self._groups: list[list[frozenset[Atom]]] = []
        keys: dict[WordKey, None] = {}
        for index, query in enumerate(self.queries):
            for node in walk(query.root):
                if isinstance(node, Term | Phrase):
                    keys[node.tokens] = None
                elif isinstance(node, Prefix):
                    keys[node.stem] = None
            self._needs_words[index] = any(isinstance(n, Term | Phrase | Prefix)
                                           for n in walk(query.root))
            groups = requirements(query.root)
            self._groups.append(groups)
            self._index(index, groups)
        self._keys: list[WordKey] = list(keys)
        self._looked_for = frozenset(self._keys)
        patterns = [needle(key).text for key in self._keys]
        kind = ahocorasick_rs.MATCHKIND_STANDARD
        self._automaton = ahocorasick_rs.AhoCorasick(patterns, matchkind=kind) if patterns else None
        self._bytes = ahocorasick_rs.BytesAhoCorasick(
            [p.encode() for p in patterns], matchkind=kind) if patterns else None

    def _index(self, index: int, groups: list[frozenset[Atom]]) -> None:
        """File the query under one group: one of mentions if it has one (known without
        reading the text), else the smallest."""
        if not groups:
            self._always.append(index)
            return
        mentions = [g for g in groups if all(a[0] in _MENTIONS for a in g)]
        group = min(mentions or groups, key=len)
        for atom in group:
            if atom[0] in _MENTIONS:
                self._by_mention.setdefault(atom, []).append(index)
            else:
                self._by_word.setdefault(atom[1], []).append(index)

    @property
    def patterns(self) -> list[str]:
        """The needles of every word, phrase and prefix, as the matcher's automaton holds
        names (padded with the haystack's spaces): a scan that already reads the folded
        text can look for them too and hand what it found to ``accept``."""
        return [needle(key).text for key in self._keys]

    def prepare(self, doc: Document) -> list[WordKey]:
        """Find every word of every query in the document in one scan (the document keeps
        where); returns the words found."""
        if self._automaton is None or self._bytes is None:
            return []
        hay = doc.folded.hay
        found = (self._bytes.find_matches_as_indexes(hay.encode(), overlapping=True)
                 if hay.isascii() else
                 self._automaton.find_matches_as_indexes(hay, overlapping=True))
        return self.accept(doc, found)

    def accept(self, doc: Document, found: Iterable[tuple[int, int, int]]) -> list[WordKey]:
        """Give the document what a scan for ``patterns`` found: (pattern index, start,
        end) in its haystack, every overlapping match; returns the words found."""
        hits: dict[WordKey, list[int]] = {}
        keys = self._keys
        for index, at, _ in found:
            key = keys[index]
            if key in hits:
                hits[key].append(at)
            else:
                hits[key] = [at]
        doc.found(hits, self._looked_for)
        return list(hits)

    def candidates(self, doc: Document) -> list[int]:
        """The queries whose necessary group the document meets, in order."""
        chosen = set(self._always)
        if self._by_mention:
            by_mention = self._by_mention
            for kind, watchlist, entry in {(m.kind, m.watchlist, m.entry) for m in doc.mentions}:
                for atom in (("id", entry), ("entry", watchlist, entry), ("kind", kind)):
                    found = by_mention.get(atom)
                    if found:
                        chosen.update(found)
        if self._by_word:
            by_word = self._by_word
            for key in self.prepare(doc):
                found = by_word.get(key)
                if found:
                    chosen.update(found)
        elif any(self._needs_words[i] for i in chosen):
            self.prepare(doc)
        # the query's other groups: a word or mention it needs besides the one it is filed under
        return [i for i in sorted(chosen) if all(any(map(doc.has, g)) for g in self._groups[i])]

    def matching(self, doc: Document) -> list[tuple[Query, Evaluation]]:
        """The queries that match the document, each with the spans that satisfied it."""
        out = []
        for index in self.candidates(doc):
            query = self.queries[index]
            if query.matches(doc):
                out.append((query, query.evaluate(doc)))
        return out
