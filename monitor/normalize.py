"""Text folding with an offset map back to the original text.

Every text and every alias is folded the same way: lower case, transliterated to ASCII
(anyascii: Путин -> putin, Tô Lâm -> to lam), every run of characters that are not letters
or digits collapsed into one space.  Symbols and emoji (Unicode categories S*) are
separators, never words: anyascii would make 🌈 "rainbow", 🇷🇺 "RU" and € "EUR".
Scripts written without spaces between words (Han, kana, Hangul, Thai, Lao, Khmer,
Myanmar, Tibetan) are kept as they are: a name in them is matched as a substring (普京 in
普京访问越南), which transliteration could not give.

The folded string ("haystack") is what the multi-pattern automaton scans; ``Folded.span``
maps a token span found in it back to character offsets in the original text, so mentions
can be highlighted where they stand.

Two implementations give the same haystack and the same offsets (tests/test_normalize.py
compares them on random text): the C extension monitor._fold, built with the package when
a C compiler is present (one pass, an int32 offset per haystack character), and the pure
Python reference below, used without it.  The Python one does its work in C too where it
can (bytes/str ``translate``, two regular expressions); only the characters that fold to
several characters (Ж -> zh, ß -> ss, ½ -> 1 2) or to none (combining accents) are visited
in Python, and each one is recorded as an edit so that offsets stay exact.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, chain
from operator import add, sub
from typing import Protocol

from anyascii import anyascii

try:
    from monitor import _fold
except ImportError:  # built without a C compiler: the pure-Python folding below
    _fold = None  # type: ignore[assignment]

SPEEDUPS = _fold is not None

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_RUNS = re.compile(r"(  +)")
_MULTI = "\x00"  # marks a character that does not fold to exactly one character


# Blocks of the scripts written without spaces between words (see the module docstring).
_UNSPACED = (
    (0x0E00, 0x0EFF), (0x0F00, 0x0FFF), (0x1000, 0x109F), (0x1100, 0x11FF), (0x1780, 0x17FF),
    (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3040, 0x30FF), (0x3130, 0x318F),
    (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF),
    (0xFF66, 0xFF9F), (0x20000, 0x2FA1F),
)


def is_unspaced(char: str) -> bool:
    """True for a letter or mark of a script written without spaces between words."""
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED) and (
        unicodedata.category(char)[0] in "LM"
    )


@lru_cache(maxsize=65536)
def fold_char(char: str) -> str:
    """Fold one character: '' (dropped), ' ' (separator), lower-case ASCII letters/digits,
    or the character itself for a script written without spaces (is_unspaced)."""
    if char.isascii():
        return char.lower() if char.isalnum() else " "
    if is_unspaced(char):
        return char
    if unicodedata.category(char)[0] == "S":
        return " "  # symbols and emoji are no words: anyascii makes 🌈 ":rainbow:", € "EUR"
    ascii_form = _NON_ALNUM.sub(" ", anyascii(char).lower())
    if ascii_form.strip():
        return ascii_form if len(ascii_form) == 1 else ascii_form.strip() or " "
    # Letters and marks with no ASCII letter (combining accents, soft sign) vanish inside a word.
    if unicodedata.category(char)[0] in "LM":
        return ""
    return " "


class _OneToOne(dict[int, str]):
    """str.translate table: each code point to its one-character fold, or the marker."""

    def __missing__(self, code: int) -> str:
        folded = fold_char(chr(code))
        value = folded if len(folded) == 1 else _MULTI
        self[code] = value
        return value


_TABLE = _OneToOne()
# ASCII letters lower-cased, digits kept, other ASCII a space; the marker is kept, and so is
# every byte of a UTF-8 sequence (the unspaced scripts' characters stay as they are).
_ASCII_BYTES = bytes(
    (c + 32 if 65 <= c <= 90 else c) if c >= 128 or chr(c).isalnum() or c == 0 else 32
    for c in range(256)
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_RUN_CACHE: dict[str, str] = {}
# Frequent in news text, folding to a separator: ’ “ ” ‘ – — … and the no-break space.
_COMMON_SEPARATORS = "\u2019\u201c\u201d\u2018\u2013\u2014\u2026\u00a0"


def fold(text: str) -> str:
    """The folded form of a short string (an alias, a token): tokens joined by single spaces."""
    if _fold is not None:
        return _fold.fold(text, fold_char)[0][1:-1]
    folded = text.translate(_TABLE)
    if _MULTI in folded:
        folded = "".join(fold_char(c) for c in text)
    return " ".join(folded.split())


@dataclass(frozen=True, slots=True)
class Folded:
    """A text's haystack: ' ' + tokens joined by single spaces + ' ', with its offset map.

    The C folding gives the original index of every haystack character (``_origins``). The
    Python one gives two layers instead: collapsed runs of separators (``_run_*``), then
    characters whose fold is not one character long (``_edit_*``, usually none).
    """

    text: str
    hay: str
    _origins: Sequence[int] | None  # original index of each haystack character (C folding)
    _run_starts: list[int]  # collapsed index of each run of separators that was collapsed
    _run_extra: list[int]  # characters removed up to and including that run
    _shift: int  # haystack index minus collapsed index (0 or 1)
    _edit_starts: list[int]  # expanded index where a multi-character fold starts
    _edit_lengths: list[int]  # its length (0 for a dropped combining mark)
    _edit_origins: list[int]  # the original index of that character

    def _orig(self, pos: int) -> int:
        q = pos - self._shift
        k = bisect_left(self._run_starts, q)
        expanded = q + (self._run_extra[k - 1] if k else 0)
        if not self._edit_starts:
            return expanded
        k = bisect_right(self._edit_starts, expanded) - 1
        if k < 0:
            return expanded
        start, length = self._edit_starts[k], self._edit_lengths[k]
        if expanded < start + length:
            return self._edit_origins[k]
        return self._edit_origins[k] + 1 + expanded - start - length

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the haystack characters [start, end) (tokens, not padding)."""
        origins = self._origins
        if origins is not None:
            ostart, oend = origins[start], origins[end - 1] + 1
        else:
            ostart, oend = self._orig(start), self._orig(end - 1) + 1
        text = self.text
        # A folded character may stand for a character followed by combining marks.
        if oend < len(text) and not text[oend].isascii():
            while oend < len(text) and unicodedata.category(text[oend])[0] == "M":
                oend += 1
        return ostart, oend


def _expand(text: str, one_to_one: str) -> tuple[str, list[int], list[int], list[int]]:
    """Replace each multi-character marker by the character's fold, recording the edits
    (expanded start, length, original index); map/accumulate keep the loop in C."""
    pieces = one_to_one.split(_MULTI)
    piece_lengths = list(map(len, pieces))
    # The i-th marker stands at the original index sum(piece_lengths[:i+1]) + i.
    origins = list(map(add, accumulate(piece_lengths[:-1]), range(len(pieces) - 1)))
    folds = list(map(fold_char, map(text.__getitem__, origins)))
    lengths = list(map(len, folds))
    # Expanded start of marker i: the pieces before it plus the folds before it.
    starts = list(map(add, accumulate(piece_lengths[:-1]), chain((0,), accumulate(lengths))))
    out = [pieces[0], *chain.from_iterable(zip(folds, pieces[1:], strict=True))]
    return "".join(out), starts, lengths, origins


def _fold_run(match: re.Match[str]) -> str:
    run = match.group()
    folded = _RUN_CACHE.get(run)
    if folded is None:
        folded = run.translate(_TABLE)
        if len(_RUN_CACHE) > 100_000:
            _RUN_CACHE.clear()
        _RUN_CACHE[run] = folded
    return folded


def _one_to_one(text: str) -> str:
    """The text with every non-ASCII character folded, if it folds to one character."""
    if text.isascii():
        return text
    for char in _COMMON_SEPARATORS:  # str.replace is much cheaper than a regex callback
        if char in text:
            text = text.replace(char, " ")
    # Other non-ASCII runs (accented letters, whole Cyrillic words) one by one, cached.
    return text if text.isascii() else _NON_ASCII.sub(_fold_run, text)


def fold_text(text: str) -> Folded:
    """Fold a whole text for matching, keeping the map back to original offsets."""
    if _fold is None or not text:
        return fold_text_python(text)
    hay, origins = _fold.fold(text, fold_char)
    return Folded(text, hay, memoryview(origins).cast("i"), [], [], 0, [], [], [])


class TokenSet(Protocol):
    """What candidate_tokens' ``skip`` is: a set[str], or a monitor._fold.TokenSet."""

    def add(self, token: str, /) -> None: ...

    def __contains__(self, token: object, /) -> bool: ...

    def __len__(self) -> int: ...



def token_set(tokens: Iterable[str] = ()) -> TokenSet:
    """A set of tokens (add, in, len) for candidate_tokens' ``skip``: a C table with the
    C folding, which tests a haystack's tokens without making a str of each."""
    return set(tokens) if _fold is None else _fold.TokenSet(tokens)


def candidate_tokens(hay: str, skip: TokenSet, shortest: int, longest: int,
                     keys: TokenSet | None = None,
                     lonely: tuple[TokenSet, TokenSet] | None = None) -> list[tuple[int, str]]:
    """Every token of a haystack that is ``shortest``..``longest`` characters long, not in
    ``skip`` and not digits only, with its start in the haystack, in text order (what the
    matcher's typo pass looks at).  With ``keys``, a token not near them (``near``) is added
    to ``skip`` instead: the typo pass's first test of a new token, done where it stands.
    With ``lonely`` = (tokens, company), a token in ``tokens`` is kept only where the token
    before or after it is in ``company`` (a misspelt word of a longer name needs the rest)."""
    if _fold is not None and isinstance(skip, _fold.TokenSet):
        if keys is None:
            return _fold.tokens(hay, skip, shortest, longest)
        assert isinstance(keys, _fold.TokenSet)
        if lonely is None:
            return _fold.tokens(hay, skip, shortest, longest, keys)
        tokens, company = lonely
        assert isinstance(tokens, _fold.TokenSet) and isinstance(company, _fold.TokenSet)
        return _fold.tokens(hay, skip, shortest, longest, keys, tokens, company)
    return _candidate_tokens(hay, skip, shortest, longest, keys, lonely)


def _candidate_tokens(hay: str, skip: TokenSet, shortest: int, longest: int,
                      keys: TokenSet | None, lonely: tuple[TokenSet, TokenSet] | None
                      ) -> list[tuple[int, str]]:
    """candidate_tokens in pure Python."""
    found: list[tuple[int, str]] = []
    for token in set(hay.split()):
        if not shortest <= len(token) <= longest or token.isdigit() or token in skip:
            continue
        if keys is not None and not near(token, keys):
            skip.add(token)
            continue
        needle = f" {token} "
        at = hay.find(needle)
        while at >= 0:
            found.append((at + 1, token))
            at = hay.find(needle, at + len(token) + 1)
    found.sort()
    if lonely is None:
        return found
    tokens, company = lonely
    return [(at, token) for at, token in found
            if token not in tokens or any(t in company for t in beside(hay, at, len(token)))]


def named_tokens(folded: Folded, skip: TokenSet, shortest: int, longest: int,
                 heads: TokenSet, head: int) -> list[tuple[int, str]]:
    """candidate_tokens(folded.hay, skip, shortest, longest) but only the tokens whose first
    ``head`` characters are in ``heads`` and that the text writes with a capital (the
    matcher's pass for inflected names: most tokens stop at the first test, in C)."""
    origins = folded._origins
    if (_fold is not None and isinstance(skip, _fold.TokenSet)
            and isinstance(heads, _fold.TokenSet) and isinstance(origins, memoryview)):
        found: list[tuple[int, str]] = _fold.named(folded.hay, skip, shortest, longest, heads,
                                                   head, folded.text, origins)
        return found
    text = folded.text
    return [(at, token) for at, token in _candidate_tokens(folded.hay, skip, shortest, longest,
                                                           None, None)
            if token[:head] in heads and text[folded.span(at, at + len(token))[0]].isupper()]


def speedups() -> bool:
    """Whether the C folding is in use (tests and bench/match.py --pure-python turn it off)."""
    return _fold is not None


def key_runs(hay: str, keys: TokenSet, prefixes: TokenSet, longest: int
             ) -> list[tuple[int, int, int]]:
    """Every run of 1..``longest`` whole tokens of ``hay`` that is in ``keys``: (its ordinal
    in ``keys``, the index of the space before it, the index after the space after it), in
    C; ``prefixes`` are the runs of tokens that begin a key (a run that is none is not
    extended).  Both are C token sets (token_set with the C folding)."""
    assert _fold is not None
    assert isinstance(keys, _fold.TokenSet) and isinstance(prefixes, _fold.TokenSet)
    return _fold.runs(hay, keys, prefixes, longest)


def beside(hay: str, at: int, length: int) -> tuple[str, str]:
    """The tokens before and after the token at hay[at:at + length] ('' at either end)."""
    end = at + length
    return hay[hay.rfind(" ", 0, at - 1) + 1:at - 1], hay[end + 1:hay.find(" ", end + 1)]


def near(token: str, keys: TokenSet) -> bool:
    """Whether ``token``, or ``token`` without one of its characters, is in ``keys``."""
    if _fold is not None and isinstance(keys, _fold.TokenSet):
        return _fold.near(token, keys)
    return token in keys or any(token[:i] + token[i + 1:] in keys for i in range(len(token)))


def fold_text_python(text: str) -> Folded:
    """fold_text in pure Python: the reference the C folding is tested against."""
    # What stays is ASCII, unspaced scripts and markers for the characters that fold to several.
    text_1to1 = _one_to_one(text)
    if text_1to1.isascii():
        folded = text_1to1.encode("ascii").translate(_ASCII_BYTES).decode("ascii")
    else:
        folded = text_1to1.encode("utf-8").translate(_ASCII_BYTES).decode("utf-8")
    edits: tuple[list[int], list[int], list[int]] = ([], [], [])
    if _MULTI in folded:
        folded, *edit_lists = _expand(text, folded)
        edits = (edit_lists[0], edit_lists[1], edit_lists[2])
    # [piece, run of 2+ spaces, piece, ...]: the pieces joined by single spaces, and for each
    # run its index in the joined string and the characters removed up to and including it.
    parts = _RUNS.split(folded)
    pieces = parts[::2]
    collapsed = " ".join(pieces)
    extra = list(map(sub, accumulate(map(len, parts[1::2])), range(1, len(pieces))))
    starts = list(map(add, accumulate(map(len, pieces[:-1])), range(len(pieces) - 1)))
    shift = 0 if collapsed.startswith(" ") else 1
    hay = ("" if shift == 0 else " ") + collapsed + ("" if collapsed.endswith(" ") else " ")
    if not collapsed:  # nothing folds to a character: no token
        hay = " "
    return Folded(text, hay, None, starts, extra, shift, *edits)
