"""The query's syntax tree: small frozen nodes, their canonical text, and walks over them.

Nodes compare by meaning, not by spelling or place: ``col`` (1-based column in the query)
and a word's ``raw`` spelling do not take part in ``==``, so ``Putin`` equals ``putin`` and
``parse(render(node)) == node``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

# Binding strength, loosest first (the grammar's precedence table).
OR_LEVEL, AND_LEVEL, NOT_LEVEL, NEAR_LEVEL, PRIMARY_LEVEL = range(1, 6)
META_FIELDS = ("lang", "country", "feed")
SCOPES = ("sentence", "paragraph")


@dataclass(frozen=True, slots=True)
class Term:
    """A word as typed; ``tokens`` is its fold (several for 'U.S.' or 'Kim-Jong-un':
    they must then stand next to each other, like a phrase)."""

    tokens: tuple[str, ...]
    raw: str = field(default="", compare=False)
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Phrase:
    """Quoted words that must stand next to each other, in this order."""

    tokens: tuple[str, ...]
    raw: str = field(default="", compare=False)
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Prefix:
    """``stem*``: any word that starts with the folded stem."""

    stem: str
    raw: str = field(default="", compare=False)
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class EntryRef:
    """``@id`` or ``@watchlist/id``: wherever the matcher found that entry."""

    entry: str
    watchlist: str | None = None
    col: int = field(default=0, compare=False)

    @property
    def label(self) -> str:
        return f"@{self.watchlist}/{self.entry}" if self.watchlist else f"@{self.entry}"


@dataclass(frozen=True, slots=True)
class KindRef:
    """``kind:treaty``: wherever the matcher found any entry of that kind."""

    kind: str
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Meta:
    """``lang:``, ``country:`` or ``feed:``: a filter on the article, not on its words."""

    name: str
    value: str
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Title:
    """``title:x``: x must hold within the title."""

    child: Node
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Scope:
    """``SENTENCE(x)`` or ``PARAGRAPH(x)``: x must hold within one sentence or paragraph."""

    unit: str  # one of SCOPES
    child: Node
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Near:
    """``left NEAR/n right``: an occurrence of each, at most n words apart, either order."""

    left: Node
    right: Node
    distance: int
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    col: int = field(default=0, compare=False)


Words = Term | Phrase
Leaf = Term | Phrase | Prefix | EntryRef | KindRef | Meta
Node = Term | Phrase | Prefix | EntryRef | KindRef | Meta | Title | Scope | Not | Near | And | Or


def and_(children: list[Node], col: int = 0) -> Node:
    """An AND of the children, nested ANDs flattened (the canonical form)."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, And) else (child,))
    return flat[0] if len(flat) == 1 else And(tuple(flat), col or flat[0].col)


def or_(children: list[Node], col: int = 0) -> Node:
    """An OR of the children, nested ORs flattened (the canonical form)."""
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, Or) else (child,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat), col or flat[0].col)


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, And | Or):
        return node.children
    if isinstance(node, Not | Title | Scope):
        return (node.child,)
    if isinstance(node, Near):
        return (node.left, node.right)
    return ()


def walk(node: Node) -> Iterator[Node]:
    """The node and every node under it, depth first."""
    yield node
    for child in children(node):
        yield from walk(child)


def is_positional(node: Node) -> bool:
    """Whether the node has occurrences with a place in the text (what NEAR measures):
    words, phrases, wildcards, @entries, kind:, and ORs, NEARs and title: of them."""
    if isinstance(node, Term | Phrase | Prefix | EntryRef | KindRef | Near):
        return True
    if isinstance(node, Or):
        return all(is_positional(c) for c in node.children)
    if isinstance(node, Title):
        return is_positional(node.child)
    return False


def needs_text(node: Node) -> bool:
    """Whether every article the node matches contains one of its words or mentions
    (false for NOT x, for metadata alone, and for ORs with such a side)."""
    if isinstance(node, Not | Meta):
        return False
    if isinstance(node, And):
        return any(needs_text(c) for c in node.children)
    if isinstance(node, Or):
        return all(needs_text(c) for c in node.children)
    if isinstance(node, Title | Scope):
        return needs_text(node.child)
    return True


# --- canonical text -------------------------------------------------------------------------


def level(node: Node) -> int:
    if isinstance(node, Or):
        return OR_LEVEL
    if isinstance(node, And):
        return AND_LEVEL
    if isinstance(node, Not):
        return NOT_LEVEL
    if isinstance(node, Near):
        return NEAR_LEVEL
    return PRIMARY_LEVEL


def _quote(text: str) -> str:
    return '"' + text.replace('"', " ") + '"'


def _value(text: str) -> str:
    """A field value as typed, quoted unless it is one plain word."""
    plain = text and not any(c.isspace() or c in '()":*' for c in text) and text[0] != "@"
    return text if plain and text not in ("AND", "OR", "NOT", "SENTENCE", "PARAGRAPH") else (
        _quote(text))


def render(node: Node, at_least: int = OR_LEVEL, *, folded: bool = False) -> str:
    """The query text of a node, with parentheses only where precedence needs them; words
    as typed, or ``folded`` (the canonical form: one text per meaning)."""
    text = _render(node, folded)
    return f"({text})" if level(node) < at_least else text


def _render(node: Node, folded: bool) -> str:
    if isinstance(node, Term):  # Kim-Jong-un: one term of three words
        return "-".join(node.tokens) if folded or not node.raw else node.raw
    if isinstance(node, Phrase):
        return _quote(" ".join(node.tokens) if folded or not node.raw else node.raw)
    if isinstance(node, Prefix):
        return (node.stem if folded or not node.raw else node.raw) + "*"
    if isinstance(node, EntryRef):
        return node.label
    if isinstance(node, KindRef):
        return f"kind:{node.kind}"
    if isinstance(node, Meta):
        return f"{node.name}:{_value(node.value)}"
    if isinstance(node, Title):
        return "title:" + render(node.child, PRIMARY_LEVEL, folded=folded)
    if isinstance(node, Scope):
        return f"{node.unit.upper()}({render(node.child, folded=folded)})"
    if isinstance(node, Not):
        return "NOT " + render(node.child, NOT_LEVEL, folded=folded)
    if isinstance(node, Near):
        return (f"{render(node.left, NEAR_LEVEL, folded=folded)} NEAR/{node.distance} "
                f"{render(node.right, PRIMARY_LEVEL, folded=folded)}")
    if isinstance(node, And):
        return " AND ".join(render(c, NOT_LEVEL, folded=folded) for c in node.children)
    return " OR ".join(render(c, AND_LEVEL, folded=folded) for c in node.children)
