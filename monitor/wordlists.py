"""Which names are also ordinary words, from wordfreq's frequency lists in many languages.

A watched name that is an ordinary word somewhere (a vessel called SUCCESS, a person's
alias "Major", "dove" in Italian, "наша" in Russian) must be matched only where a text
writes it as a name; a word of some frequency is never a typo of a name (Kamala is not a
misspelt KAMILA).  Three things are drawn from the lists:

- ``common``: words written in ASCII whose Zipf frequency reaches COMMON in a Latin-script
  language, with the languages (a bit each);
- ``guide()``: folded words reaching GUIDE in a Latin-script language, with the languages:
  what a text's commonest words say of its language (monitor.inflect);
- ``native_common``: words of other scripts that reach COMMON in their language and whose
  transliteration is no frequent Latin-script word (этим, наша: not Путин, whose folded
  form "putin" is frequent in Latin-script text too);
- ``frequent``: the ASCII words reaching FREQUENT in a Latin-script language (hashed as
  below): an organisation's one-word name that is such a word is that word in lower case;
- ``known``: every folded word whose frequency reaches KNOWN in a Latin-script language
  (transliterations of other scripts would make names of them: Лавроф), as a sorted
  array of 64-bit hashes (a million words in 11 MB, looked up by bisection).

The thresholds were measured (see README "Matching"): at COMMON = 4.6 the ordinary words
that false mentions came from (success 5.1, freedom 4.9, victory 4.7, stream 4.6, major 5.3,
note 5.0, base 5.0, dove 6.0 in Italian, nabi 4.9 in Indonesian) are in, the names of the
tests and the seed are out (putin at most 4.5, georgia 4.5, jordan 4.5); at KNOWN = 2.0,
the names that typo matches came from (askar 3.1, shamir 2.3, siobhan 2.8, kamala 3.0) are
known words, the misspellings (zelenskyy, santcions, lavrof) are not.

Computing this reads 20 frequency lists (some seconds, half a gigabyte for a moment); the
result is kept in the private cache folder (monitor.cachedir) as JSON and raw arrays of
hashes, formats that run no code when read, keyed by wordfreq's version and these parameters.
"""

from __future__ import annotations

import gc
import hashlib
import json
import sys
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from monitor.cachedir import cache_dir, read_private, write_private
from monitor.normalize import fold

try:
    from monitor import _fold
except ImportError:  # built without a C compiler: bisect_left
    _fold = None  # type: ignore[assignment]

COMMON = 4.6
KNOWN = 2.0
LATIN_FREQUENT = 4.0  # a transliterated word this frequent in Latin script is a name too
GUIDE = 4.0  # words this frequent tell a text's language (monitor.inflect.guess_language)
GUIDE_TOP = 5.0  # and these tell it best (the function words)
FREQUENT = 3.0  # an organisation's one-word name this frequent is a word in lower case
# Languages whose ordinary words count: the Latin-script languages of the news monitored
# most, and the other scripts whose words transliterate into Latin letters.
# Not Romanian: written without its diacritics (as often online), "puțin" (a little) is
# "putin", one of its commonest words.
LATIN = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sk", "sv", "da", "nb", "fi",
         "hu", "tr", "id", "ms", "vi", "ca", "sh", "lt", "lv")
OTHER_SCRIPTS = ("ru", "uk", "bg", "mk", "el", "ar", "fa", "he")
LANGUAGES = LATIN + OTHER_SCRIPTS
_VERSION = 1


@dataclass(frozen=True)
class Lexicon:
    common: dict[str, int]  # folded word -> bit mask of LANGUAGES where it is common
    native_common: frozenset[str]  # lower-case words of other scripts (see module doc)
    known: array[int]  # sorted 64-bit hashes of the folded words of some frequency
    frequent: array[int]  # the same of ASCII words reaching FREQUENT in a language

    def common_languages(self, folded: str) -> tuple[str, ...]:
        mask = self.common.get(folded, 0)
        return tuple(lang for i, lang in enumerate(LANGUAGES) if mask >> i & 1)

    def is_known(self, folded: str) -> bool:
        """Whether a folded token is a word or name of some frequency in some language."""
        return _holds(self.known, folded)

    def is_frequent(self, word: str) -> bool:
        """Whether a lower-case ASCII word reaches FREQUENT in some language."""
        return _holds(self.frequent, word)


def _holds(hashes: array[int], word: str) -> bool:
    """Whether the sorted hashes hold the word's: bisected in C where monitor._fold is built
    (bisect_left on an array makes a Python int of each probe: 5 us a word)."""
    value = _hash(word)
    if _fold is not None:
        return _fold.holds(hashes, value)
    return _holds_python(hashes, value)


def _holds_python(hashes: array[int], value: int) -> bool:
    at = bisect_left(hashes, value)
    return at < len(hashes) and hashes[at] == value


def _hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


def _compute() -> tuple[Lexicon, dict[str, int]]:
    import wordfreq

    common: dict[str, int] = {}
    guide: dict[str, int] = {}
    native: set[str] = set()
    latin_frequent: set[str] = set()
    known: set[int] = set()
    frequent: set[int] = set()
    for bit, lang in enumerate(LANGUAGES):
        buckets = wordfreq.get_frequency_list(lang)  # bucket i: Zipf 9 - i / 100
        lowest = KNOWN if lang in LATIN else COMMON
        for index, bucket in enumerate(buckets[:round((9 - lowest) * 100) + 1]):
            zipf = 9 - index / 100
            if lang not in LATIN:
                native.update(w for w in bucket if w.isalpha() and not w.isascii())
                continue
            for word in bucket:
                # Known words: as written, folded (the typo pass sees folded tokens).  Common
                # and frequent words: only those written in ASCII, which fold to themselves
                # (Romanian "puțin" is not the name Putin).
                ascii_word = word.isascii() and word.isalnum()
                if len(word) >= 3:
                    known.add(_hash(word if ascii_word else fold(word)))
                if zipf >= GUIDE:
                    folded = word if ascii_word else fold(word)
                    if folded and " " not in folded:
                        top = 1 << (bit + 64) if zipf >= GUIDE_TOP else 0
                        guide[folded] = guide.get(folded, 0) | 1 << bit | top
                if ascii_word and zipf >= COMMON:
                    common[word] = common.get(word, 0) | 1 << bit
                if ascii_word and zipf >= LATIN_FREQUENT:
                    latin_frequent.add(word)
                if ascii_word and zipf >= FREQUENT:
                    frequent.add(_hash(word))
        wordfreq.get_frequency_list.cache_clear()
        del buckets
    native_common = frozenset(w for w in native if fold(w) not in latin_frequent)
    gc.collect()
    return Lexicon(common, native_common, _array(known), _array(frequent)), guide


def _array(hashes: set[int]) -> array[int]:
    return array("Q", sorted(hashes))


def _to_bytes(hashes: array[int]) -> bytes:
    """Little-endian bytes (the file's byte order whatever the machine's)."""
    if sys.byteorder == "little":
        return hashes.tobytes()
    swapped = array("Q", hashes)
    swapped.byteswap()
    return swapped.tobytes()


def _from_bytes(data: bytes) -> array[int]:
    if len(data) % 8:
        raise ValueError("not a whole number of 64-bit hashes")
    hashes = array("Q")
    hashes.frombytes(data)
    if sys.byteorder != "little":
        hashes.byteswap()
    return hashes


def _cache_key() -> str:
    from importlib.metadata import version

    blob = json.dumps([_VERSION, version("wordfreq"), COMMON, KNOWN, LATIN_FREQUENT, FREQUENT,
                       GUIDE, GUIDE_TOP, LANGUAGES])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The lexicon, from the cache folder when it is there (computed and kept otherwise)."""
    stem = _stem()
    if stem is not None:
        words = read_private(stem.with_suffix(".json"))
        known, frequent = read_private(stem.with_suffix(".known")), read_private(
            stem.with_suffix(".frequent"))
        if words is not None and known is not None and frequent is not None:
            try:
                data = json.loads(words)
                return Lexicon(dict(data["common"]), frozenset(data["native_common"]),
                               _from_bytes(known), _from_bytes(frequent))
            except (ValueError, KeyError, TypeError):
                pass  # a damaged file: computed again, and written again below
    return _computed()[0]


@lru_cache(maxsize=1)
def guide() -> dict[str, int]:
    """Folded word -> bit mask of the LANGUAGES where it reaches GUIDE, or-ed with the same
    for GUIDE_TOP shifted by 64: what a text's words say of its language (read apart from
    the lexicon: only texts with a name in another case need it)."""
    stem = _stem()
    if stem is not None:
        data = read_private(stem.with_suffix(".guide"))
        if data is not None:
            try:
                return dict(json.loads(data))
            except (ValueError, TypeError):
                pass
    return _computed()[1]


def _stem() -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"words-{_cache_key()}"


@lru_cache(maxsize=1)
def _computed() -> tuple[Lexicon, dict[str, int]]:
    """Computed once in a process, and kept in the cache folder."""
    found, guide_words = _compute()
    stem = _stem()
    if stem is not None:
        write_private(stem.with_suffix(".known"), _to_bytes(found.known))
        write_private(stem.with_suffix(".frequent"), _to_bytes(found.frequent))
        write_private(stem.with_suffix(".guide"), json.dumps(guide_words).encode())
        write_private(stem.with_suffix(".json"), json.dumps(
            {"common": found.common, "native_common": sorted(found.native_common)},
            ensure_ascii=False).encode())
    return found, guide_words
