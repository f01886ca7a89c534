"""Approximate matching: names written with one typo, found without a scan of the text per name.

Tokens of a text that are not in the watchlists' vocabulary and are no common word in any
language (wordfreq Zipf < 3, see monitor.wordlists) are looked up in a one-deletion index
of the vocabulary (SymSpell-style); an edit distance that counts a swap as one edit
(rapidfuzz OSA) confirms one typo, and the names that contain the corrected token are
checked around it.  A word or name of some frequency (Zipf >= 2: Kamala, Shamir, puttin) is
a typo only inside a name of several words whose other words are there (Vladimir Puttin),
never of a one-word name by itself (Kamala is not a misspelt Kamila).  A word that is the
name's token plus a final n/s/a/i (Russian, Koreas, Lavrova, Israeli) is a different word,
not a typo.  What a name's entry allows (its ``fuzzy`` threshold, capitals) is the
matcher's business: this module finds the names, with their scores.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from rapidfuzz.distance import OSA

from monitor.normalize import Folded, beside, candidate_tokens, near, token_set
from monitor.wordlists import lexicon

COMMON_ZIPF = 3.0  # wordfreq Zipf frequency from which an English word counts as common
MIN_FUZZY_LETTERS = 6  # a name needs this many letters before one typo is tolerated
_INFLECTIONS = frozenset("nsai")  # Russia/Russian, Korea/Koreas, Lavrov/Lavrova, Israel/Israeli
_FIX_CACHE_SIZE = 200_000
_TOKEN = re.compile(r"[a-z0-9]+")  # a word as a folded text has it, one token


@lru_cache(maxsize=1)
def english_frequencies() -> dict[str, float]:
    import wordfreq

    return wordfreq.get_frequency_dict("en", wordlist="best")


def zipf(token: str) -> float:
    """wordfreq's Zipf frequency of a folded English token (log10 per billion words; 0: unseen)."""
    frequency = english_frequencies().get(token, 0.0)
    return math.log10(frequency) + 9 if frequency > 0 else 0.0


def is_common_word(token: str) -> bool:
    """True if the folded token is a common English word (Zipf frequency >= COMMON_ZIPF)."""
    return token in _common_words()


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    least = 10 ** (COMMON_ZIPF - 9)  # Zipf = log10(frequency) + 9
    return frozenset(w for w, f in english_frequencies().items() if f >= least)


class Typos:
    """Built once from the matcher's folded names; ``find(folded)`` for each text.

    ``keys`` maps each folded name ("kim jong un") to its index; ``eligible`` are the
    indexes of the names that may be found with a typo.  Every name's tokens make the
    vocabulary: a text token that is a known word is never corrected.
    """

    def __init__(self, keys: dict[str, int], eligible: Iterable[int]) -> None:
        self._keys = keys
        key_tokens = [key.split() for key in keys]
        self._letters = [sum(map(len, tokens)) for tokens in key_tokens]
        self._vocab = frozenset(t for tokens in key_tokens for t in tokens)
        self._build(key_tokens, eligible)
        self._fix_cache: dict[str, tuple[str, ...]] = {}
        self._alone: dict[str, bool] = {}  # tokens with fixes: no known word by themselves?
        # Tokens never corrected: the vocabulary, and the known no-fixes.
        self._skip = token_set(self._vocab)
        # Known tokens whose every fix is one word of a longer name: the scan passes them
        # over where neither token beside them is a word of a name (most places).
        self._lonely = token_set()
        if self._deletions:
            self._learn(lexicon().common)

    def _learn(self, words: Iterable[str]) -> None:
        """Take these tokens in as a text's would be: the commonest words, most of which the
        first texts hold, a thousand of them near some name's token and each then looked up
        in the word lists (they, more: frequent words, never typos), are known at once."""
        tokens = [word for word in words if _TOKEN.fullmatch(word)]
        hay = f" {' '.join(tokens)} "
        for _, token in candidate_tokens(hay, self._skip, 3, self._longest + 1,
                                         self._deletion_keys):
            self.fixes(token)

    def __bool__(self) -> bool:
        return bool(self._deletions)

    def __getstate__(self) -> dict[str, object]:
        """The index, without the token sets (C tables) and what was learnt of texts."""
        state = dict(self.__dict__)
        for name in ("_skip", "_lonely", "_company", "_deletion_keys", "_fix_cache", "_alone"):
            del state[name]
        state["_company"] = sorted({w for each in self._neighbours.values() for w in each if w})
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        company = state.pop("_company")
        self.__dict__.update(state)
        assert isinstance(company, list)
        self._company = token_set(company)
        self._deletion_keys = token_set(self._deletions)
        self._fix_cache = {}
        self._alone = {}
        self._skip = token_set(self._vocab)
        self._lonely = token_set()

    def _build(self, key_tokens: list[list[str]], eligible: Iterable[int]) -> None:
        """One-deletion index of the eligible names' tokens, and for each token the shapes
        (its position, the name's length) of the names it is in and its neighbours in them
        ('' if it is a name by itself)."""
        deletions: dict[str, set[str]] = {}
        shapes: dict[str, set[tuple[int, int]]] = {}
        neighbours: dict[str, set[str]] = {}
        self._longest = 0
        for index in eligible:
            tokens = key_tokens[index]
            if self._letters[index] < MIN_FUZZY_LETTERS:
                continue
            for position, token in enumerate(tokens):
                if len(token) < 4 or token.isdigit():
                    continue
                shapes.setdefault(token, set()).add((position, len(tokens)))
                neighbours.setdefault(token, set()).update(
                    tokens[max(0, position - 1):position] + tokens[position + 1:position + 2]
                    or [""]
                )
        for token in shapes:  # each token once, however many names it is in
            self._longest = max(self._longest, len(token))
            for variant in {token, *_deletions(token)}:
                deletions.setdefault(variant, set()).add(token)
        # Kept as tuples of atoms, which the garbage collector stops tracking (not sets).
        self._deletions = {variant: tuple(tokens) for variant, tokens in deletions.items()}
        self._shapes = {token: tuple(sorted(each)) for token, each in shapes.items()}
        self._neighbours = {token: tuple(each) for token, each in neighbours.items()}
        # Every token that is some indexed token's neighbour in a name.
        self._company = token_set({w for each in neighbours.values() for w in each if w})
        self._deletion_keys = token_set(self._deletions)
        # How many tokens a name containing the token can reach before and after it.
        self._reach = {
            token: (max(p for p, _ in shapes), max(n - p - 1 for p, n in shapes))
            for token, shapes in self._shapes.items()
        }

    def fixes(self, token: str) -> tuple[str, ...]:
        """Vocabulary tokens one typo away from a rare text token ('santcions' -> sanctions)."""
        fixes = self._fix_cache.get(token)
        if fixes is None:
            fixes = () if token in self._skip else self._remember(token, self._correct(token))
        return fixes

    def _bound(self) -> None:
        """Forget what was learnt of the texts' tokens once it is _FIX_CACHE_SIZE tokens."""
        if len(self._fix_cache) + len(self._skip) >= _FIX_CACHE_SIZE + len(self._vocab):
            self._fix_cache.clear()
            self._alone.clear()
            self._skip = token_set(self._vocab)
            self._lonely = token_set()

    def _correct(self, token: str) -> tuple[str, ...]:
        if not (3 <= len(token) <= self._longest + 1 and token.isalpha()
                and near(token, self._deletion_keys) and not lexicon().is_frequent(token)):
            return ()
        # Most variants are in no name: map/filter keep the misses in C.
        found = filter(None, map(self._deletions.get, (token, *_deletions(token))))
        candidates: set[str] = set().union(*found)
        return tuple(sorted(
            v for v in candidates
            if OSA.distance(token, v, score_cutoff=1) == 1 and not _inflected(token, v)
        ))

    def _remember(self, token: str, fixes: tuple[str, ...]) -> tuple[str, ...]:
        self._bound()
        if fixes:
            self._fix_cache[token] = fixes
            if all("" not in self._neighbours[fixed] for fixed in fixes):
                self._lonely.add(token)
        else:
            self._skip.add(token)
        return fixes

    def find(self, folded: Folded) -> Iterator[tuple[int, tuple[int, int], float, int, int]]:
        """Every name the text spells with one typo: (its index, its haystack span, its
        score, the haystack start and length of the misspelt token).  The score is
        100 x (1 - 1/letters): one typo weighs less in a longer name."""
        hay = folded.hay
        self._bound()
        # In C, iterating the text's tokens (not the vocabulary): most tokens stop here, known
        # or found near no name's token (those are remembered in self._skip).
        for at, token in candidate_tokens(hay, self._skip, 3, self._longest + 1,
                                          self._deletion_keys, (self._lonely, self._company)):
            fixes = self.fixes(token)
            if not fixes:
                continue
            left, right = beside(hay, at, len(token))
            alone = self._alone.get(token)
            if alone is None:
                alone = self._alone[token] = not lexicon().is_known(token)
            for fixed in fixes:
                neighbours = self._neighbours[fixed]
                if (alone and "" in neighbours) or left in neighbours or right in neighbours:
                    yield from self._names_at(hay, at, token, fixed, alone)

    def _names_at(self, hay: str, at: int, token: str, fixed: str, alone: bool = True
                  ) -> Iterator[tuple[int, tuple[int, int], float, int, int]]:
        """Names containing ``fixed`` that the text spells with ``token`` (at hay[at:]);
        not ``alone``: only names of several words, the others spelt right."""
        before, after = _around(hay, at - 1, len(token), *self._reach[fixed])
        for position, length in self._shapes[fixed]:
            if position > len(before) or length - position - 1 > len(after):
                continue
            if length == 1 and not alone:
                continue
            left = before[len(before) - position:]
            right = after[:length - position - 1]
            index = self._keys.get(" ".join([w for w, _ in left] + [fixed] + [w for w, _ in right]))
            if index is None:
                continue
            start = left[0][1] if left else at
            end = right[-1][1] if right else at + len(token)
            score = round(100.0 * (1 - 1 / self._letters[index]), 1)
            yield index, (start, end), score, at, len(token)


def _deletions(token: str) -> list[str]:
    return [token[:i] + token[i + 1:] for i in range(len(token))]


def _inflected(a: str, b: str) -> bool:
    """True if one token is the other plus a final n/s/a/i: a demonym, plural or feminine
    form (Russian, Koreas, Lavrova, Israeli) is a different word, not a typo."""
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return len(longer) == len(shorter) + 1 and longer.startswith(shorter) and (
        longer[-1] in _INFLECTIONS
    )


def _around(hay: str, at: int, length: int, before: int, after: int
            ) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Up to ``before``/``after`` tokens around the token at hay[at + 1: at + 1 + length],
    each with its outer edge in the haystack: its start (left), its end (right)."""
    left: list[tuple[str, int]] = []
    start = at
    for _ in range(before):
        j = hay.rfind(" ", 0, start)
        if j < 0:
            break
        left.append((hay[j + 1:start], j + 1))
        start = j
    right: list[tuple[str, int]] = []
    end = at + 1 + length
    for _ in range(after):
        j = hay.find(" ", end + 1)
        if j < 0:
            break
        right.append((hay[end + 1:j], j))
        end = j
    left.reverse()
    return left, right
