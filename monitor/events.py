"""Events: the stories that report one happening, each outlet in its own words (pure).

A story's *profile* is the weighted words of its headline and lead (the first ``LEAD``
characters), without the sites' notices (boilerplate.py): each word reduced to its stem
(Snowball, through PyStemmer, for the article's language) and weighed by how rare it is in
that language (``COMMON`` minus its Zipf frequency in wordfreq), twice in the headline.
Rare words are what two reports of one happening share: the names, the places, what was
done ("Pyongyang", "partnership", "treaty"); common words are what every article shares.

Two stories join one event when their profiles' cosine similarity is at least
``SAME_EVENT`` and still ``BEYOND_ONE_WORD`` without the word they share most (one rare
name in common, "Pompeo" or "vCenter", is a topic, not a happening), they are in the same
language, and they were published within the window of each other (the store checks the
window).  Each link is decided by the two
stories alone, so the events (the groups the links connect) are the same whatever the
order in which stories arrive; a story that links two events merges them.

The threshold and the features were chosen on real same-event pairs (SemEval-2022 Task 8,
bench/events.py prints the figures): rarity from a fixed word list rather than from the
stored articles, so that a profile never changes once made and replicas agree.

Candidates come through an index, never a scan: each profile's ``KEYS`` strongest *rare*
terms (a word of Zipf frequency at most ``COMMON - KEY_RARITY``, not a number), hashed with
the language, are stored in an indexed column.  Common words never become keys, so a key
is shared by few stories; the pairs above the threshold still share one (all 134
same-language same-event pairs above it on the dev data, bench/events.py; at Zipf 4.5,
132).  ``links`` compares a story with all its candidates in one vectorised pass over
their stored forms, summing each pair's products in term-id order so
that A against B and B against A give the same float.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from monitor.boilerplate import strip
from monitor.normalize import is_unspaced

SAME_EVENT = 0.30  # cosine similarity of two profiles from which two stories are one event
BEYOND_ONE_WORD = 0.10  # ... of which this much without the one word they share most
LEAD = 1000  # characters of headline and text that a profile reads
TITLE_WEIGHT = 2.0  # a headline's words count twice
TITLE_CHARS = 100  # without a headline, the text's first characters stand for it
COMMON = 7.5  # Zipf frequency from which a word carries nothing (the, de, и ...)
NUMBER_WEIGHT = 0.3  # numbers (years, scores, counts) are weak evidence of one happening
TERMS = 64  # terms a stored profile keeps
KEYS = 10  # its strongest rare terms, indexed for finding candidates
KEY_RARITY = 2.5  # a key's word is at most Zipf 5.0 (Putin 4.1, Trump 4.9; not minister 5.04)

_WORDS = re.compile(r"\w+(?:[-'’]\w+)*")
_STEMMERS = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech",
    "da": "danish", "nl": "dutch", "en": "english", "et": "estonian", "fi": "finnish",
    "fr": "french", "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian",
    "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian", "ne": "nepali",
    "no": "norwegian", "nb": "norwegian", "nn": "norwegian", "fa": "persian", "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "es": "spanish",
    "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}


@dataclass(frozen=True, slots=True)
class Profile:
    """A story's weighted terms (unit length), strongest first."""

    language: str
    terms: tuple[tuple[str, float], ...]
    rare: frozenset[str] = frozenset()  # the terms rare enough to be index keys

    def ids(self) -> dict[int, float]:
        return {term_id(self.language, t): w for t, w in self.terms}

    def key_terms(self) -> tuple[str, ...]:
        """The terms indexed: the strongest rare ones."""
        return tuple(t for t, _ in self.terms if t in self.rare)[:KEYS]

    def keys(self) -> tuple[int, ...]:
        """The index keys: the key terms' ids."""
        return tuple(term_id(self.language, t) for t in self.key_terms())

    def pack(self) -> bytes:
        """The stored form: term ids (int64) then weights (float32), little-endian."""
        ids = np.fromiter((term_id(self.language, t) for t, _ in self.terms), dtype="<i8",
                          count=len(self.terms))
        weights = np.fromiter((w for _, w in self.terms), dtype="<f4", count=len(self.terms))
        return ids.tobytes() + weights.tobytes()


def language_of(code: str | None) -> str:
    """The two-letter language a profile is made for ('' when unknown)."""
    return (code or "").strip().lower()[:2] if code and code[:2].isalpha() else ""


@lru_cache(maxsize=64)
def _stemmer(language: str) -> Any:
    name = _STEMMERS.get(language)
    if name is None:
        return None
    import Stemmer

    return Stemmer.Stemmer(name)


@lru_cache(maxsize=64)
def _frequencies(language: str) -> dict[str, float]:
    """wordfreq's small list for the language (2 MB; rarer words all count as rare); none
    for a language it lacks (it would answer with a "nearest" one: Italian for Latin)."""
    import wordfreq

    if (language or "en") not in wordfreq.available_languages(wordlist="small"):
        return {}
    try:
        return dict(wordfreq.get_frequency_dict(language or "en", wordlist="small"))
    except (LookupError, ValueError):
        return {}


def rarity(word: str, language: str) -> float:
    """How much a (lower-case) word says: COMMON minus its Zipf frequency, at least 0."""
    frequency = _frequencies(language).get(word.casefold(), 0.0)
    zipf = math.log10(frequency) + 9 if frequency > 0 else 0.0
    return max(0.0, COMMON - zipf)


def term_id(language: str, term: str) -> int:
    """A term's id: a signed 63-bit hash of language and term (fits a BIGINT)."""
    raw = hashlib.blake2b(f"{language}:{term}".encode(), digest_size=8).digest()
    return int.from_bytes(raw, "little", signed=True) >> 1


def _tokens(text: str) -> Iterable[str]:
    """The words of a text, as written."""
    for found in _WORDS.finditer(text):
        yield found.group()


@lru_cache(maxsize=1 << 18)
def _terms(word: str, language: str) -> tuple[tuple[str, float, bool], ...]:
    """What one word as written adds to a profile: (term, weight, whether a key may be
    made of it) for each of its parts (cached: a language's words recur).

    A run in a script written without spaces gives its character pairs, the usual unit of
    indexing for them.  A typographic apostrophe is a straight one, and a word with an
    apostrophe that the frequency list lacks is its parts ("c'est", "l'Europe",
    "dell'Italia"), so that elisions never pass for rare words."""
    word = word.lower()
    if is_unspaced(word[0]):
        parts = [word[i:i + 2] for i in range(len(word) - 1)]
    else:
        word = word.replace("’", "'")
        parts = word.split("'") if "'" in word and word not in _frequencies(language) \
            else [word]
    stemmer = _stemmer(language)
    found = []
    for part in parts:
        said = rarity(part, language) if len(part) >= 2 else 0.0
        if said <= 0:
            continue
        number = part.isdigit()
        term = stemmer.stemWord(part) if stemmer is not None else part
        found.append((term, said * NUMBER_WEIGHT if number else said,
                      said >= KEY_RARITY and not number))
    return tuple(found)


def profile(title: str | None, text: str, language: str | None) -> Profile:
    """The profile of an article: its headline (counted twice) and lead, stemmed, weighed
    by rarity, at most TERMS terms, unit length."""
    language = language_of(language)
    title = (title or "").strip()
    if title and not text.startswith(title):
        head, body = title, text
    else:  # no headline, or the text starts with it: the first characters stand for it
        cut = len(title) if title else TITLE_CHARS
        head, body = text[:cut], text[cut:]
    weights: dict[str, float] = {}
    rare: set[str] = set()
    _add(weights, rare, strip(head), language, TITLE_WEIGHT)
    _add(weights, rare, strip(body[: max(0, LEAD - len(head))]), language, 1.0)
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:TERMS]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return Profile(language, tuple((t, w / norm) for t, w in top),
                   frozenset(t for t, _ in top if t in rare))


def _add(weights: dict[str, float], rare: set[str], text: str, language: str,
         factor: float) -> None:
    for word in _tokens(text):
        for term, weight, key in _terms(word, language):
            weights[term] = weights.get(term, 0.0) + weight * factor
            if key:
                rare.add(term)


def unpack(packed: bytes) -> dict[int, float]:
    """A stored profile as {term id: weight}."""
    count = len(packed) // 12
    ids = np.frombuffer(packed, dtype="<i8", count=count)
    weights = np.frombuffer(packed, dtype="<f4", count=count, offset=8 * count)
    return dict(zip(ids.tolist(), weights.tolist(), strict=True))


def _products(a: Mapping[int, float], b: Mapping[int, float]) -> list[float]:
    """The products of the shared terms' weights, in term-id order (the same either way)."""
    return [a[t] * b[t] for t in sorted(a.keys() & b.keys())]


def _total(parts: Iterable[float]) -> float:
    total = 0.0
    for part in parts:  # in order, as numpy's bincount adds (links)
        total += part
    return total


def similarity(a: Mapping[int, float], b: Mapping[int, float]) -> float:
    """Cosine similarity of two profiles (unit vectors: the dot product)."""
    return _total(_products(a, b))


def same_event(a: Mapping[int, float], b: Mapping[int, float]) -> bool:
    """Whether two stories report one happening (module docstring): similar enough, and
    not through one word alone."""
    parts = _products(a, b)
    total = _total(parts)
    return total >= SAME_EVENT and total - max(parts, default=0.0) >= BEYOND_ONE_WORD


@lru_cache(maxsize=8192)
def _arrays(packed: bytes) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """A packed profile's term ids and weights (read-only views; recent stories' profiles are
    every new story's candidates, so the last few thousand are kept decoded)."""
    count = len(packed) // 12
    return (np.frombuffer(packed, dtype="<i8", count=count),
            np.frombuffer(packed, dtype="<f4", count=count, offset=8 * count))


def links(query: bytes, candidates: Sequence[bytes]) -> list[bool]:
    """``same_event`` of one stored profile with each of many, in one vectorised pass (the
    store's candidates): the same answers as ``same_event(unpack(query), unpack(c))``."""
    q_ids, q_weights = _arrays(query)
    if not candidates or not len(q_ids):
        return [False] * len(candidates)
    order = np.argsort(q_ids)
    q_ids, q_weights = q_ids[order], q_weights[order].astype(np.float64)
    parts = [_arrays(p) for p in candidates]
    ids = np.concatenate([i for i, _ in parts])
    weights = np.concatenate([w for _, w in parts]).astype(np.float64)
    owner = np.repeat(np.arange(len(parts)), [len(i) for i, _ in parts])
    at = np.minimum(np.searchsorted(q_ids, ids), len(q_ids) - 1)
    hit = q_ids[at] == ids
    owner, ids = owner[hit], ids[hit]
    products = weights[hit] * q_weights[at[hit]]  # float32 times float32: exact in float64
    order = np.lexsort((ids, owner))
    owner, products = owner[order], products[order]
    total = np.bincount(owner, weights=products, minlength=len(parts))
    top = np.zeros(len(parts))
    np.maximum.at(top, owner, products)
    joined: list[bool] = ((total >= SAME_EVENT) & (total - top >= BEYOND_ONE_WORD)).tolist()
    return joined


def shared(a: Profile, b: Profile, limit: int = 8) -> list[tuple[str, float]]:
    """Why two profiles are alike: the terms they share, by what each adds to the
    similarity (for `monitor events --explain`)."""
    other = dict(b.terms) if a.language == b.language else {}
    found = [(term, weight * other[term]) for term, weight in a.terms if term in other]
    return sorted(found, key=lambda tw: -tw[1])[:limit]


# --- relevance: where an event is filed and how it ranks (digests, `monitor events`) -------

# The order in which an event's entries claim it: the most specific kind first.
KIND_ORDER = ("actor", "treaty", "organization", "topic", "vessel", "aircraft", "other",
              "place", "country")
IN_TITLE, IN_LEAD, IN_BODY = 3.0, 2.0, 1.0  # what a mention weighs by where it is


def prominence(start: int | None, title: str | None) -> float:
    """What one mention says about what an article is about: in the headline most, in the
    lead (the first LEAD characters) more than further down."""
    if start is None:
        return IN_BODY
    head = len(title) + 2 if title else 0  # ingest.document: title, blank line, text
    if title and start < len(title):
        return IN_TITLE
    return IN_LEAD if start < head + LEAD else IN_BODY


def specificity(priority: str, kind: str, weight: float, name: str) -> tuple[Any, ...]:
    """The sort key of an event's entries, first = where the event is filed: high priority,
    then the kind's order, then the most prominent in the event's texts."""
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return (priority != "high", rank, -weight, name)


def score(outlets: int, high: bool, weight: float, age_hours: float,
          window_hours: float = 72.0) -> float:
    """An event's rank: the outlets reporting it (diminishing), a high-priority entry, how
    prominent its top entry is, and how recent it is (0 to 1 over the window)."""
    recency = max(0.0, 1.0 - max(0.0, age_hours) / window_hours) if window_hours > 0 else 0.0
    return round(2.0 * math.log2(1 + outlets) + (3.0 if high else 0.0)
                 + min(weight, 2 * IN_TITLE) / IN_TITLE + recency, 3)


def representative(profiles: Sequence[Mapping[int, float]]) -> int:
    """The index of the profile nearest the group's centre (its most typical report)."""
    centre: dict[int, float] = {}
    for p in profiles:
        for t, w in p.items():
            centre[t] = centre.get(t, 0.0) + w
    best, best_score = 0, -1.0
    for i, p in enumerate(profiles):
        value = similarity(p, centre)
        if value > best_score + 1e-12:
            best, best_score = i, value
    return best


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def lead_sentence(text: str, limit: int = 300) -> str:
    """The first sentence of a text that is not a site's notice, at most ``limit`` chars."""
    for sentence in _SENTENCE_END.split(strip(text[:4000])):
        sentence = " ".join(sentence.split())
        if len(sentence) > 1:
            return sentence if len(sentence) <= limit else sentence[:limit - 1].rstrip() + "…"
    return ""
