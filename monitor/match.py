"""The matcher: every watched name in a text, with original offsets, few false alarms.

How it works (see README "How matching works"):

1. Every alias (plus a country's names from CLDR, plus every country's English names as
   "shadows" that are not reported) is folded (normalize.fold) into tokens; one
   Aho-Corasick automaton (ahocorasick-rs) holds them all as " token token " patterns,
   so a hit is always whole words.
2. A text is folded once (normalize.fold_text) and scanned once (a haystack in ASCII, the
   usual, has its runs of tokens looked up in C instead: monitor._fold.runs); each hit is
   checked against its alias's case rule on the original surface (US only as capitals,
   U.S. dotted, case-sensitive entries, ...).
3. Names written with one typo are found by monitor.typos (a one-deletion index of the
   names' tokens, confirmed with rapidfuzz's OSA distance) and kept where the entry's
   ``fuzzy`` threshold allows.
4. Overlapping candidates: the longest name wins (shadows included, so "South Sudan" is
   never "Sudan"); then `exclude` and `requires` are applied.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from operator import attrgetter
from typing import NamedTuple

import ahocorasick_rs

from monitor.countries import (
    english_country_names,
    foreign_country_names,
    organization_names,
    region_names,
)
from monitor.inflect import Inflections
from monitor.normalize import Folded, TokenSet, fold, fold_text, key_runs, speedups, token_set
from monitor.precision import (
    NOT_PLAIN,
    context_terms,
    default_context,
    foreign_common_word,
    in_context,
    is_latin,
    plainness,
    written_as_name,
)
from monitor.translit import orders, variants, writes_cyrillic
from monitor.typos import Typos, is_common_word
from monitor.watchlist import Entry, Watchlist

# Roles of a pattern target.
NAME, SHADOW, EXCLUDE, REQUIRE = range(4)
# Case rules, checked on the original surface of a hit.
ANY, SHORT_CAPS, DOTTED, EXACT, NATIVE = range(5)

_DOTTED = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
_NOT_WORD = re.compile(r"[\W_]+")
_MENTION_ORDER = attrgetter("start", "watchlist", "entry")
_new = tuple.__new__
_SHORT = 600  # a haystack this short is looked up, not scanned, until an automaton exists
# Places whose names contain a country's name but are not that country.
EXTRA_SHADOWS = ("New Mexico", "New Jersey", "New South Wales", "New Guinea", "Georgia Tech")


class Mention(NamedTuple):
    """One mention of a watchlist entry in a text; text == source[start:end]."""

    watchlist: str
    entry: str
    kind: str
    name: str
    text: str
    start: int
    end: int
    score: float
    alias: str
    priority: str = "normal"
    # Another entry of the same watchlist has this alias too (shared aliases are allowed):
    # the mention is reported for each of them.
    ambiguous: bool = False


class _Target(NamedTuple):  # a tuple: a cached matcher's 10^5 of them unpickle fast
    role: int
    entry: int  # index into Matcher._entries, -1 for shadows
    alias: str
    rule: int
    capital: bool  # the alias starts with a capital (fuzzy hits must too)
    # EXACT: the alias's letters; NATIVE: casefolded; SHORT_CAPS, DOTTED: NFKC (_Surface)
    letters: str = ""
    plain: int = NOT_PLAIN  # a word too: only where written as a name (precision.plainness)
    derived: bool = False  # a spelling of the alias in another convention (translit)


class _EntryRef(NamedTuple):
    watchlist: str
    entry: Entry
    mention: tuple[str, str, str, str]  # watchlist, id, kind, name: a Mention's first fields
    requires: bool  # entry.requires is not empty
    priority: str
    context: tuple[str, ...] = ()  # folded terms one of which the sentence must hold


@lru_cache(maxsize=1)
def _english_keys() -> dict[str, str]:
    """Folded English country names and their country codes."""
    return {fold(name): code for code, names in english_country_names().items()
            for name in names}


@lru_cache(maxsize=1)
def _place_names() -> frozenset[str]:
    """Folded names that are names whatever else they are: countries (China, Turkey,
    Georgia), regions and blocs."""
    names = [n for each in english_country_names().values() for n in each]
    names += list(region_names()) + list(organization_names())
    return frozenset(fold(n) for n in names)


def span_key(folded: Folded, span: tuple[int, int]) -> str:
    return folded.hay[span[0]:span[1]]


def _letters(text: str) -> str:
    return _NOT_WORD.sub("", text if text.isascii() else unicodedata.normalize("NFC", text))


def _compat(letters: str) -> str:
    """Letters in their compatibility form (ＵＳ is US) with accents kept (ÜS is not US)."""
    return letters if letters.isascii() else unicodedata.normalize("NFKC", letters)


def _is_acronym(alias: str) -> bool:
    letters = _letters(alias)
    return " " not in alias.strip() and letters.isalpha() and letters.isupper() and len(letters) > 1


class Matcher:
    """Built once from watchlists; ``match(text)`` is pure and safe to call repeatedly."""

    def __init__(self, watchlists: Sequence[Watchlist], *, shadows: bool = True) -> None:
        with _gc_paused():  # the build makes some 10^5 small objects that all stay alive
            self._build(watchlists, shadows)

    def _build(self, watchlists: Sequence[Watchlist], shadows: bool) -> None:
        self._entries: list[_EntryRef] = []
        self._keys: dict[str, int] = {}
        self._pending: list[list[_Target]] = []
        for watchlist in watchlists:
            for entry in watchlist.entries:
                self._add_entry(watchlist.name, entry)
        if shadows:
            self._add_shadows()
        # A key is padded with the spaces around it, so a hit is whole words, except on a side
        # where it ends in a script written without spaces (matched as a substring there).
        self._pads = [(int(key[0].isascii()), int(key[-1].isascii())) for key in self._keys]
        self._longest_key = max((key.count(" ") + 1 for key in self._keys), default=0)
        self._automata()
        if self._keys:  # built now, not in the first texts (a cached matcher's lazily)
            self._scan(" " * (_SHORT + 1))
            self._scan(" é" * _SHORT)
        self._targets = [tuple(targets) for targets in self._pending]
        del self._pending
        # Per pattern: its padding, and its candidates when none needs a check (the usual).
        self._hits = [(left, right, _plain(targets) or _plain(_needed(targets)))
                      for (left, right), targets in zip(self._pads, self._targets, strict=True)]
        self._typos = Typos(self._keys, [
            index for index, targets in enumerate(self._targets)
            if any(self._fuzzy_ok(t) for t in targets)])
        self._inflections = Inflections(self._keys, {
            index: [t.alias for t in targets if self._inflectable(t)]
            for index, targets in enumerate(self._targets)
            if any(self._inflectable(t) for t in targets)})

    def _automata(self) -> None:
        """Built when first needed: a one-line text in ASCII needs only the first."""
        self._automaton: ahocorasick_rs.AhoCorasick | None = None
        # The same patterns as bytes, for the usual haystack that is all ASCII: scanning
        # bytes spares the str automaton's work of mapping byte offsets back to characters.
        self._ascii_automaton: ahocorasick_rs.BytesAhoCorasick | None = None
        # With the C folding, no automaton for a haystack in ASCII: the keys and the runs of
        # tokens that begin them as C token sets, its runs of tokens looked up (_key_sets).
        self._key_set: tuple[TokenSet, TokenSet] | None = None

    def _key_sets(self) -> tuple[TokenSet, TokenSet]:
        """The keys (a key's ordinal in the set is its index) and the runs of tokens that
        begin them."""
        if self._key_set is None:
            keys = token_set(self._keys)
            assert len(keys) == len(self._keys)
            prefixes = token_set(key[:i] for key in self._keys if " " in key
                                 for i, c in enumerate(key) if c == " ")
            self._key_set = keys, prefixes
        return self._key_set

    def _patterns(self) -> list[str]:
        return [" " * left + key + " " * right
                for key, (left, right) in zip(self._keys, self._pads, strict=True)]

    def _scan(self, hay: str) -> list[tuple[int, int, int]]:
        """(pattern index, start, end) of every pattern in the haystack, overlaps included."""
        if hay.isascii() and speedups():
            # In ASCII every key is padded (whole words): its runs of tokens are all to find.
            return key_runs(hay, *self._key_sets(), self._longest_key)
        if hay.isascii() and len(hay) <= _SHORT and self._ascii_automaton is None:
            return self._lookup(hay)
        if hay.isascii():
            return self._scan_bytes(hay)
        if self._automaton is None:
            self._automaton = ahocorasick_rs.AhoCorasick(
                self._patterns(), matchkind=ahocorasick_rs.MATCHKIND_STANDARD)
        found: list[tuple[int, int, int]] = self._automaton.find_matches_as_indexes(
            hay, overlapping=True)
        return found

    def _scan_bytes(self, hay: str) -> list[tuple[int, int, int]]:
        """_scan of a haystack in ASCII by the automaton of the patterns as bytes (without the
        C folding)."""
        if self._ascii_automaton is None:
            self._ascii_automaton = ahocorasick_rs.BytesAhoCorasick(
                [p.encode() for p in self._patterns()],
                matchkind=ahocorasick_rs.MATCHKIND_STANDARD)
        found: list[tuple[int, int, int]] = self._ascii_automaton.find_matches_as_indexes(
            hay.encode(), overlapping=True)
        return found

    def _lookup(self, hay: str) -> list[tuple[int, int, int]]:
        """_scan for a short haystack in ASCII, by looking its runs of tokens up: a one-line
        text from a freshly loaded matcher is answered without building an automaton (a
        third of a second for 10,000 entries).  In ASCII every key is padded (whole
        words), so the runs of whole tokens are all there is to find."""
        spaces = [i for i, c in enumerate(hay) if c == " "]
        starts, ends = spaces[:-1], spaces[1:]
        keys = self._keys
        found = []
        for first, start in enumerate(starts):
            for last in range(first, min(len(ends), first + self._longest_key)):
                index = keys.get(hay[start + 1:ends[last]])
                if index is not None:
                    found.append((index, start, ends[last] + 1))
        return found

    def __getstate__(self) -> dict[str, object]:
        """Everything but the automata, which are built again from the keys when unpickled
        (ahocorasick-rs cannot pickle them): see monitor.matchcache."""
        state = dict(self.__dict__)
        del state["_automaton"], state["_ascii_automaton"], state["_key_set"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        with _gc_paused():
            self.__dict__.update(state)
            self._automata()

    # --- building --------------------------------------------------------------------------

    def _add(self, text: str, target: _Target) -> None:
        key = fold(text)
        if not key or (len(key) < 2 and not key.isascii()):
            return
        index = self._keys.setdefault(key, len(self._keys))
        if index == len(self._pending):
            self._pending.append([])
        targets = self._pending[index]
        if target not in targets:
            targets.append(target)

    def _rules(self, alias: str, entry: Entry | None, native: bool = False) -> list[int]:
        """Case rules for an alias; an acronym gets its dotted form (U.S.) as a second rule."""
        if entry is not None and entry.case_sensitive:
            return [EXACT]
        if native:
            return [NATIVE]
        if _is_acronym(alias):
            letters = _letters(alias)
            if len(letters) <= 5:
                main = SHORT_CAPS if len(letters) <= 3 else ANY
                return [main, DOTTED]
            return [ANY]
        return [ANY]

    def _add_alias(self, alias: str, role: int, entry_index: int, entry: Entry | None,
                   native: bool = False, derived: bool = False) -> None:
        capital = alias[:1].isupper()
        for rule in self._rules(alias, entry, native):
            text = " ".join(_letters(alias)) if rule == DOTTED else alias
            letters = ("" if rule == ANY else _letters(alias).casefold() if rule == NATIVE
                       else _compat(_letters(alias)) if rule in (SHORT_CAPS, DOTTED)
                       else _letters(alias))
            plain = (plainness(alias, entry.kind, _place_names(), derived)
                     if role == NAME and rule == ANY and entry is not None else NOT_PLAIN)
            self._add(text, _Target(role, entry_index, alias, rule, capital, letters, plain,
                                    derived))

    def _add_entry(self, watchlist: str, entry: Entry) -> None:
        index = len(self._entries)
        context = default_context(entry.kind) if entry.context is None else entry.context
        flag = english_country_names().get(entry.country, ()) if entry.country else ()
        self._entries.append(_EntryRef(watchlist, entry,
                                       (watchlist, entry.id, entry.kind, entry.name),
                                       bool(entry.requires), entry.priority,
                                       context_terms(context, flag) if context else ()))
        names = list(entry.names)
        if entry.kind == "country" and entry.country:
            names += english_country_names().get(entry.country, ())
        for name in dict.fromkeys(names):
            self._add_alias(name, NAME, index, entry)
        if entry.kind == "actor" and not entry.case_sensitive:
            self._add_spellings(index, entry)
        if entry.kind == "country" and entry.country:
            self._add_foreign_names(index, entry)
        for weak in entry.weak_aliases:  # low quality: only exactly as written
            self._add(weak, _Target(NAME, index, weak, EXACT, weak[:1].isupper(),
                                    _letters(weak)))
        for phrase in entry.exclude:
            self._add_alias(phrase, EXCLUDE, index, entry)
        for term in entry.requires:
            self._add_alias(term, REQUIRE, index, entry)

    def _add_spellings(self, index: int, entry: Entry) -> None:
        """A person's names in their other orders and, for a name from a Cyrillic-writing
        country, in the other conventions' spellings (monitor.translit)."""
        spelt: dict[str, None] = {}
        cyrillic = writes_cyrillic(entry.country, entry.names)
        for name in entry.names:
            for other in (name, *orders(name)):
                if other != name:
                    spelt[other] = None
                if cyrillic:
                    spelt.update(dict.fromkeys(variants(other, entry.country, entry.names)))
        if not spelt:
            return
        listed = {fold(name) for name in entry.names}
        for other in spelt:
            if fold(other) not in listed:
                self._add_alias(other, NAME, index, entry, derived=True)

    def _add_foreign_names(self, index: int, entry: Entry) -> None:
        assert entry.country
        for name in foreign_country_names(entry.country):
            key = fold(name)
            if not key or _english_keys().get(key, entry.country) != entry.country:
                continue
            # A foreign name that folds to English words ("Mỹ" -> my) must match as written.
            native = len(key.replace(" ", "")) <= 3 or all(is_common_word(t) for t in key.split())
            self._add_alias(name, NAME, index, entry, native=native)

    def _add_shadows(self) -> None:
        vocab = {t for key in self._keys for t in key.split()}
        names = [n for names in english_country_names().values() for n in names]
        names += list(region_names()) + list(organization_names()) + list(EXTRA_SHADOWS)
        for name in names:
            if vocab.intersection(fold(name).split()):
                self._add_alias(name, SHADOW, -1, None)

    def _fuzzy_ok(self, target: _Target) -> bool:
        if target.role != NAME or target.rule != ANY or target.plain or target.derived:
            return False
        return self._entries[target.entry].entry.fuzzy is not None

    def _inflectable(self, target: _Target) -> bool:
        return target.role == NAME and target.rule == ANY and not target.plain

    # --- matching --------------------------------------------------------------------------

    def match(self, text: str) -> list[Mention]:
        """Every mention of every entry in ``text``, in text order."""
        if not self._keys or not text:
            return []
        folded = fold_text(text)
        spans: dict[tuple[int, int], list[tuple[_Target, float]]] = {}
        excluded: dict[int, list[tuple[int, int]]] = {}
        required: set[int] = set()
        hits = self._hits
        hay = folded.hay
        for index, start, end in self._scan(hay):
            left, right, plain = hits[index]
            span = (start + left, end - right)  # the hit's tokens, without the padding
            if plain is not None:
                found = spans.get(span)
                if found is None:
                    spans[span] = list(plain)
                else:
                    found += plain
                continue
            surface: _Surface | None = None  # read once for all the pattern's checks
            for target in self._targets[index]:
                if target.rule != ANY:
                    surface = surface or _Surface(folded, span)
                    if not surface.obeys(target):
                        continue
                if target.role == EXCLUDE:
                    excluded.setdefault(target.entry, []).append(folded.span(*span))
                elif target.role == REQUIRE:
                    required.add(target.entry)
                else:
                    spans.setdefault(span, []).append((target, 100.0))
        if self._typos:
            self._fuzzy(folded, spans)
        if self._inflections:
            self._inflected(folded, spans)
        return self._resolve(folded, spans, excluded, required)

    def _resolve(self, folded: Folded, spans: dict[tuple[int, int], list[tuple[_Target, float]]],
                 excluded: dict[int, list[tuple[int, int]]], required: set[int]) -> list[Mention]:
        """The mentions of the spans that the longest-first rule keeps (one loop: it runs
        for every hit of every text)."""
        mentions: list[Mention] = []
        entries = self._entries
        text = folded.text
        other_scripts = not text.isascii()
        for span in _longest_first(spans):
            found = spans[span]
            if len(found) > 1:
                found = _best_per_entry(found)
            ostart = oend = -1
            foreign_word: bool | None = None
            for target, score in found:
                if target.role != NAME:
                    continue  # a shadow's span only keeps shorter names from matching inside it
                ref = entries[target.entry]
                if ref.requires and target.entry not in required:
                    continue
                if ostart < 0:
                    ostart, oend = folded.span(*span)
                vetoes = excluded.get(target.entry) if excluded else None
                if vetoes and any(s < oend and ostart < e for s, e in vetoes):
                    continue
                if ref.context and not in_context(text, ostart, oend, ref.context):
                    continue
                if target.plain and not written_as_name(text, ostart, oend, target.alias,
                                                        target.plain, bool(ref.context)):
                    continue
                if other_scripts and target.rule not in (EXACT, NATIVE):
                    if foreign_word is None:
                        surface = text[ostart:oend]
                        foreign_word = (not is_latin(surface) and " " not in span_key(
                            folded, span) and foreign_common_word(surface))
                    if foreign_word and is_latin(target.alias):
                        continue
                stop = oend
                if target.rule == DOTTED and text[oend:oend + 1] == ".":
                    stop += 1
                # tuple.__new__: a NamedTuple's own __new__ is a Python function (every field
                # given, ambiguous too).
                mentions.append(_new(Mention, (*ref.mention, text[ostart:stop], ostart, stop,
                                               score, target.alias, ref.priority, False)))
                if len(found) > 1:
                    _mark_ambiguous(mentions, ostart)
        mentions.sort(key=_MENTION_ORDER)
        return mentions

    def _inflected(self, folded: Folded,
                   spans: dict[tuple[int, int], list[tuple[_Target, float]]]) -> None:
        """One-word names in another grammatical case (monitor.inflect): exact where the
        text's language was known, else a guess scored as a typo is."""
        for index, span, known in self._inflections.find(folded):
            guess = round(100.0 * (1 - 1 / len(span_key(folded, span))), 1)
            for target in self._targets[index]:
                if not self._inflectable(target):
                    continue
                if known:
                    spans.setdefault(span, []).append((target, 100.0))
                    continue
                threshold = self._entries[target.entry].entry.fuzzy
                if self._fuzzy_ok(target) and threshold is not None and guess >= threshold:
                    spans.setdefault(span, []).append((target, guess))

    # --- approximate matching ---------------------------------------------------------------

    def _fuzzy(self, folded: Folded, spans: dict[tuple[int, int], list[tuple[_Target, float]]]
               ) -> None:
        """Names written with one typo, kept for the entries whose threshold the score
        reaches; a typo of a capitalised name must be capitalised too."""
        for index, span, score, at, length in self._typos.find(folded):
            typo_start, _ = folded.span(at, at + length)
            typo_capital = folded.text[typo_start:typo_start + 1].isupper()
            for target in self._targets[index]:
                if not self._fuzzy_ok(target):
                    continue
                threshold = self._entries[target.entry].entry.fuzzy
                if (threshold is None or score < threshold
                        or (target.capital and not typo_capital)):
                    continue
                spans.setdefault(span, []).append((target, score))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No garbage collection while a block makes many long-lived objects: each collection
    would traverse the whole heap (word frequencies, CLDR names), a third of a build's time.
    After it, one collection of the young generations: it untracks the tuples of atoms and
    moves the rest to the oldest generation at once (else the first two young collections
    after the block, in the first texts matched, would each traverse them all)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(1)


def _longest_first(spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The spans that no longer span overlaps (of two as long, the earlier wins), in text
    order: each group of overlapping spans is settled apart (most spans overlap none)."""
    group: list[tuple[int, int]] = []
    end = -1
    for span in sorted(spans):
        if span[0] >= end and group:
            yield from _settle(group) if len(group) > 1 else group
            group = []
        group.append(span)
        end = max(end, span[1])
    yield from _settle(group) if len(group) > 1 else group


def _settle(group: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans, longest first: each is kept unless it overlaps one kept before."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted(group, key=lambda s: (s[0] - s[1], s)):
        at = bisect_left(starts, start)
        if (at and ends[at - 1] > start) or (at < len(starts) and starts[at] < end):
            continue
        starts.insert(at, start)
        ends.insert(at, end)
    return list(zip(starts, ends, strict=True))


def _mark_ambiguous(mentions: list[Mention], start: int) -> None:
    """Mark the last mention, and those of the same span and watchlist before it, ambiguous
    if that span names two entries of one watchlist."""
    last = mentions[-1]
    for i in range(len(mentions) - 2, -1, -1):
        other = mentions[i]
        if other.start != start:
            break
        if other.watchlist == last.watchlist and other.entry != last.entry:
            mentions[i] = other._replace(ambiguous=True)
            mentions[-1] = last = last._replace(ambiguous=True)


def _best_per_entry(found: list[tuple[_Target, float]]) -> list[tuple[_Target, float]]:
    """A span's names, the best score of each entry only, best first."""
    best: dict[int, tuple[_Target, float]] = {}
    for target, score in sorted(found, key=lambda f: -f[1]):
        if target.role == NAME:
            best.setdefault(target.entry, (target, score))
    return list(best.values())


def _needed(targets: tuple[_Target, ...]) -> tuple[_Target, ...]:
    """A pattern's targets less those that can change nothing: a name with a case rule after
    one of the same entry without (a span's first name of an entry is the one reported, and
    both score 100: a country's foreign spelling, Sudán, beside its English one), a shadow
    with a case rule beside a target without (the span is found either way)."""
    unchecked = {t.entry for t in targets if t.rule == ANY and t.role == NAME}
    if not unchecked:
        return targets
    named: set[int] = set()
    needed = []
    for t in targets:
        if t.rule != ANY and ((t.role == NAME and t.entry in named) or t.role == SHADOW):
            continue
        if t.rule == ANY and t.role == NAME:
            named.add(t.entry)
        needed.append(t)
    return tuple(needed)


def _plain(targets: tuple[_Target, ...]) -> tuple[tuple[_Target, float], ...] | None:
    """A pattern's candidates as exact hits, if none of its targets needs a check: one
    name per entry (the first), and a shadow only where no name holds the span (a span
    found blocks shorter ones whatever holds it, so a shadow beside a name adds nothing)."""
    for t in targets:
        if t.rule != ANY or t.role > SHADOW:
            return None
    names: dict[int, _Target] = {}
    for t in targets:
        if t.role == NAME:
            names.setdefault(t.entry, t)
    return tuple((t, 100.0) for t in names.values() or targets[:1])


class _Surface:
    """A hit's original surface, for its alias's case rule (never needed for ANY)."""

    __slots__ = ("_letters", "text")

    def __init__(self, folded: Folded, span: tuple[int, int]) -> None:
        ostart, oend = folded.span(*span)
        self.text = folded.text[ostart:oend]
        self._letters: str | None = None

    def letters(self) -> str:
        if self._letters is None:
            self._letters = _letters(self.text)
        return self._letters

    def obeys(self, target: _Target) -> bool:
        rule = target.rule
        # Short capitals are the alias's own letters: folding drops accents, but the
        # Turkish ÜS is not the US (an accented letter is another letter).
        if rule == SHORT_CAPS:
            return (self.text.isupper() and self.text.isalpha()
                    and _compat(self.text) == target.letters)
        if rule == DOTTED:
            return (self.text.isupper() and _DOTTED.fullmatch(self.text) is not None
                    and _compat(self.letters()) == target.letters)
        if rule == EXACT:
            return self.letters() == target.letters
        return self.letters().casefold() == target.letters  # NATIVE
