"""An article's language as ISO 639-1: the page's or feed's declaration when it is a
language and the text does not plainly contradict it, else what the text is written in
(py3langid, whose model ships in the package).  Pure functions, the model loaded once."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pycountry

SAMPLE = 1000  # characters of the text the detector reads: about 2 ms, 99.8% right
MIN_TEXT = 40  # characters: less than this and nothing is detected
MIN_CONTRADICTING_TEXT = 200  # characters: a shorter text never overrules a declaration
CONFIDENT = 0.8  # the detector's probability for a language no declaration names
UNLIKELY = 0.001  # at most this for the declared language, and the declaration is wrong
# Codes ISO 639-1 withdrew that pages and feeds still declare (Google's "iw" for Hebrew).
_WITHDRAWN = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv"}
_SEPARATORS = re.compile(r"[\s,;]+")


def language_code(declared: str | None) -> str | None:
    """The ISO 639-1 code of a declaration (``en-US``, ``zh-Hans``, ``pt_BR``, ``eng``,
    ``en-GB, fr``), or None when it names no language (``utf-8``, ``und``, ``x-klingon``)."""
    if not isinstance(declared, str) or not declared.strip():
        return None
    first = _SEPARATORS.split(declared.strip(), maxsplit=1)[0]
    primary = first.replace("_", "-").split("-")[0].lower()
    primary = _WITHDRAWN.get(primary, primary)
    found: Any = None
    if len(primary) == 2 and primary.isalpha():
        found = pycountry.languages.get(alpha_2=primary)
    elif len(primary) == 3 and primary.isalpha():
        found = pycountry.languages.get(alpha_3=primary) \
            or pycountry.languages.get(bibliographic=primary)
    code = getattr(found, "alpha_2", None)
    return code if isinstance(code, str) else None


@cache
def _identifier() -> Any:
    """py3langid's model (about 1.5 s to load, once), restricted to the languages that
    have an ISO 639-1 code: its dialect labels (yue, arz, ...) count as their language."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([code for code in identifier.labels
                              if len(code) == 2 and language_code(code) == code])
    return identifier


def load_model() -> None:
    """Load the detector now rather than at the first article: a poll runs extraction on
    its event loop, where seconds of loading would stall the requests in flight."""
    _identifier()


def detect_language(text: str) -> dict[str, float]:
    """Each language's probability for the start of ``text`` (empty for a text too short
    to tell)."""
    sample = text[:SAMPLE]
    if len(sample.strip()) < MIN_TEXT:
        return {}
    return dict(_identifier().rank(sample))


def resolve_language(declared: str | None, text: str) -> str | None:
    """The article's language: the declaration (normalised), unless it names no language
    (then what the detector is confident of, if anything) or the text is long enough and
    the detector gives the declared language next to no chance (then the detector's best).
    A language the detector does not know is never contradicted."""
    code = language_code(declared)
    sample = text[:SAMPLE].strip()
    if code is not None and len(sample) < MIN_CONTRADICTING_TEXT:
        return code
    odds = detect_language(sample)
    if not odds:
        return code
    best = max(odds, key=odds.__getitem__)
    if code is None:
        return best if odds[best] >= CONFIDENT else None
    return best if odds.get(code, 1.0) <= UNLIKELY else code
