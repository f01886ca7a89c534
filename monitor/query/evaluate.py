"""Evaluating a query over a Document: compiled once into closures (cheap clauses first,
short-circuits), and an explanation tree of which clause matched where.

Semantics (the language itself is described in monitor/query/__init__.py):
- a word or phrase matches its folded words, whole, next to each other; ``sanction*`` any
  word starting so; ``@id``/``kind:x`` wherever the matcher found the entry/kind;
- ``a NEAR/n b``: an occurrence of each side, not the same one, at most n words apart in
  either order (n = 1: next to each other; overlapping occurrences are 0 apart).  A NEAR's
  own occurrence covers both sides, so ``a NEAR/5 b NEAR/5 c`` = ``(a NEAR/5 b) NEAR/5 c``:
  c within 5 words of a pair of a and b that are within 5 words;
- ``SENTENCE(x)``/``PARAGRAPH(x)``: x holds with only what one sentence or paragraph holds
  (NOT inside: absent from that sentence); ``title:x``: x holds within the title;
- ``lang:``, ``country:``, ``feed:`` compare the article's metadata.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.query.document import Document, Occ, Window, clip, inside
from monitor.query.nodes import (
    And,
    EntryRef,
    KindRef,
    Meta,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    Scope,
    Term,
    Title,
    render,
)
from monitor.query.parse import parse

Test = Callable[[Document, Window], bool]
Occurrences = Callable[[Document, Window], list[Occ]]
Place = tuple[int, int]  # an occurrence's first and last word (token indices)
Places = Callable[[Document], list[Place]]
Span = tuple[int, int]


# --- occurrences -----------------------------------------------------------------------------


def occurrences(node: Node) -> Occurrences:
    """The function listing a positional node's occurrences within a window."""
    if isinstance(node, Term | Phrase):
        tokens = node.tokens

        def words(doc: Document, window: Window) -> list[Occ]:
            # Most texts lack most words: a set lookup says so before any search.
            return inside(doc.words(tokens), window) if doc.has_words(tokens) else []
        return words
    if isinstance(node, Prefix):
        stem = node.stem

        def prefixed(doc: Document, window: Window) -> list[Occ]:
            return inside(doc.prefixed(stem), window) if doc.has_prefix(stem) else []
        return prefixed
    if isinstance(node, EntryRef | KindRef):
        key = mention_key(node)

        def mentioned(doc: Document, window: Window) -> list[Occ]:
            return inside(doc.mentioned(key), window) if doc.has_mention(key) else []
        return mentioned
    if isinstance(node, Or):
        sides = [occurrences(c) for c in node.children]
        return lambda doc, window: _union([f(doc, window) for f in sides])
    if isinstance(node, Title):
        child = occurrences(node.child)

        def in_title(doc: Document, window: Window) -> list[Occ]:
            title = clip(window, (0, doc.title_end))
            return child(doc, title) if title else []
        return in_title
    if isinstance(node, Near):
        left, right, distance = occurrences(node.left), occurrences(node.right), node.distance
        return lambda doc, window: near_pairs(left(doc, window), right(doc, window), distance)
    raise TypeError(f"{render(node)} has no place in the text")  # parse rejects it in NEAR


def mention_key(node: EntryRef | KindRef) -> tuple[str, ...]:
    """What Document.has_mention and mentioned take for an @entry or a kind:."""
    if isinstance(node, KindRef):
        return ("kind", node.kind)
    return ("id", node.entry) if node.watchlist is None else (
        "entry", node.watchlist, node.entry)


def _union(lists: list[list[Occ]]) -> list[Occ]:
    """The occurrences of several lists, in text order, each place once."""
    some = [occs for occs in lists if occs]
    if len(some) <= 1:
        return some[0] if some else []
    return sorted({o[:4]: o for occs in some for o in occs}.values())


def _pairs(left: Sequence[Place | Occ], right: Sequence[Place | Occ], distance: int,
           first: bool) -> Iterator[tuple[Place | Occ, Place | Occ]]:
    """Each pair of a left and a right occurrence at most ``distance`` words apart (either
    order; overlapping ones are 0 apart) that are not the same place (the same words)."""
    if not left or not right:
        return
    ordered = sorted(right)
    starts = [o[0] for o in ordered]
    longest = max(o[1] - o[0] for o in ordered)
    for a in left:
        a0, a1 = a[0], a[1]
        lo = bisect_left(starts, a0 - distance - longest)
        for b in ordered[lo:bisect_right(starts, a1 + distance)]:
            b0, b1 = b[0], b[1]
            if b0 == a0 and b1 == a1:
                continue
            if (b0 - a1 if b0 > a1 else a0 - b1 if a0 > b1 else 0) <= distance:
                yield a, b
                if first:
                    return


def near_pairs(left: list[Occ], right: list[Occ], distance: int, first: bool = False
               ) -> list[Occ]:
    """An occurrence covering each pair of a left and a right occurrence at most
    ``distance`` words apart (see _pairs); with ``first``, stop at the first."""
    out = []
    for a, b in _pairs(left, right, distance, first):
        assert isinstance(a, Occ) and isinstance(b, Occ)
        out.append(Occ(min(a.t0, b.t0), max(a.t1, b.t1), min(a.o0, b.o0), max(a.o1, b.o1),
                       a.parts + b.parts))
    return out


def places(node: Node) -> Places | None:
    """The function listing a node's places (first and last word) in the whole document,
    what NEAR needs and cheaper than occurrences; None where a window is needed."""
    if isinstance(node, Term | Phrase):
        tokens = node.tokens
        return lambda doc: doc.word_places(tokens) if doc.has_words(tokens) else []
    if isinstance(node, Prefix):
        stem = node.stem
        return lambda doc: doc.word_places(stem) if doc.has_prefix(stem) else []
    if isinstance(node, EntryRef | KindRef):
        key = mention_key(node)
        return lambda doc: doc.mention_places(key) if doc.has_mention(key) else []
    if isinstance(node, Or):
        sides = [places(c) for c in node.children]
        ready = [side for side in sides if side is not None]
        if len(ready) < len(sides):
            return None

        def union(doc: Document) -> list[Place]:
            some = [found for found in (side(doc) for side in ready) if found]
            return some[0] if len(some) == 1 else sorted({p for f in some for p in f})
        return union
    if isinstance(node, Near):
        left, right, distance = places(node.left), places(node.right), node.distance
        if left is None or right is None:
            return None
        return lambda doc: [(min(a[0], b[0]), max(a[1], b[1]))
                            for a, b in _pairs(left(doc), right(doc), distance, False)]
    return None


# --- compiled tests --------------------------------------------------------------------------


def cost(node: Node) -> int:
    """A rough price of testing a node, to test the cheap clauses of an AND/OR first."""
    if isinstance(node, Meta):
        return 0
    if isinstance(node, EntryRef | KindRef):
        return 1
    if isinstance(node, Term):
        return 2 + len(node.tokens)
    if isinstance(node, Phrase):
        return 3 + len(node.tokens)
    if isinstance(node, Prefix):
        return 8
    if isinstance(node, Not):
        return cost(node.child)
    if isinstance(node, Title):
        return 4 + cost(node.child)
    if isinstance(node, Near):
        return 10 + cost(node.left) + cost(node.right)
    if isinstance(node, Scope):
        return 20 + cost(node.child)
    return sum(cost(c) for c in node.children)


def compile_test(node: Node) -> Test:
    """The function telling whether the node holds within a window of a document."""
    if isinstance(node, Term | Phrase):
        return _words_test(node.tokens)
    if isinstance(node, Prefix):
        return _prefix_test(node.stem)
    if isinstance(node, EntryRef | KindRef):
        key, found = mention_key(node), occurrences(node)

        def mentioned(doc: Document, window: Window) -> bool:
            if window is None:
                return doc.has_mention(key)
            return doc.has_mention(key) and bool(found(doc, window))
        return mentioned
    if isinstance(node, Meta):
        name, value = node.name, node.value
        return lambda doc, window: doc.meta(name, value)
    if isinstance(node, Not):
        child = compile_test(node.child)
        return lambda doc, window: not child(doc, window)
    if isinstance(node, And | Or):
        return _junction(node)
    if isinstance(node, Near):
        return _near_test(node)
    if isinstance(node, Title):
        return _title_test(node)
    return _scope_test(node)


def _words_test(tokens: tuple[str, ...]) -> Test:
    def test(doc: Document, window: Window) -> bool:
        if window is None:
            return doc.has_words(tokens)
        return doc.has_words(tokens) and bool(inside(doc.words(tokens), window))
    return test


def _prefix_test(stem: str) -> Test:
    def test(doc: Document, window: Window) -> bool:
        if window is None:
            return doc.has_prefix(stem)
        return doc.has_prefix(stem) and bool(inside(doc.prefixed(stem), window))
    return test


def _junction(node: And | Or) -> Test:
    tests = [compile_test(c) for c in sorted(node.children, key=cost)]
    if isinstance(node, And):
        def every(doc: Document, window: Window) -> bool:
            return all(test(doc, window) for test in tests)
        return every

    def some(doc: Document, window: Window) -> bool:
        return any(test(doc, window) for test in tests)
    return some


def _near_test(node: Near) -> Test:
    # The cheaper side first: most texts lack it and the other side is never looked for.
    left, right = occurrences(node.left), occurrences(node.right)
    if cost(node.right) < cost(node.left):
        left, right = right, left
    distance = node.distance

    fast_left, fast_right = places(node.left), places(node.right)
    if cost(node.right) < cost(node.left):
        fast_left, fast_right = fast_right, fast_left
    # Both sides there at all (a lookup each) before their places are worked out.
    present = _junction(And((node.left, node.right)))

    def test(doc: Document, window: Window) -> bool:
        if not present(doc, None):  # the whole document: lookups only, never a window
            return False
        if window is None and fast_left is not None and fast_right is not None:
            found = fast_left(doc)
            return bool(found) and any(True for _ in _pairs(found, fast_right(doc), distance,
                                                             True))
        first = left(doc, window)
        return bool(first) and bool(near_pairs(first, right(doc, window), distance, True))
    return test


def _title_test(node: Title) -> Test:
    child = compile_test(node.child)

    def test(doc: Document, window: Window) -> bool:
        title = clip(window, (0, doc.title_end)) if doc.title_end else None
        return title is not None and child(doc, title)
    return test


def anchor(node: Node) -> Occurrences | None:
    """Occurrences of which every window where the node holds contains one (so a scope
    tests only the sentences that hold one), or None if the node can hold without text."""
    if isinstance(node, Term | Phrase | Prefix | EntryRef | KindRef):
        return occurrences(node)
    if isinstance(node, Near):
        return anchor(node.left)
    if isinstance(node, Title | Scope):
        return anchor(node.child)
    if isinstance(node, And):
        for child in sorted(node.children, key=cost):
            found = anchor(child)
            if found is not None:
                return found
        return None
    if isinstance(node, Or):
        sides = [anchor(c) for c in node.children]
        if any(side is None for side in sides):
            return None
        ready = [side for side in sides if side is not None]
        return lambda doc, window: _union([f(doc, window) for f in ready])
    return None


def candidate_windows(node: Scope, doc: Document, window: Window,
                      find: Occurrences | None) -> list[tuple[int, int]]:
    """The sentences or paragraphs (within the window) where the scope's clause may hold:
    those holding one of the ``find`` occurrences (its anchor), or all."""
    if find is None:
        segments = doc.segments(node.unit)
    else:
        found = find(doc, window)
        if not found:
            return []
        segments = doc.segments_of(node.unit, found)
    out = []
    for segment in segments:
        part = clip(window, segment)
        if part is not None:
            out.append(part)
    return out


def _scope_test(node: Scope) -> Test:
    child = compile_test(node.child)
    find = anchor(node.child)

    def test(doc: Document, window: Window) -> bool:
        return any(child(doc, part) for part in candidate_windows(node, doc, window, find))
    return test


# --- explanation -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Explanation:
    """Whether a clause held and where (offsets into the document), with its clauses'."""

    clause: str
    matched: bool
    spans: tuple[Span, ...] = ()
    children: tuple[Explanation, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"clause": self.clause, "matched": self.matched,
                "spans": [list(s) for s in self.spans], "note": self.note,
                "children": [c.to_dict() for c in self.children]}

    def lines(self, text: str, indent: int = 0) -> list[str]:
        """A readable tree: one line per clause, with what it matched in the text."""
        shown = ", ".join(f"{text[s:e]!r}@{s}" for s, e in self.spans[:5])
        more = f" (+{len(self.spans) - 5})" if len(self.spans) > 5 else ""
        line = (f"{'  ' * indent}{'✓' if self.matched else '✗'} {self.clause}"
                + (f"  {shown}{more}" if shown else "") + (f"  [{self.note}]" if self.note else ""))
        return [line, *(x for c in self.children for x in c.lines(text, indent + 1))]


def _spans(occs: list[Occ]) -> tuple[Span, ...]:
    return tuple(sorted({p for o in occs for p in o.parts}))


def _joined(items: list[Explanation]) -> tuple[Span, ...]:
    return tuple(sorted({s for e in items for s in e.spans}))


def explain(node: Node, doc: Document, window: Window = None) -> Explanation:
    """Every clause of the node, whether it held within the window and where."""
    clause = render(node)
    if isinstance(node, Term | Phrase | Prefix | EntryRef | KindRef):
        found = occurrences(node)(doc, window)
        return Explanation(clause, bool(found), _spans(found))
    if isinstance(node, Meta):
        return Explanation(clause, doc.meta(node.name, node.value))
    if isinstance(node, Not):
        child = explain(node.child, doc, window)
        return Explanation(clause, not child.matched, (), (child,))
    if isinstance(node, And | Or):
        kids = [explain(c, doc, window) for c in node.children]
        held = [k for k in kids if k.matched]
        matched = len(held) == len(kids) if isinstance(node, And) else bool(held)
        return Explanation(clause, matched, _joined(held) if matched else (), tuple(kids))
    if isinstance(node, Near):
        sides = [explain(node.left, doc, window), explain(node.right, doc, window)]
        pairs = near_pairs(occurrences(node.left)(doc, window),
                           occurrences(node.right)(doc, window), node.distance)
        note = "" if pairs or not all(s.matched for s in sides) else (
            f"never within {node.distance} words")
        return Explanation(clause, bool(pairs), _spans(pairs), tuple(sides), note)
    if isinstance(node, Title):
        title = clip(window, (0, doc.title_end)) if doc.title_end else None
        if title is None:
            return Explanation(clause, False, note="no title")
        child = explain(node.child, doc, title)
        return Explanation(clause, child.matched, child.spans, (child,))
    return _explain_scope(node, doc, window, clause)


def _explain_scope(node: Scope, doc: Document, window: Window, clause: str) -> Explanation:
    test = compile_test(node.child)
    candidates = candidate_windows(node, doc, window, anchor(node.child))
    held = [part for part in candidates if test(doc, part)]
    if not held:
        child = explain(node.child, doc, window)
        note = f"never within one {node.unit}" if child.matched else ""
        return Explanation(clause, False, (), (child,), note)
    kids = [explain(node.child, doc, part) for part in held]
    start, end = held[0]
    note = f"{len(held)} {node.unit}s" if len(held) > 1 else f"{node.unit} at {start}-{end}"
    return Explanation(clause, True, _joined(kids), (kids[0],), note)


# --- the query ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A query's verdict on a document: whether it matched, and the spans (offsets into
    the document) of the words and mentions that satisfied it, in text order."""

    matched: bool
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query, compiled once; evaluate it over any number of Documents."""

    text: str
    root: Node
    _test: Test = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_test", compile_test(self.root))

    @property
    def canonical(self) -> str:
        """The query in canonical form (same meaning, same text): what a version hashes."""
        return render(self.root, folded=True)

    def matches(self, doc: Document) -> bool:
        """Whether the query holds for the document (the fast path: no spans)."""
        return self._test(doc, None)

    def evaluate(self, doc: Document) -> Evaluation:
        """Whether the query holds, and if so the spans that satisfied it."""
        if not self._test(doc, None):
            return Evaluation(False)
        return Evaluation(True, explain(self.root, doc).spans)

    def explain(self, doc: Document) -> Explanation:
        """Which clause matched where (for ``monitor match --explain``)."""
        return explain(self.root, doc)


def parse_query(text: str) -> Query:
    """Parse and compile a query; raises QueryError (col N: what to fix)."""
    return Query(text, parse(text))
