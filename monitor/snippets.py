"""A hit's snippet (pure): the sentence around its first mention, on one line, and where the
mentions the matcher found stand in it, so a digest highlights exactly the matcher's
word-bounded spans (never a search for the words, which would mark `la*un*ch`).

The snippet is stored with the hit; so are these spans (``Hit.snippet_marks``), relative to
the snippet: the text it came from is not at hand when the digest is made.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

_SENTENCE_END = re.compile(r"[.!?…。！？](?=[\s\"'”’)\]]|$)|\n")
# A snippet's words: what is between runs of white space, controls and bidi overrides
# (each run becomes one space: a snippet is one line, safe for a terminal).
_WORD = re.compile("[^\\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]+")
LIMIT = 300


def snippet(text: str, start: int, end: int, limit: int = LIMIT) -> str:
    """The sentence around text[start:end], trimmed to about ``limit`` characters."""
    return excerpt(text, start, end, (), limit)[0]


def excerpt(text: str, start: int, end: int, spans: Sequence[tuple[int, int]] = (),
            limit: int = LIMIT) -> tuple[str, list[tuple[int, int] | None]]:
    """The snippet of text[start:end] (see ``snippet``), and for each of ``spans`` (offsets
    into ``text``) its offsets in the snippet, or None where it is not wholly shown."""
    left = 0
    for found in _SENTENCE_END.finditer(text, max(0, start - limit), start):
        left = found.end()
    found_end = _SENTENCE_END.search(text, end)
    right = found_end.end() if found_end else len(text)
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, left, right)]
    origins = [s for s, _ in words]           # where each word starts in text
    places, at = [], 0                        # ... and in the sentence
    for s, e in words:
        places.append(at)
        at += e - s + 1
    sentence = " ".join(text[s:e] for s, e in words)

    def place(offset: int, last: bool = False) -> int | None:
        """Where text[offset] is in the sentence (None: in a space that was collapsed)."""
        k = bisect_right(origins, offset) - 1
        if k < 0 or offset >= words[k][1]:
            return None
        return places[k] + offset - origins[k] + int(last)

    if len(sentence) <= limit:
        lo, shown, prefix, body = 0, 0, "", sentence
    else:
        at = place(start) or 0
        lo = max(0, min(at - limit // 3, len(sentence) - limit))
        piece = sentence[lo:lo + limit]
        body = piece.strip()
        shown = lo + len(piece) - len(piece.lstrip())  # where the body starts in the sentence
        prefix = "…" if lo else ""
        suffix = "…" if lo + limit < len(sentence) else ""
        sentence = prefix + body + suffix
    placed: list[tuple[int, int] | None] = []
    for s, e in spans:
        a = place(s) if left <= s < e <= right else None
        b = place(e - 1, last=True) if a is not None else None
        if a is None or b is None or a < shown or b > shown + len(body):
            placed.append(None)
        else:
            placed.append((a - shown + len(prefix), b - shown + len(prefix)))
    return sentence, placed
