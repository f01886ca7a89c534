"""The matcher's checks against false mentions of names that are also ordinary words.

- A *plain-word* alias (written as a name in its list, every word of it an ordinary word
  of some language: a vessel called Success, "The Base", a person's alias "Major"; not an
  acronym such as NATO, which the list writes in capitals, nor a country) matches
  only where the text writes it as a name: capitalised, and not where capitals say nothing
  (a headline in capitals or in Title Case); a single word at the start of a sentence only
  if the text also writes it capitalised elsewhere, mid-sentence, and not as part of a
  longer name (Freedom House, Nabi Muhammad).
- A single word of another script that is a common word of its language never matches a
  name through its transliteration (этим is not ETIM, наша not NASHA).
- Vessels and aircraft need their context in the same sentence: a word such as tanker,
  ship, aircraft or flight, the flag state, an IMO or a tail number.

Pure functions of the text and the offsets the matcher found.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from monitor.normalize import fold
from monitor.wordlists import lexicon

# What vessels and aircraft need in their sentence unless their entry says (`context:`).
VESSEL_CONTEXT = (
    "vessel", "vessels", "tanker", "tankers", "supertanker", "ship", "ships", "shipping",
    "shipment", "cargo", "freighter", "carrier", "boat", "yacht", "barge", "tug", "dhow",
    "trawler", "MV", "M/V", "M.V.", "MT", "M/T", "IMO", "flagged", "flag", "hull", "crew",
    "captain", "sailed", "sailing", "docked", "port", "harbour", "harbor", "anchored",
    "navy", "coast guard", "seized", "maritime", "oil", "crude", "strait",
)
AIRCRAFT_CONTEXT = (
    "aircraft", "airplane", "aeroplane", "plane", "planes", "jet", "jets", "airliner",
    "flight", "flights", "airline", "airlines", "airport", "airspace", "landed", "took off",
    "pilot", "Boeing", "Airbus", "Ilyushin", "Antonov", "Tupolev", "Embraer", "Gulfstream",
    "registration", "tail number",
)
_IMO_OR_TAIL = re.compile(r"\bIMO[ :#-]*\d{7}\b|\b[A-Z0-9]{1,2}-[A-Z0-9]{3,5}\b")
# Sentence ends: . ! ? … (and closing quotes) before white space, or a line break.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+|\s*\n")
_WORDS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def default_context(kind: str) -> tuple[str, ...]:
    return VESSEL_CONTEXT if kind == "vessel" else AIRCRAFT_CONTEXT if kind == "aircraft" else ()


def context_terms(terms: tuple[str, ...], country_names: tuple[str, ...] = ()
                  ) -> tuple[str, ...]:
    """The folded terms one of which a mention's sentence must hold."""
    return tuple(dict.fromkeys(f for f in map(fold, (*terms, *country_names)) if f))


# How plain a name is (a target's ``plain``): not a word; a word in lower case only (an
# organisation's one-word name of some frequency: intercontinental, patriot); an ordinary
# word or phrase (see the module docstring).
NOT_PLAIN, LOWER_CASE_WORD, PLAIN_WORD = range(3)
_NAMED_KINDS = ("organization", "vessel", "aircraft")


def plainness(alias: str, kind: str, names: frozenset[str], derived: bool = False) -> int:
    """How much of an ordinary word an alias written as a name is (NOT_PLAIN,
    LOWER_CASE_WORD, PLAIN_WORD); ``names`` are folded names known not to be words
    (countries, regions: "China" is a name, whatever china is).  A ``derived`` spelling
    (monitor.translit: Poutine) that is a word of some frequency is that word in lower
    case, whatever the entry's kind (poutine, the dish)."""
    if kind == "country" or alias.islower() or not any(c.isupper() for c in alias):
        return NOT_PLAIN  # a country's name; or written in lower case in its list: a term
    if alias.isupper() and " " not in alias.strip():
        return NOT_PLAIN  # an acronym (NATO): its list says how it is matched (match.py)
    lex = lexicon()
    # The words as written, not folded: "Tô Lâm" is no ordinary to lam.
    words = _WORDS.findall(alias.lower() if alias.isascii() else unicodedata.normalize(
        "NFC", alias).lower().replace("’", "'"))
    if not words:
        return NOT_PLAIN
    common = lex.common
    mask = -1
    for word in words:
        mask &= common.get(word, 0)
        if not mask:
            break
    if mask:
        return NOT_PLAIN if fold(alias) in names else PLAIN_WORD
    if len(words) == 1 and (kind in _NAMED_KINDS or derived) and lex.is_frequent(words[0]):
        return NOT_PLAIN if fold(alias) in names else LOWER_CASE_WORD
    return NOT_PLAIN
    lex = lexicon()
    # The words as written, not folded: "Tô Lâm" is no ordinary to lam.
    words = _WORDS.findall(unicodedata.normalize("NFC", alias).lower().replace("’", "'"))
    if not words:
        return NOT_PLAIN
    mask = -1
    for word in words:
        mask &= lex.common.get(word, 0)
    if mask:
        return PLAIN_WORD
    if len(words) == 1 and (kind in _NAMED_KINDS or derived) and lex.is_frequent(words[0]):
        return LOWER_CASE_WORD
    return NOT_PLAIN


def sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around text[start:end]: from after the last sentence end before it to
    the first one after it."""
    begin = 0
    window = max(0, start - 600)
    for found in _SENTENCE_END.finditer(text, window, start):
        begin = found.end()
    after = _SENTENCE_END.search(text, end)
    return begin, after.start() if after else len(text)


def in_context(text: str, start: int, end: int, terms: tuple[str, ...]) -> bool:
    """Whether the mention's sentence (the mention itself left out) holds one of the folded
    ``terms``, an IMO number or a tail number."""
    begin, stop = sentence(text, start, end)
    rest = text[begin:start] + " \u2029 " + text[end:stop]
    if _IMO_OR_TAIL.search(rest) or _IMO_OR_TAIL.fullmatch(text[start:end].strip()):
        return True
    hay = f" {fold(rest)} "
    return any(f" {term} " in hay for term in terms)


def _capitals_say_nothing(text: str, begin: int, stop: int, start: int, end: int) -> bool:
    """A sentence in capitals, or in Title Case (most of its longer words capitalised), the
    mention at text[start:end] left out."""
    words = [w for w in (*_WORDS.findall(text, begin, start), *_WORDS.findall(text, end, stop))
             if len(w) > 3]
    if len(words) < 4:
        return False
    upper = sum(1 for w in words if w.isupper())
    title = sum(1 for w in words if w[0].isupper())
    return max(upper, title) >= 0.6 * len(words)


def _sentence_initial(text: str, begin: int, start: int) -> bool:
    return not any(c.isalnum() for c in text[begin:start])


def written_as_name(text: str, start: int, end: int, alias: str, plain: int,
                    in_context: bool = False) -> bool:
    """Whether text[start:end], an alias that is a word too (``plain``, see plainness), is
    written as a name there.  ``in_context``: its sentence has the context its entry needs
    (a tanker called Success), which says as much as a capital in mid-sentence."""
    surface = _WORDS.findall(unicodedata.normalize("NFC", text[start:end]))
    written = _WORDS.findall(unicodedata.normalize("NFC", alias))
    if len(surface) != len(written) or not surface:
        return False
    for word, listed in zip(surface, written, strict=True):
        if listed[0].isupper() and not word[0].isupper():
            return False
    if plain == LOWER_CASE_WORD or in_context:
        return True
    begin, stop = sentence(text, start, end)
    if _capitals_say_nothing(text, begin, stop, start, end):
        return _capitalised_elsewhere(text, surface[0]) if len(surface) == 1 else False
    if len(surface) == 1 and _sentence_initial(text, begin, start):
        return _capitalised_elsewhere(text, surface[0])
    return not (len(surface) == 1 and _in_longer_name(text, begin, start, end, stop))


def _in_longer_name(text: str, begin: int, start: int, end: int, stop: int) -> bool:
    """Whether a capitalised word beside the mention makes it part of a longer name
    (Freedom House, Nabi Muhammad, Success Academy); a sentence's first word does not."""
    before = _WORDS.findall(text, begin, start)
    after = _WORDS.match(text, end + 1) if end < stop and text[end] == " " else None
    if after is not None and after.group()[0].isupper():
        return True
    if len(before) > 1 and before[-1][0].isupper() and text[start - 1:start] == " ":
        return text[begin:start].rstrip().endswith(before[-1])
    return False


def _capitalised_elsewhere(text: str, word: str) -> bool:
    """Whether the text writes ``word`` (capitalised) mid-sentence, in a sentence whose
    capitals mean something."""
    for found in _word_pattern(word).finditer(text):
        begin, stop = sentence(text, found.start(), found.end())
        if (not _sentence_initial(text, begin, found.start())
                and not _capitals_say_nothing(text, begin, stop, found.start(),
                                              found.end())):
            return True
    return False


@lru_cache(maxsize=4096)
def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])")


def is_latin(text: str) -> bool:
    if text.isascii():
        return True
    return all(ord(c) < 0x250 or 0x1E00 <= ord(c) <= 0x1EFF for c in text if c.isalpha())


def foreign_common_word(surface: str) -> bool:
    """Whether a surface in another script is one common word of its language whose
    transliteration is no frequent Latin-script word (so it cannot be a Latin name)."""
    word = surface.strip().lower()
    return word in lexicon().native_common
