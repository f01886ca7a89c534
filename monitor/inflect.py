"""Inflected names: Путина, Путину, России, Putinas, Putina, Putinowi — a name in the case a
sentence of a case language puts it in — found through the Snowball stemmers (PyStemmer)
of the text's language, never through hand-written suffix lists.

A text token that begins with a one-word name (all of it, or all but its last two letters:
Россия -> России) and runs up to four letters longer is a candidate; the stemmer of the
text's language confirms it:

- Cyrillic: Russian's stemmer (no Snowball stemmer exists for Ukrainian or Belarusian;
  Russian's strips their endings too: Путіна -> путін), the word's stem equal to the
  name's (России and Россия: росс) or folding to the name (Путина -> путин -> putin);
- Latin script: the language guessed from the text's commonest words (wordfreq): Polish,
  Czech and Slovak (Czech's stemmer), Lithuanian and Latvian (Lithuanian's: no Snowball
  stemmer exists for Latvian, and Lithuanian's strips its endings: Putins, Putinam ->
  putin), German and English (Putins), stems compared as above; in a text too short to
  tell its language (a name alone) the word's stem in one of them must be the name itself
  (Putinas -> putin), so that an English "Russian" (Lithuanian stem russi, as Russia's)
  stays the demonym it is, and the matcher takes it as a guess (as it takes a typo: scored
  below 100, only for entries whose ``fuzzy`` allows it); in a text in any other language,
  no inflection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import Stemmer

from monitor.normalize import Folded, candidate_tokens, fold, token_set
from monitor.wordlists import LANGUAGES, lexicon

_STEMMERS = {"ru": "russian", "pl": "polish", "cs": "czech", "sk": "czech",
             "lt": "lithuanian", "lv": "lithuanian", "de": "german", "en": "english"}
_UNKNOWN_TRIES = ("pl", "lt", "cs")
_GUESSABLE = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sk", "sv", "da", "nb", "fi",
              "hu", "tr", "id", "ms", "ca", "sh", "lt", "lv")
MAX_SUFFIX = 4
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
    guide = lexicon().guide
    families = {lang: _STEMMERS.get(lang, lang) for lang in _GUESSABLE}
    bits = [(1 << LANGUAGES.index(lang), families[lang]) for lang in _GUESSABLE]
    scores = dict.fromkeys(families.values(), 0.0)
    for token in hay.split()[:400]:
        mask = guide.get(token, 0)
        if not mask:
            continue
        for weight, shift in ((1.0, 0), (2.0, 64)):
            voters = {family for bit, family in bits if mask >> shift & bit}
            for family in voters:
                scores[family] += weight / len(voters)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 2.0 or top < 1.5 * second:
        return None
    return next(lang for lang, family in families.items() if family == best)


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
        self._longest = max(map(len, self._keys), default=0) + MAX_SUFFIX
        self._vocab = frozenset(t for key in keys for t in key.split())
        self._skip = token_set(self._vocab)

    def __bool__(self) -> bool:
        return bool(self._keys)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        del state["_skip"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._skip = token_set(self._vocab)

    def _candidates(self, token: str) -> list[str]:
        found: list[str] = []
        for cut in range(len(token) - 1, 3, -1):
            for key in self._prefixes.get(token[:cut], ()):
                if key not in found and len(key) < len(token) + 2 and \
                        len(token) - len(key) <= MAX_SUFFIX:
                    found.append(key)
        return found

    def find(self, folded: Folded) -> Iterator[tuple[int, tuple[int, int], bool]]:
        """(key index, haystack span, whether the text's language was known) of each."""
        if len(self._skip) > _FORGET + len(self._vocab):
            self._skip = token_set(self._vocab)
        hay = folded.hay
        language: list[str | None] = []  # guessed once, when first needed
        for at, token in candidate_tokens(hay, self._skip, 5, self._longest):
            keys = self._candidates(token)
            if not keys:
                self._skip.add(token)
                continue
            start, end = folded.span(at, at + len(token))
            word = folded.text[start:end]
            cyrillic = any("\u0400" <= c <= "\u04ff" for c in word)
            if not cyrillic and not language:
                language.append(guess_language(hay))
            known = "ru" if cyrillic else language[0]
            for key in keys:
                index, forms = self._keys[key]
                if _confirmed(word, key, forms, known, cyrillic):
                    yield index, (at, at + len(token)), known is not None
                    break


def _confirmed(word: str, key: str, forms: tuple[str, ...], language: str | None,
               cyrillic: bool) -> bool:
    """Whether ``word`` is the name ``key`` (written as ``forms``) inflected."""
    if language is None:
        return not cyrillic and any(fold(stem(word, lang)) == key for lang in _UNKNOWN_TRIES)
    if language not in _STEMMERS:
        return False
    stemmed = stem(word, language)
    if fold(stemmed) == key:
        return True
    return any(stem(form, language) == stemmed for form in forms
               if cyrillic == any("\u0400" <= c <= "\u04ff" for c in form))
