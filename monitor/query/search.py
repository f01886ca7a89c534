"""A query as full-text index filters: an SQLite FTS5 MATCH expression and a PostgreSQL
tsquery, each selecting a SUPERSET of the articles the query matches (the candidates; the
exact evaluation runs on them afterwards), and lang:/country:/feed: as separate filters.

What the index holds (for the store): the folded text, so that transliteration and accents
match as they do in the matcher (``index_text``):

    SQLite:      CREATE VIRTUAL TABLE article_fts USING fts5(title, body, prefix='2 3')
                 -- title = fold(title), body = fold(document); unicode61 tokenizer
    PostgreSQL:  setweight(to_tsvector('simple', title), 'A') || to_tsvector('simple', body)
                 -- in a tsvector column with a GIN index; title: is weight A

How each clause becomes a filter (``upper``: a superset; ``lower``: a subset, used under
NOT, so that NOT never excludes a true match):
- a word, phrase or wildcard: itself (a phrase query; a prefix query); exact both ways.
  Not in the index: a one-letter wildcard, and words of scripts written without spaces
  (Han, kana, Hangul, Thai...: the matcher finds them inside longer runs, the index holds
  whole runs); these filter nothing (upper TRUE, lower FALSE);
- @entry: any of its names' folded words (a phrase each; an acronym's dotted form too);
  kind:x: any name of any entry of that kind.  Search cannot see what only the matcher
  finds: one-typo spellings and names in scripts without spaces (limitation);
- a NEAR b: FTS5 NEAR when both sides are single words or phrases, else a AND b;
  PostgreSQL: a AND b (its <N> is an exact distance, not "at most");
- SENTENCE(x), PARAGRAPH(x): x with its NOTs dropped (x need not be absent elsewhere);
- NOT x: NOT lower(x) (dropped where x has no exact filter, or where the index cannot say
  "not" alone: FTS5 has no unary NOT, so a NOT needs a positive clause beside it);
- lang:, country:, feed: nothing in the text filter; the top-level ones become MetaFilters.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.normalize import fold
from monitor.query.check import EntryIndex, EntryInfo, check_query
from monitor.query.document import Document
from monitor.query.evaluate import Query
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
    needs_text,
    render,
    walk,
)
from monitor.query.parse import QueryError

MAX_NAMES = 1000  # phrases a kind: or an @entry may expand to before it filters nothing
_REFUSED = ("unknown-entry", "unknown-watchlist", "unknown-kind", "bad-country", "never")


# --- the index text --------------------------------------------------------------------------


def index_text(title: str | None, body: str) -> tuple[str, str]:
    """What the full-text index holds for an article: the folded title, and the folded
    document (title, blank line, text, as matched) in which offsets are given."""
    return fold(title or ""), fold(Document.of(title, body).text)


# --- the boolean filter ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Const:
    value: bool


TRUE, FALSE = _Const(True), _Const(False)


@dataclass(frozen=True, slots=True)
class _Words:
    tokens: tuple[str, ...]
    prefix: bool
    title: bool


@dataclass(frozen=True, slots=True)
class _Near:
    left: _Words
    right: _Words
    distance: int


@dataclass(frozen=True, slots=True)
class _All:
    pos: tuple[_Filter, ...]
    neg: tuple[_Filter, ...]


@dataclass(frozen=True, slots=True)
class _Any:
    items: tuple[_Filter, ...]


@dataclass(frozen=True, slots=True)
class _Not:  # only while an AND gathers its clauses
    item: _Filter


_Filter = _Const | _Words | _Near | _All | _Any | _Not


def _all(items: list[_Filter], upper: bool) -> _Filter:
    pos: list[_Filter] = []
    neg: list[_Filter] = []
    for item in items:
        if item == FALSE:
            return FALSE
        if isinstance(item, _Not):
            neg.append(item.item)
        elif isinstance(item, _All):
            pos += item.pos
            neg += item.neg
        elif item != TRUE:
            pos.append(item)
    if not pos:
        # NOT alone cannot be asked of the index: everything (upper) or nothing (lower).
        return TRUE if upper or not neg else FALSE
    return pos[0] if len(pos) == 1 and not neg else _All(tuple(pos), tuple(neg))


def _any(items: list[_Filter], upper: bool) -> _Filter:
    out: list[_Filter] = []
    for item in items:
        if item == TRUE or (upper and isinstance(item, _Not)):
            return TRUE
        if isinstance(item, _Any):
            out += item.items
        elif item != FALSE and not isinstance(item, _Not):
            out.append(item)
    if not out:
        return FALSE
    return out[0] if len(out) == 1 else _Any(tuple(dict.fromkeys(out)))


def _negate(item: _Filter) -> _Filter:
    if isinstance(item, _Const):
        return FALSE if item.value else TRUE
    return item.item if isinstance(item, _Not) else _Not(item)


class _Translator:
    """Query nodes to filters, noting why a clause could not be used."""

    def __init__(self, entries: EntryIndex) -> None:
        self.entries = entries
        self.unusable: list[tuple[int, str]] = []

    def words(self, node: Term | Phrase | Prefix, title: bool) -> _Filter:
        tokens = (node.stem,) if isinstance(node, Prefix) else node.tokens
        if not all(t.isascii() for t in tokens):
            self.unusable.append((node.col, f"'{render(node)}' is in a script written without "
                                  "spaces, which the index cannot look up inside words"))
            return TRUE
        if isinstance(node, Prefix) and len(node.stem) < 2:
            self.unusable.append((node.col, f"a one-letter wildcard ('{render(node)}') "
                                  "matches almost every word; give at least 2 letters"))
            return TRUE
        return _Words(tokens, isinstance(node, Prefix), title)

    def names(self, node: EntryRef | KindRef, infos: list[EntryInfo], title: bool) -> _Filter:
        phrases = {p for info in infos for p in _name_phrases(info.names)}
        if not phrases:
            if isinstance(node, KindRef) and not infos:
                return FALSE
            self.unusable.append((node.col, f"'{render(node)}' has no names the index can "
                                  "look up"))
            return TRUE
        if len(phrases) > MAX_NAMES:
            self.unusable.append((node.col, f"'{render(node)}' stands for too many names "
                                  f"({len(phrases)}) to look up; add a word or an @entry"))
            return TRUE
        return _any([_Words(p, False, title) for p in sorted(phrases)], True)

    def upper(self, node: Node, title: bool = False, scoped: bool = False) -> _Filter:
        """A filter every article the node matches passes."""
        if isinstance(node, Term | Phrase | Prefix):
            return self.words(node, title)
        if isinstance(node, EntryRef):
            return self.names(node, self.entries.resolve(node), title)
        if isinstance(node, KindRef):
            return self.names(node, self.entries.by_kind.get(node.kind, []), title)
        if isinstance(node, Meta):
            return TRUE
        if isinstance(node, Title):
            return self.upper(node.child, True, scoped)
        if isinstance(node, Scope):
            return self.upper(node.child, title, True)
        if isinstance(node, Not):
            return TRUE if scoped else _negate(self.lower(node.child, title))
        if isinstance(node, Near):
            left = self.upper(node.left, title, scoped)
            right = self.upper(node.right, title, scoped)
            if isinstance(left, _Words) and isinstance(right, _Words):
                return _Near(left, right, node.distance)
            return _all([left, right], True)
        if isinstance(node, And):
            return _all([self.upper(c, title, scoped) for c in node.children], True)
        return _any([self.upper(c, title, scoped) for c in node.children], True)

    def lower(self, node: Node, title: bool = False) -> _Filter:
        """A filter only articles the node matches pass (exact where the index is)."""
        if isinstance(node, Term | Phrase | Prefix):
            found = self.words(node, title)
            return FALSE if found == TRUE else found
        if isinstance(node, Title):
            return self.lower(node.child, True)
        if isinstance(node, Not):
            return _negate(self.upper(node.child, title))
        if isinstance(node, And):
            return _all([self.lower(c, title) for c in node.children], False)
        if isinstance(node, Or):
            return _any([self.lower(c, title) for c in node.children], False)
        return FALSE  # mentions, metadata, NEAR, scopes: the index cannot tell exactly


def _name_phrases(names: tuple[str, ...]) -> set[tuple[str, ...]]:
    """The folded words of each name the index can hold; an acronym also dotted (U.S.)."""
    out: set[tuple[str, ...]] = set()
    for name in names:
        tokens = tuple(fold(name).split())
        if tokens and all(t.isascii() for t in tokens):
            out.add(tokens)
        letters = name.strip()
        if letters.isalpha() and letters.isupper() and 1 < len(letters) <= 5:
            out.add(tuple(fold(" ".join(letters)).split()))  # the matcher's U.S. for US
    return out


# --- rendering -----------------------------------------------------------------------------


def _fts5(item: _Filter) -> str:
    if isinstance(item, _Words):
        text = '"' + " ".join(item.tokens) + '"' + ("*" if item.prefix else "")
        return f"title : {text}" if item.title else text
    if isinstance(item, _Near):
        near = f"NEAR({_fts5_phrase(item.left)} {_fts5_phrase(item.right)}, {item.distance - 1})"
        return f"title : {near}" if item.left.title and item.right.title else near
    if isinstance(item, _All):
        text = " AND ".join(_fts5(p) for p in item.pos)
        if item.neg:
            neg = " OR ".join(_fts5(n) for n in item.neg)
            if len(item.neg) > 1 or not isinstance(item.neg[0], _All | _Any):
                neg = f"({neg})"
            text = f"({text}) NOT {neg}"
        return f"({text})"
    if isinstance(item, _Any):
        return "(" + " OR ".join(_fts5(i) for i in item.items) + ")"
    raise ValueError(f"no FTS5 form for {item}")


def _fts5_phrase(item: _Words) -> str:
    return '"' + " ".join(item.tokens) + '"' + ("*" if item.prefix else "")


def _tsquery(item: _Filter) -> str:
    if isinstance(item, _Words):
        weight = "A" if item.title else ""
        lexemes = [f"'{t}':{weight}" if weight else f"'{t}'" for t in item.tokens]
        if item.prefix:
            lexemes[-1] = f"'{item.tokens[-1]}':*{weight}"
        return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"
    if isinstance(item, _Near):
        return f"({_tsquery(item.left)} & {_tsquery(item.right)})"
    if isinstance(item, _All):
        parts = [_tsquery(p) for p in item.pos] + [f"!{_tsquery(n)}" for n in item.neg]
        return "(" + " & ".join(parts) + ")"
    if isinstance(item, _Any):
        return "(" + " | ".join(_tsquery(i) for i in item.items) + ")"
    raise ValueError(f"no tsquery form for {item}")


# --- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetaFilter:
    """A filter on article metadata that every result must pass: ``name`` (lang, country,
    feed) equal to one of ``values`` (or to none, with ``exclude``).  lang: 'en' takes
    'en' and 'en-*' (case-insensitive); country: the ISO code; feed: its name or id."""

    name: str
    values: tuple[str, ...]
    exclude: bool = False


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """How to find a query's candidates: ``fts5`` for ``article_fts MATCH ?``, ``tsquery``
    for ``to_tsquery('simple', ?)``, and the metadata filters."""

    fts5: str
    tsquery: str
    filters: tuple[MetaFilter, ...] = ()


def meta_filters(root: Node) -> tuple[MetaFilter, ...]:
    """The lang:/country:/feed: clauses every match must pass (those ANDed at the top)."""
    out = []
    for clause in root.children if isinstance(root, And) else (root,):
        exclude = isinstance(clause, Not)
        inner = clause.child if isinstance(clause, Not) else clause
        metas = inner.children if isinstance(inner, Or) else (inner,)
        if all(isinstance(m, Meta) for m in metas):
            names = {m.name for m in metas if isinstance(m, Meta)}
            if len(names) == 1:
                values = tuple(m.value for m in metas if isinstance(m, Meta))
                out.append(MetaFilter(names.pop(), values, exclude))
    return tuple(out)


def search_plan(query: Query | Node, entries: EntryIndex) -> SearchPlan:
    """The index filters of a query; raises QueryError when the query names unknown
    entries, can never match, or cannot use the index (only NOT, only metadata, only a
    one-letter wildcard), with the reason."""
    root = query.root if isinstance(query, Query) else query
    for problem in check_query(root, entries):
        if problem.code in _REFUSED:
            raise QueryError(problem.column, problem.message)
    translator = _Translator(entries)
    found = translator.upper(root)
    if found == FALSE:
        raise QueryError(root.col or 1, "the query can never match")
    if found == TRUE or isinstance(found, _Not):
        raise QueryError(*_refusal(root, translator.unusable))
    return SearchPlan(_fts5(found), _tsquery(found), meta_filters(root))


def _refusal(root: Node, unusable: list[tuple[int, str]]) -> tuple[int, str]:
    prefix = "the full-text index cannot serve this query: "
    if not needs_text(root):
        if any(isinstance(n, Not) for n in walk(root)):
            return root.col or 1, prefix + ("the index finds words, not their absence, and "
                                            "this query holds without any word; add a word "
                                            "or @entry to look for")
        return root.col or 1, prefix + ("lang:, country: and feed: only narrow a search; "
                                        "add a word or @entry to look for")
    if unusable:
        return unusable[0][0], prefix + unusable[0][1]
    return root.col or 1, prefix + "nothing in it can be looked up"
