"""An article as queries see it: its text folded once, with what every rule asks of it
(where a word stands, which entries the matcher found, its sentences) computed on first
use and kept for the next rule."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple, cast

from monitor.normalize import Folded, fold, fold_text

if TYPE_CHECKING:
    from monitor.match import Mention

Window = tuple[int, int] | None  # original offsets [start, end) a clause must hold within


WordKey = tuple[str, ...] | str  # a word's or phrase's folded tokens, or a prefix's stem


class Needle(NamedTuple):
    """How a word, phrase or prefix is looked for in a haystack: ``text`` starts ``pad``
    characters before the words, which are ``length`` long (-1: to the end of the word)
    and hold ``spaces`` spaces."""

    text: str
    pad: int
    length: int
    spaces: int


@lru_cache(maxsize=65536)
def needle(key: WordKey) -> Needle:
    """Words are whole words (padded with the haystack's spaces), except on a side in a
    script written without spaces, as the matcher's names; a prefix is padded before."""
    if isinstance(key, str):
        return Needle(" " + key, 1, -1, 0)
    core = " ".join(key)
    left, right = int(core[0].isascii()), int(core[-1].isascii())
    return Needle(" " * left + core + " " * right, left, len(core), core.count(" "))


class Occ(NamedTuple):
    """One occurrence: its first and last word (token indices), its original offsets, and
    the pieces of text it stands for (one, or one per side of a NEAR)."""

    t0: int
    t1: int
    o0: int
    o1: int
    parts: tuple[tuple[int, int], ...]


# Sentence ends: the characters extract.snippet ends a sentence on (. ! ? … and the CJK full
# stops), a closing quote or bracket after them, then a space or the end; a line break too.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s|$)|[。！？]+[\"'”’」』)\]]*|\n")
_WORD_BEFORE = re.compile(r"([^\W\d_]+)\.$")
# A full stop after these is not a sentence end (nor after a single letter: U.S., J. Smith).
ABBREVIATIONS = frozenset((
    "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm", "gov",
    "sen", "rep", "pres", "st", "jr", "sr", "rev", "hon", "vs", "etc", "inc", "ltd", "co",
    "corp", "dept", "univ", "no", "nos", "vol", "fig", "approx", "est", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
))


def sentence_bounds(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The sentences of text[start:end] as (start, end) offsets, blank ones left out."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    left = start
    for found in _SENTENCE_END.finditer(text, start, end):
        if found.group()[0] == "." and not _ends_sentence(text, found.start(), found.end(), end):
            continue
        _add(text, left, found.end(), out)
        left = found.end()
    _add(text, left, end, out)
    return out


def _ends_sentence(text: str, dot: int, after: int, end: int) -> bool:
    """Whether the full stop at ``dot`` ends a sentence: not after an abbreviation or an
    initial, and not before a word in lower case."""
    word = _WORD_BEFORE.search(text, max(0, dot - 12), dot + 1)
    if word and (len(word.group(1)) == 1 or word.group(1).lower() in ABBREVIATIONS):
        return False
    following = text[after:min(end, after + 40)].lstrip()
    return not following[:1].islower()


def paragraph_bounds(text: str) -> list[tuple[int, int]]:
    """The lines of the text as (start, end) offsets, blank ones left out (extracted text
    has one paragraph a line; the title is its own)."""
    out: list[tuple[int, int]] = []
    left = 0
    for found in re.finditer(r"\n", text):
        _add(text, left, found.start(), out)
        left = found.end()
    _add(text, left, len(text), out)
    return out


def _add(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    if text[start:end].strip():
        out.append((start, end))


class Document:
    """One article: ``text`` is what the matcher matched (title, blank line, text: see
    ``Document.of``), ``mentions`` what it found there; lang, country and feeds (names and
    ids as strings) are what lang:, country: and feed: compare with."""

    __slots__ = ("_folded", "_hits", "_mentions", "_occs", "_paragraph_sentences", "_places",
                 "_scanned", "_segments", "_words", "country", "feeds", "lang", "mentions",
                 "text", "title_end")

    def __init__(self, text: str, *, title_end: int = 0, mentions: Sequence[Mention] = (),
                 lang: str | None = None, country: str | None = None,
                 feeds: Iterable[str] = (), folded: Folded | None = None) -> None:
        self.text = text
        self.title_end = title_end
        self.mentions = mentions
        self.lang = (lang or "").lower().replace("_", "-")
        self.country = (country or "").upper()
        self.feeds = frozenset(f.casefold() for f in feeds)
        self._folded = folded
        self._hits: dict[WordKey, list[int]] = {}
        self._scanned: frozenset[WordKey] = frozenset()
        self._words: dict[WordKey, list[Occ]] = {}
        self._places: dict[WordKey, list[tuple[int, int]]] = {}
        self._mentions: dict[tuple[str, ...], list[Mention]] | None = None
        self._occs: dict[tuple[str, ...], list[Occ]] = {}
        self._paragraph_sentences: dict[int, list[tuple[int, int]]] = {}
        self._segments: dict[str, list[tuple[int, int]]] = {}

    @classmethod
    def of(cls, title: str | None, body: str, *, mentions: Sequence[Mention] = (),
           lang: str | None = None, country: str | None = None,
           feeds: Iterable[str] = ()) -> Document:
        """The document pipeline.document makes of a title and a text: the title, a blank
        line and the text (or the text alone when it starts with the title)."""
        if not title:
            text, title_end = body, 0
        elif body.startswith(title):
            text, title_end = body, len(title)
        else:
            text, title_end = f"{title}\n\n{body}", len(title)
        return cls(text, title_end=title_end, mentions=mentions, lang=lang, country=country,
                   feeds=feeds)

    # --- words ----------------------------------------------------------------------------

    @property
    def folded(self) -> Folded:
        if self._folded is None:
            self._folded = fold_text(self.text)
        return self._folded

    def found(self, hits: dict[WordKey, list[int]], looked_for: frozenset[WordKey]) -> None:
        """Where one scan for many queries (QuerySet.prepare) found their words: for each
        word (its tokens) or prefix (its stem) found, the haystack positions of its needle;
        the others of ``looked_for`` are not in the text."""
        self._hits.update(hits)
        self._scanned = self._scanned | looked_for if self._scanned else looked_for

    def has(self, atom: tuple[str, ...] | tuple[str, WordKey]) -> bool:
        """Whether the document holds an atom of QuerySet's requirements: ("words",
        tokens), ("prefix", stem) or a mention key (see has_mention)."""
        if atom[0] == "words" or atom[0] == "prefix":
            return bool(self._positions(atom[1]))
        return self.has_mention(cast("tuple[str, ...]", atom))

    def has_words(self, tokens: tuple[str, ...]) -> bool:
        """Whether the words stand in the text, next to each other in this order."""
        return bool(self._positions(tokens))

    def has_prefix(self, stem: str) -> bool:
        """Whether a word starts with ``stem``."""
        return bool(self._positions(stem))

    def words(self, tokens: tuple[str, ...]) -> list[Occ]:
        """Every occurrence of the words, next to each other in this order.  A word of a
        script written without spaces is found inside longer runs, as the matcher does."""
        return self._occurrences(tokens)

    def prefixed(self, stem: str) -> list[Occ]:
        """Every word that starts with ``stem``."""
        return self._occurrences(stem)

    def word_places(self, key: WordKey) -> list[tuple[int, int]]:
        """The first and last word (token indices) of each occurrence of a word, phrase
        (tokens) or prefix (stem): what NEAR measures, without original offsets."""
        found = self._places.get(key)
        if found is None:
            hay = self.folded.hay
            _, pad, _, spaces = needle(key)
            found = []
            counted, token = 0, -1
            for at in self._positions(key):
                token += hay.count(" ", counted, at + pad)
                counted = at + pad
                found.append((token, token + spaces))
            self._places[key] = found
        return found

    def _positions(self, key: WordKey) -> list[int]:
        """Where the key's needle stands in the haystack (a search the first time)."""
        found = self._hits.get(key)
        if found is None and key in self._scanned:
            return []
        if found is None:
            hay, text = self.folded.hay, needle(key).text
            found = []
            at = hay.find(text)
            while at >= 0:
                found.append(at)
                at = hay.find(text, at + 1)
            self._hits[key] = found
        return found

    def _occurrences(self, key: WordKey) -> list[Occ]:
        """The key's occurrences with their word indices and original offsets (made only
        for the words a NEAR, a scope, a field or the spans ask about)."""
        found = self._words.get(key)
        if found is None:
            folded = self.folded
            hay = folded.hay
            _, pad, length, spaces = needle(key)
            found = []
            counted, token = 0, -1
            for at in self._positions(key):
                start = at + pad
                end = start + length if length >= 0 else hay.find(" ", start)
                token += hay.count(" ", counted, start)
                counted = start
                o0, o1 = folded.span(start, end)
                found.append(Occ(token, token + spaces, o0, o1, ((o0, o1),)))
            self._words[key] = found
        return found

    # --- mentions -------------------------------------------------------------------------

    def has_mention(self, key: tuple[str, ...]) -> bool:
        """Whether the matcher found what the key names: ('entry', watchlist, id),
        ('id', id) for an id of any watchlist, or ('kind', kind)."""
        if self._mentions is None:
            self._index_mentions()
            assert self._mentions is not None
        return key in self._mentions

    def mentioned(self, key: tuple[str, ...]) -> list[Occ]:
        """The matcher's mentions the key names (see has_mention), as occurrences."""
        found = self._occs.get(key)
        if found is None:
            found = self._occs[key] = self._place(self._mentions_of(key))
        return found

    def mention_places(self, key: tuple[str, ...]) -> list[tuple[int, int]]:
        """The first and last word of each mention the key names (see has_mention)."""
        return [(o.t0, o.t1) for o in self.mentioned(key)]

    def _mentions_of(self, key: tuple[str, ...]) -> list[Mention]:
        if self._mentions is None:
            self._index_mentions()
            assert self._mentions is not None
        return self._mentions.get(key, [])

    def _index_mentions(self) -> None:
        self._mentions = {}
        for m in sorted(self.mentions, key=lambda m: (m.start, m.end)):
            for key in (("entry", m.watchlist, m.entry), ("id", m.entry), ("kind", m.kind)):
                self._mentions.setdefault(key, []).append(m)

    def _place(self, mentions: list[Mention]) -> list[Occ]:
        """Mentions (in text order) with the index of their first and last word: only
        NEAR needs these, so only the mentions a query asks for are placed."""
        if not mentions:
            return []
        folded = self.folded
        hay = folded.hay
        out = []
        counted, token, at = 0, -1, 1
        for m in mentions:
            at = self._hay_at(m.start, at)
            token += hay.count(" ", counted, at + 1)
            counted = at + 1
            words = max(1, len(fold(m.text).split()))
            out.append(Occ(token, token + words - 1, m.start, m.end, ((m.start, m.end),)))
        return out

    def _hay_at(self, offset: int, lo: int = 1) -> int:
        """The first haystack position from ``lo`` whose character comes from ``offset``
        or later (a binary search over the fold's offset map)."""
        folded = self.folded
        hi = len(folded.hay) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if folded.span(mid, mid + 1)[0] < offset:
                lo = mid + 1
            else:
                hi = mid
        return lo

    # --- metadata and parts ---------------------------------------------------------------

    def meta(self, name: str, value: str) -> bool:
        """Whether lang:, country: or feed: ``value`` holds (lang:en also for en-GB)."""
        if name == "lang":
            return self.lang == value or self.lang.startswith(value + "-")
        if name == "country":
            return self.country == value
        return value.casefold() in self.feeds

    def segments(self, unit: str) -> list[tuple[int, int]]:
        """The sentences or paragraphs of the text, as (start, end) offsets."""
        found = self._segments.get(unit)
        if found is None:
            paragraphs = self._segments.get("paragraph") or paragraph_bounds(self.text)
            self._segments["paragraph"] = paragraphs
            if unit == "sentence":
                found = [s for p in paragraphs for s in sentence_bounds(self.text, *p)]
                self._segments[unit] = found
            else:
                found = paragraphs
        return found

    def segments_of(self, unit: str, occs: Sequence[Occ]) -> list[tuple[int, int]]:
        """The sentences or paragraphs that hold one of the occurrences, in text order; only
        the paragraphs around them are looked at (and split into sentences)."""
        text = self.text
        out: dict[tuple[int, int], None] = {}
        for occ in occs:
            start = text.rfind("\n", 0, occ.o0) + 1
            end = text.find("\n", occ.o0)
            end = len(text) if end < 0 else end
            if occ.o1 > end:
                continue  # across a line break: in no paragraph
            if unit == "paragraph":
                out[(start, end)] = None
                continue
            sentences = self._paragraph_sentences.get(start)
            if sentences is None:
                sentences = self._paragraph_sentences[start] = sentence_bounds(text, start, end)
            at = bisect_right(sentences, (occ.o0, len(text))) - 1
            if at >= 0 and occ.o1 <= sentences[at][1]:
                out[sentences[at]] = None
        return sorted(out)

def inside(occs: list[Occ], window: Window) -> list[Occ]:
    """The occurrences that lie within the window."""
    if window is None:
        return occs
    lo, hi = window
    return [o for o in occs if lo <= o.o0 and o.o1 <= hi]


def clip(window: Window, bounds: tuple[int, int]) -> tuple[int, int] | None:
    """The part of ``bounds`` within the window, None if nothing."""
    if window is None:
        return bounds
    lo, hi = max(window[0], bounds[0]), min(window[1], bounds[1])
    return (lo, hi) if lo < hi else None

