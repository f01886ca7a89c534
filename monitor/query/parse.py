"""Query text to syntax tree, with lark (grammar.lark); errors say where and what to fix."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from importlib.resources import files

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from monitor.errors import Problem, UsageError
from monitor.normalize import fold
from monitor.query.nodes import (
    META_FIELDS,
    EntryRef,
    KindRef,
    Meta,
    Near,
    Node,
    Not,
    Phrase,
    Prefix,
    Scope,
    Term,
    Title,
    and_,
    is_positional,
    or_,
    render,
    walk,
)

FIELDS = ("title", "kind", *META_FIELDS)
_ENTRY = re.compile(r"@(?:([A-Za-z0-9][A-Za-z0-9._-]*)/)?([A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)")
_LANG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
_OPERATOR = re.compile(r"AND|OR|NOT|NEAR/\S*")
_OPERAND = "a word, \"phrase\", @entry or '('"
_STARTS = {"TERM", "PHRASE", "ENTRY", "FIELD", "LPAR", "SENTENCE", "PARAGRAPH", "NOT"}
_SHOWN = {"_AND": "AND", "_OR": "OR", "NOT": "NOT", "RPAR": ")", "LPAR": "("}


class QueryError(UsageError):
    """A query that cannot be parsed or used, located at a 1-based column of its text."""

    def __init__(self, column: int, message: str) -> None:
        self.column = column
        self.reason = message
        super().__init__(f"col {column}: {message}")


def rule_problem(path: str, line: int | None, rule_id: str, error: QueryError | str) -> Problem:
    """A rule's query error as a file problem: ``desk.yaml:14: rule 'x': col 17: ...``."""
    return Problem(path, line, f"rule '{rule_id}': {error}")


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = files("monitor.query").joinpath("grammar.lark").read_text(encoding="utf-8")
    # The basic lexer: an operator word is an operator wherever it stands, so a misplaced
    # one is reported as such rather than searched for as a word.
    return Lark(grammar, parser="lalr", lexer="basic")


def parse(text: str) -> Node:
    """The syntax tree of a query; raises QueryError with the column of the first problem."""
    if not text.strip():
        raise QueryError(1, "the query is empty")
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    return _Builder(text).build(tree)


# --- syntax errors ---------------------------------------------------------------------------


def _after(text: str, pos: int) -> str:
    """' after "(@kim"': the last chunk of text before ``pos``, or '' at the start."""
    before = text[:pos].split()
    if not before:
        return ""
    # An operator alone says little: "a AND" rather than "AND".
    shown = before[-2:] if len(before) > 1 and _OPERATOR.fullmatch(before[-1]) else before[-1:]
    return f' after "{" ".join(shown)}"'


def _syntax_error(text: str, exc: UnexpectedInput) -> QueryError:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        if text[pos] == '"':
            return QueryError(pos + 1, "the quote '\"' is never closed")
        word = re.match(r"[^\s()\"]*", text[pos:])
        chunk = [*text[:pos].split()[-1:], word.group() if word else ""]
        return QueryError(pos + 1, "':' only follows a field name (title:, lang:, country:, "
                          f"feed:, kind:); to search for {''.join(chunk)!r}, put it in quotes")
    assert isinstance(exc, UnexpectedToken)
    token, expected = exc.token, set(exc.expected)
    what = "')'" if "RPAR" in expected else "'('" if expected == {"LPAR"} else _OPERAND
    if token.type == "$END":
        pos = len(text.rstrip())
        return QueryError(pos + 1, f"expected {what}{_after(text, pos)}")
    pos = token.start_pos or 0
    shown = _SHOWN.get(token.type, str(token))
    if not text[:pos].strip():
        return QueryError(pos + 1, f"'{shown}' needs something to its left")
    if token.type == "RPAR" and not expected & _STARTS:
        return QueryError(pos + 1, "')' has no '(' to close")
    if token.type != "RPAR" and what == "')'":
        what = _OPERAND  # a clause or ')' would do: name the clause
    return QueryError(pos + 1, f"expected {what}{_after(text, pos)}, not '{shown}'")


# --- tree to nodes ------------------------------------------------------------------------


class _Builder:
    """lark's parse tree to nodes, checking what the grammar alone cannot."""

    def __init__(self, text: str) -> None:
        self.text = text

    def build(self, tree: Tree[Token] | Token) -> Node:
        assert isinstance(tree, Tree)
        kind = str(tree.data)
        kids = tree.children
        if kind == "or_expr":
            return or_([self.build(k) for k in kids])
        if kind == "and_expr":
            return and_([self.build(k) for k in kids])
        if kind == "group":
            return self.build(kids[1])
        if kind == "not_":
            return Not(self.build(kids[1]), _col(kids[0]))
        if kind == "near":
            return self._near(kids[0], _token(kids[1]), kids[2])
        if kind == "scope":
            return Scope(str(kids[0]).lower(), self.build(kids[2]), _col(kids[0]))
        if kind == "field":
            return self._field(_token(kids[0]), kids[1])
        if kind == "entry":
            return _entry(_token(kids[0]))
        if kind == "phrase":
            return _phrase(_token(kids[0]))
        return self._term(_token(kids[0]))

    def _near(self, left: Tree[Token] | Token, op: Token, right: Tree[Token] | Token) -> Node:
        col = _col(op)
        digits = op[len("NEAR/"):]
        if not digits.isdigit():
            raise QueryError(col, f"{op}: the distance is a number of words, as in NEAR/5")
        distance = int(digits)
        if distance < 1:
            raise QueryError(col, f"{op}: the distance must be at least 1 word "
                             "(NEAR/1: next to each other)")
        sides = self.build(left), self.build(right)
        for side in sides:
            if not is_positional(side):
                raise QueryError(side.col or col, f"{op} measures between words, phrases, "
                                 "@entries, kind: or OR-groups of them, not "
                                 f"'{render(side)}'; put AND, NOT, lang:, country:, feed: "
                                 "and scopes outside it")
        return Near(sides[0], sides[1], distance, col)

    def _term(self, token: Token) -> Node:
        raw, col = str(token), _col(token)
        end = token.end_pos or 0
        if raw == "NEAR" or re.fullmatch(r"(?i)near/\S*", raw):
            raise QueryError(col, f"{raw!r}: write NEAR/n in capitals with a distance in "
                             "words, as in NEAR/5 (quote it to search for the word)")
        if raw.lower() in ("sentence", "paragraph") and self.text[end:end + 1] == "(":
            raise QueryError(col, f"write {raw.upper()}( in capitals for a "
                             f"{raw.lower()} scope (quote {raw!r} to search for the word)")
        if raw[0] in "-+" and len(raw) > 1 and raw[1].isalnum():
            raise QueryError(col, f"{raw!r}: '{raw[0]}' is not an operator here; write "
                             f"{'NOT' if raw[0] == '-' else 'AND'} {raw[1:]}")
        wildcard = raw.endswith("*")
        stem = raw[:-1] if wildcard else raw
        if "*" in stem:
            raise QueryError(col, f"{raw!r}: a wildcard '*' goes at the end of a word, as in "
                             "sanction*")
        tokens = tuple(fold(stem).split())
        if not tokens:
            raise QueryError(col, f"{raw!r} has no letters or digits to search for")
        if not wildcard:
            return Term(tokens, raw, col)
        if len(tokens) > 1:
            raise QueryError(col, f"{raw!r}: a wildcard applies to one word; "
                             "put the words before it in a phrase")
        return Prefix(tokens[0], stem, col)

    def _field(self, token: Token, value_tree: Tree[Token] | Token) -> Node:
        col = _col(token)
        name = str(token)[:-1].lower()
        if name not in FIELDS:
            close = difflib.get_close_matches(name, FIELDS, n=1)
            hint = f" (did you mean '{close[0]}:'?)" if close else ""
            raise QueryError(col, f"unknown field '{token}'{hint}; the fields are "
                             + ", ".join(f"{f}:" for f in FIELDS))
        if name == "title":
            child = self.build(value_tree)
            if any(isinstance(n, Meta) for n in walk(child)):
                raise QueryError(col, "title: applies to words, phrases, @entries, kind: or a "
                                 "group of them, not to lang:, country: or feed:")
            return Title(child, col)
        value = _single_value(token, value_tree)
        if name == "kind":
            return KindRef(value.lower(), col)
        if name == "lang":
            value = value.lower().replace("_", "-")
            if not _LANG.fullmatch(value):
                raise QueryError(col, f"lang:{value}: a language code, as in lang:en or "
                                 "lang:pt-br")
        elif name == "country":
            value = value.upper()
        return Meta(name, value, col)


def _single_value(field: Token, tree: Tree[Token] | Token) -> str:
    """The one word or quoted text after lang:, country:, feed: or kind:."""
    if isinstance(tree, Tree) and str(tree.data) in ("term", "phrase"):
        token = _token(tree.children[0])
        value = str(token)
        if token.type == "PHRASE":
            value = value[1:-1].strip()
        if value:
            return value
    raise QueryError(_col(field), f"{field} takes one value, as in {field}x or "
                     f"{field}\"two words\"; for several, ({field}x OR {field}y)")


def _entry(token: Token) -> EntryRef:
    found = _ENTRY.fullmatch(str(token))
    if not found:
        raise QueryError(_col(token), f"{str(token)!r}: an entry reference is @id or "
                         "@watchlist/id, as in @putin or @russia-asia-diplomacy/putin")
    return EntryRef(found.group(2).lower(), found.group(1), _col(token))


def _phrase(token: Token) -> Phrase:
    inner = str(token)[1:-1]
    col = _col(token)
    if not inner.strip():
        raise QueryError(col, 'empty quotes ""')
    if "*" in inner:
        raise QueryError(col, f"{token!s}: a wildcard does not work inside quotes")
    tokens = tuple(fold(inner).split())
    if not tokens:
        raise QueryError(col, f"{token!s} has no letters or digits to search for")
    return Phrase(tokens, inner, col)


def _token(item: Tree[Token] | Token) -> Token:
    assert isinstance(item, Token)
    return item


def _col(item: Tree[Token] | Token) -> int:
    return (_token(item).start_pos or 0) + 1
