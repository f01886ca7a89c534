"""Text folding with an offset map back to the original text.

Every text and every alias is folded the same way: lower case, transliterated to ASCII
(anyascii: Путин -> putin, Tô Lâm -> to lam), every run of characters that are not letters
or digits collapsed into one space.  The folded string ("haystack") is what the
multi-pattern automaton scans; ``Folded.span`` maps a token span found in it back to
character offsets in the original text, so mentions can be highlighted where they stand.

Two paths produce the same result:

- fast: when every character folds to exactly one character (all ASCII text, and most
  Latin-script text), ``str.translate`` and two regular expressions do the work in C;
- slow: when some character folds to several (Ж -> zh, ß -> ss) or to none (combining
  accents), one Python loop builds the haystack and a position list.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_RUNS = re.compile(r" {2,}")
_MULTI = "\x00"  # marks a character that does not fold to exactly one character


@lru_cache(maxsize=65536)
def fold_char(char: str) -> str:
    """Fold one character: '' (dropped), ' ' (separator) or lower-case ASCII letters/digits."""
    if char.isascii():
        return char.lower() if char.isalnum() else " "
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


def fold(text: str) -> str:
    """The folded form of a short string (an alias, a token): tokens joined by single spaces."""
    folded = text.translate(_TABLE)
    if _MULTI in folded:
        folded = "".join(fold_char(c) for c in text)
    return " ".join(folded.split())


@dataclass(frozen=True, slots=True)
class Folded:
    """A text's haystack: ' ' + tokens joined by single spaces + ' ', with its offset map."""

    text: str
    hay: str
    _positions: list[int] | None  # slow path: original index of each haystack character
    _run_starts: list[int]  # fast path: haystack index of each collapsed run of separators
    _run_extra: list[int]  # fast path: characters removed up to and including that run
    _shift: int  # fast path: haystack index minus collapsed index (0 or 1)

    def _orig(self, pos: int) -> int:
        if self._positions is not None:
            return self._positions[pos]
        q = pos - self._shift
        k = bisect_left(self._run_starts, q)
        return q + (self._run_extra[k - 1] if k else 0)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the haystack characters [start, end) (tokens, not padding)."""
        ostart = self._orig(start)
        oend = self._orig(end - 1) + 1
        text = self.text
        # A folded character may stand for a character followed by combining marks.
        while oend < len(text) and unicodedata.category(text[oend])[0] == "M":
            oend += 1
        return ostart, oend


def fold_text(text: str) -> Folded:
    """Fold a whole text for matching, keeping the map back to original offsets."""
    one_to_one = text.translate(_TABLE)
    if _MULTI in one_to_one:
        return _fold_slow(text)
    starts: list[int] = []
    extra: list[int] = []
    removed = 0
    for m in _RUNS.finditer(one_to_one):
        starts.append(m.start() - removed)
        removed += m.end() - m.start() - 1
        extra.append(removed)
    collapsed = _RUNS.sub(" ", one_to_one)
    shift = 0 if collapsed.startswith(" ") else 1
    hay = ("" if shift == 0 else " ") + collapsed + ("" if collapsed.endswith(" ") else " ")
    return Folded(text, hay, None, starts, extra, shift)


def _fold_slow(text: str) -> Folded:
    chars: list[str] = [" "]
    positions: list[int] = [0]
    last_space = True
    for index, char in enumerate(text):
        for out in fold_char(char):
            if out == " ":
                if last_space:
                    continue
                last_space = True
            else:
                last_space = False
            chars.append(out)
            positions.append(index)
    if not last_space:
        chars.append(" ")
        positions.append(len(text))
    return Folded(text, "".join(chars), positions, [], [], 0)
