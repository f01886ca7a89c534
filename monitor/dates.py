"""Dates as pages and feeds write them: ISO 8601, RFC 822, and, when both fail, the
localised and free forms dateparser reads (``Seg, 24 Set 2018``, ``mer, 16 nov 2022``,
``Friday, January 29, 2021 04:42 PM``, ``Fri Apr 28 19:20:36 CEST 2023``).  Pure
functions; whether a value stated its offset is kept, so a caller can prefer one that did."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

from monitor.language import language_code

_ISO_DAY = re.compile(r"((?:19|20)\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])")
# A word after the clock time: a zone name (CEST, MSK) or AM/PM.  email.utils and feedparser
# know RFC 822's zone names only and drop the others (and AM/PM) without a word.
_CLOCK_WORD = re.compile(r"\d:\d\d(?::\d\d)?\s*\(?([A-Za-z]{2,5})\)?(?![A-Za-z])")
_RFC822_ZONES = frozenset({"UT", "UTC", "GMT", "Z", "EST", "EDT", "CST", "CDT", "MST", "MDT",
                           "PST", "PDT"})
_MERIDIEM = frozenset({"AM", "PM"})
# dateparser, restricted for speed and against wrong parses: absolute dates only (no
# "yesterday", no bare timestamps), with a day, a month and a year.  Its default for
# RETURN_AS_TIMEZONE_AWARE is kept: aware exactly when the text states a zone, so that a
# time that states none is told apart (and not set to the machine's zone).
_SETTINGS = {"PARSERS": ["custom-formats", "absolute-time"],
             "REQUIRE_PARTS": ["day", "month", "year"], "PREFER_DAY_OF_MONTH": "first"}
DEFAULT_LANGUAGES = ("en",)


def stamp(value: str | None, languages: Sequence[str] = DEFAULT_LANGUAGES) -> datetime | None:
    """The time a string gives: aware when it states an offset or a zone, naive when it
    does not.  ISO 8601 and RFC 822 first (microseconds; a zone name RFC 822 lacks takes
    its offset from dateparser's table); dateparser in ``languages`` (ISO 639-1 codes)
    only when both fail or for AM/PM (milliseconds); a bare ISO day as the last resort."""
    if not value or not (value := value.strip()):
        return None
    try:
        return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        pass
    word = _clock_word(value)
    if word not in _MERIDIEM:
        try:
            when: datetime | None = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None and word and (offset := zone_offset(word)) is not None:
                when = when.replace(tzinfo=timezone(offset))
            return when
    when = localised(value, languages)
    if when is None and (found := _ISO_DAY.search(value)):
        when = datetime(int(found[1]), int(found[2]), int(found[3]))
    return when


def _clock_word(value: str) -> str | None:
    found = _CLOCK_WORD.search(value)
    return found[1].upper() if found else None


def names_a_zone(value: str) -> bool:
    """Whether the time in ``value`` is followed by the name of a zone that RFC 822
    parsers (feedparser, email.utils) do not know and silently read as UTC (CEST, MSK)."""
    word = _clock_word(value)
    return word is not None and word not in _RFC822_ZONES and word not in _MERIDIEM \
        and zone_offset(word) is not None


@cache
def zone_offset(name: str) -> timedelta | None:
    """The offset of a zone abbreviation (CEST, MSK) in dateparser's table, or None."""
    from dateparser.timezone_parser import pop_tz_offset_from_string

    _, zone = pop_tz_offset_from_string(f"12:00 {name}")
    offset = zone.utcoffset(None) if zone is not None else None
    return offset if isinstance(offset, timedelta) else None


def utc(when: datetime | None) -> datetime | None:
    """An aware time in UTC; a naive one is taken to be UTC."""
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_date(value: str | None, languages: Sequence[str] = DEFAULT_LANGUAGES
               ) -> datetime | None:
    """A date string as an aware UTC time (a time without an offset is taken as UTC)."""
    return utc(stamp(value, languages))


def date_languages(*declared: str | None) -> tuple[str, ...]:
    """The languages to read dates in: the declared ones (ISO 639-1), then English (the
    language of most machine-written dates)."""
    codes = (language_code(d) for d in declared)
    return tuple(dict.fromkeys([*(c for c in codes if c), *DEFAULT_LANGUAGES]))


def localised(value: str, languages: Sequence[str] = DEFAULT_LANGUAGES) -> datetime | None:
    """dateparser's reading of a date in those of ``languages`` it knows, or None."""
    known = _dateparser_languages()
    parser = _parser(tuple(code for code in languages if code in known) or DEFAULT_LANGUAGES)
    try:
        found = parser.get_date_data(value[:200]).date_obj
    except Exception:  # dateparser raises many things on strange input (found by fuzzing)
        return None
    return found if isinstance(found, datetime) else None


def load_parser() -> None:
    """Load dateparser's data now rather than at the first date it is asked to read (a
    second or so, which on a poll's event loop would stall the requests in flight)."""
    localised("1 January 2000")
    zone_offset("CET")


@cache
def _dateparser_languages() -> frozenset[str]:
    from dateparser.data import languages_info

    return frozenset(languages_info.language_order)


@cache
def _parser(languages: tuple[str, ...]) -> Any:
    from dateparser.date import DateDataParser

    return DateDataParser(languages=list(languages), settings=_SETTINGS)


# --- the best of a page's dates -----------------------------------------------------------


def _timed(when: datetime) -> bool:
    return bool(when.hour or when.minute or when.second or when.microsecond)


def _agree(naive: datetime, aware: datetime) -> bool:
    """Whether a time without an offset and one with an offset tell the same time: the
    same clock time there, the same instant if the first was UTC, or (a day alone) the
    same day there."""
    local = aware.replace(tzinfo=None)
    if not _timed(naive):
        return local.date() == naive.date()
    as_utc = aware.astimezone(UTC).replace(tzinfo=None)
    return any(abs(naive - other) < timedelta(minutes=1) for other in (local, as_utc))


def best_time(candidates: Sequence[datetime], offsets_seen: Iterable[datetime] = ()
              ) -> datetime | None:
    """The publication time from a page's candidates, best source first, in UTC.

    The first candidate wins, unless it states no offset: then a later candidate that
    states one and tells the same time wins (it is as precise, and sure of its zone);
    failing that, a clock time takes the offset the page's other dates (``offsets_seen``,
    e.g. dateModified) all state, when they state one and the same; else it is UTC."""
    if not candidates:
        return None
    first = candidates[0]
    if first.tzinfo is not None:
        return utc(first)
    for other in candidates[1:]:
        if other.tzinfo is not None and _agree(first, other):
            return utc(other)
    offsets = {w.utcoffset() for w in (*candidates, *offsets_seen) if w.tzinfo is not None}
    if _timed(first) and len(offsets) == 1 and (offset := offsets.pop()) is not None:
        return utc(first.replace(tzinfo=timezone(offset)))
    return utc(first)
