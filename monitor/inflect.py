"""Inflected names: Путина, Путину, России, Putinas, Putina, Putinowi — a name in the case a
sentence of a case language puts it in — found through the Snowball stemmers (PyStemmer)
of the text's language, never through hand-written suffix lists.

A capitalised text token that begins with a one-word name (all of it, or all but its last
two letters: Россия -> России) and runs up to four letters longer is a candidate; the
stemmer of the text's language confirms it:

- Cyrillic: Russian's stemmer (no Snowball stemmer exists for Ukrainian or Belarusian;
  Russian's strips their endings too: Путіна -> путін), the word's stem equal to the
  name's (России and Россия: росс) or folding to the name (Путина -> путин -> putin);
- Latin script: the language guessed from the text's commonest words (wordfreq): Polish,
  Czech and Slovak (Czech's stemmer), Lithuanian and Latvian (Lithuanian's: no Snowball
  stemmer exists for Latvian, and Lithuanian's strips its endings: Putins, Putinam ->
  putin), German and English (Putins), stems compared as above; in a text too short to
  tell its language (a name alone) the word's stem in one of them must be the name itself
  (Putinas -> putin) and the word no common word of another language, so that an English
  "Russian" or "Israeli" (Lithuanian stems russi, israel) stays the demonym it is, and the
  matcher takes it as a guess (as it takes a typo: scored
  below 100, only for entries whose ``fuzzy`` allows it); in a text in any other language,
  no inflection.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache

import Stemmer

from monitor.normalize import Folded, fold, named_tokens, token_set
from monitor.wordlists import LANGUAGES, guide

_STEMMERS = {"ru": "russian", "pl": "polish", "cs": "czech", "sk": "czech",
             "lt": "lithuanian", "lv": "lithuanian", "de": "german", "en": "english"}
_UNKNOWN_TRIES = ("pl", "lt", "cs")
_LATIN_TRIES = ("pl", "cs", "lt", "de", "en")
_GUESSABLE = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sk", "sv", "da", "nb", "fi",
              "hu", "tr", "id", "ms", "ca", "sh", "lt", "lv")
MAX_SUFFIX = 4
_HEAD = 4  # a name's first letters, a token's first test
_SHORTEST = 5  # a one-word name has 4 letters or more, and an inflection one more
_SAMPLE = 600  # the text's first words (characters of the haystack) tell its language
_FORGET = 200_000


@lru_cache(maxsize=8)
def _stemmer(name: str) -> Stemmer._Stemmer:
    return Stemmer.Stemmer(name)


def stem(word: str, language: str) -> str:
    return str(_stemmer(_STEMMERS[language]).stemWord(word.lower()))


def guess_language(hay: str) -> str | None:
    """The Latin-script language (of those with a stemmer here, or another) whose common
    words the text uses most, if clearly ahead; else None.  A word votes for each language
    it is common in (GUIDE), thrice for those it is among the commonest of (GUIDE_TOP: the
    function words), its vote shared among them; languages that share a stemmer (Czech and
    Slovak, Lithuanian and Latvian) count as one."""
    words = guide()
    masks = Counter(filter(None, map(words.get, hay[:_SAMPLE].split())))
    scores: dict[str, float] = {}
    for mask, count in masks.items():
        for family, vote in _votes(mask):
            scores[family] = scores.get(family, 0.0) + vote * count
    ranked = [*sorted(scores.values(), reverse=True), 0.0, 0.0]
    top, second = ranked[0], ranked[1]
    if top < 2.0 or top < 1.5 * second:
        return None
    best = next(family for family, score in scores.items() if score == top)
    return next(lang for lang in _GUESSABLE if _STEMMERS.get(lang, lang) == best)


# Each guessable language's family and bit in a language mask (monitor.wordlists).
_FAMILY_BITS = tuple((_STEMMERS.get(lang, lang), 1 << LANGUAGES.index(lang))
                     for lang in _GUESSABLE)


@lru_cache(maxsize=1 << 16)  # the guide's words have some thousands of masks: all kept
def _votes(mask: int) -> tuple[tuple[str, float], ...]:
    """What a word of this language mask gives each language family (see guess_language)."""
    votes: dict[str, float] = {}
    for weight, shift in ((1.0, 0), (2.0, 64)):
        voters = {family for family, bit in _FAMILY_BITS if mask >> shift & bit}
        for family in voters:
            votes[family] = votes.get(family, 0.0) + weight / len(voters)
    return tuple(votes.items())


class Inflections:
    """Built from the matcher's keys; ``find(folded)`` gives (key index, haystack span) of
    each inflected one-word name in a text."""

    def __init__(self, keys: dict[str, int], forms: dict[int, Iterable[str]]) -> None:
        """``forms``: for the indexes of the one-word keys that may be inflected, the words
        their aliases are written with (Россия for rossiia)."""
        self._keys: dict[str, tuple[int, tuple[str, ...]]] = {}
        self._prefixes: dict[str, tuple[str, ...]] = {}
        prefixes: dict[str, set[str]] = {}
        for key, index in keys.items():
            if index not in forms or " " in key or len(key) < 4 or not key.isalpha():
                continue
            self._keys[key] = (index, tuple({f.lower() for f in forms[index]}))
            for cut in range(len(key), max(3, len(key) - 2) - 1, -1):
                prefixes.setdefault(key[:cut], set()).add(key)
        self._prefixes = {p: tuple(sorted(k)) for p, k in prefixes.items()}
        self._heads = frozenset(key[:_HEAD] for key in self._keys)  # a first test, in C
        self._head_set = token_set(self._heads)
        self._longest = max(map(len, self._keys), default=0) + MAX_SUFFIX
        self._vocab = frozenset(t for key in keys for t in key.split())
        self._skip = token_set(self._vocab)
        self._found: dict[str, list[str]] = {}  # candidate tokens seen, and their keys
        self._latin: dict[str, bool] = {}  # Latin candidate words seen: may they be names?

    def __bool__(self) -> bool:
        return bool(self._keys)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_skip"], state["_found"], state["_latin"], state["_head_set"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._head_set = token_set(self._heads)
        self._skip = token_set(self._vocab)
        self._found = {}
        self._latin = {}

    def _candidates(self, token: str) -> list[str]:
        found: list[str] = []
        if token[:_HEAD] not in self._heads:
            return found
        for cut in range(len(token) - 1, 3, -1):
            for key in self._prefixes.get(token[:cut], ()):
                if key not in found and len(key) < len(token) + 2 and \
                        len(token) - len(key) <= MAX_SUFFIX:
                    found.append(key)
        return found

    def _possible(self, word: str, keys: list[str]) -> bool:
        """Whether some Latin-script language's stemmer makes ``word`` one of the names
        (Putinem, Putinas, Putins: putin), and it is no common word of a language without
        a stemmer here (Egyptian, Israeli in English): the test before the text's language
        is guessed."""
        possible = self._latin.get(word)
        if possible is None:
            possible = not _word_elsewhere(fold(word), _STEMMED_BITS) and any(
                fold(stem(word, lang)) in keys for lang in _LATIN_TRIES)
            self._latin[word] = possible
        return possible

    def find(self, folded: Folded) -> Iterator[tuple[int, tuple[int, int], bool]]:
        """(key index, haystack span, whether the text's language was known) of each."""
        if len(self._skip) + len(self._found) + len(self._latin) > _FORGET + len(self._vocab):
            self._skip = token_set(self._vocab)
            self._found, self._latin = {}, {}
        hay = folded.hay
        language: list[str | None] = []  # guessed once, when first needed
        # Only capitalised tokens that begin as a name does (in C): a name in another case
        # is still written as a name.
        for at, token in named_tokens(folded, self._skip, _SHORTEST, self._longest,
                                      self._head_set, _HEAD):
            keys = self._found.get(token)
            if keys is None:
                keys = self._candidates(token)
                if not keys:
                    self._skip.add(token)
                    continue
                self._found[token] = keys
            start, end = folded.span(at, at + len(token))
            word = folded.text[start:end]
            cyrillic = not word.isascii() and any("\u0400" <= c <= "\u04ff" for c in word)
            if not cyrillic and not self._possible(word.lower(), keys):
                continue  # no stemmer makes it the name: the text's language does not matter
            if not cyrillic and not language:
                language.append(guess_language(hay))
            known = "ru" if cyrillic else language[0]
            for key in keys:
                index, forms = self._keys[key]
                if _confirmed(word, key, forms, known, cyrillic):
                    yield index, (at, at + len(token)), known is not None
                    break


_INFLECTING = ("pl", "cs", "sk", "lt", "lv")  # what inflects a name into a new word
_INFLECTING_BITS = sum(1 << LANGUAGES.index(lang) for lang in _INFLECTING)
_STEMMED_BITS = _INFLECTING_BITS | (1 << LANGUAGES.index("de"))


def _word_elsewhere(folded: str, bits: int = _INFLECTING_BITS) -> bool:
    """Whether a word is common in a language other than ``bits``' (Israeli, Russians,
    Egyptian in English): in a text of unknown language, or in any if German is left
    out of ``bits``, it is that word."""
    return bool(guide().get(folded, 0) & ((1 << 64) - 1) & ~bits)


def _confirmed(word: str, key: str, forms: tuple[str, ...], language: str | None,
               cyrillic: bool) -> bool:
    """Whether ``word`` is the name ``key`` (written as ``forms``) inflected."""
    if language is None:
        return (not cyrillic and not _word_elsewhere(fold(word))
                and any(fold(stem(word, lang)) == key for lang in _UNKNOWN_TRIES))
    if language not in _STEMMERS:
        return False
    stemmed = stem(word, language)
    if fold(stemmed) == key:
        return True
    return any(stem(form, language) == stemmed for form in forms
               if cyrillic == any("\u0400" <= c <= "\u04ff" for c in form))
