"""Country, region and organisation names from CLDR (Babel) and ISO 3166 (pycountry).

The matcher uses these to know every country's names (so that "South Sudan" is never read
as "Sudan", even when only Sudan is watched) and to give a country entry its names in
other languages; ``watchlist derive`` uses them to recognise countries, regions and
organisations in any text.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry
from babel import Locale

# Languages whose names are added to country entries.  Names in scripts written without
# spaces between words (Chinese, Japanese, Korean, Thai) match as substrings (normalize).
FOREIGN_LOCALES = (
    "ar", "cs", "da", "de", "el", "es", "fa", "fi", "fr", "he", "hi", "hu", "id", "it",
    "ja", "ko", "ms", "nl", "no", "pl", "pt", "ro", "ru", "sk", "sr", "sv", "th", "tr", "uk",
    "vi", "zh", "zh_Hant",
)

# Short forms that English-language newsrooms use and that neither ISO 3166 nor CLDR's
# English names carry.  Everything else comes from the data.
PRESS_NAMES: dict[str, tuple[str, ...]] = {
    "US": ("US", "U.S.", "USA", "U.S.A.", "United States of America"),
    "GB": ("UK", "U.K.", "Britain", "Great Britain"),
    "KP": ("DPRK",),
    "KR": ("ROK",),
    "CN": ("PRC",),
    "AE": ("UAE",),
    "CD": ("DRC", "DR Congo", "Democratic Republic of the Congo"),
    "CG": ("Republic of the Congo",),
    "CZ": ("Czech Republic",),
    "TR": ("Turkey",),
    "MM": ("Burma",),
    "CI": ("Ivory Coast",),
    "SZ": ("Swaziland",),
    "CV": ("Cabo Verde",),
    "TL": ("East Timor",),
    "VA": ("Vatican", "Holy See"),
    "PS": ("Palestine",),
    "XK": ("Kosovo",),
}

ORGANIZATION_CODES = ("EU", "UN", "EZ")
_NOT_NAMES = {"ZZ", "QO", "001"}


def _clean(name: str) -> list[str]:
    """CLDR display names to the forms printed in news: 'Myanmar (Burma)' -> both."""
    if " - " in name or "," in name:  # "Congo - Kinshasa", "Korea, Republic of"
        return []
    out = []
    m = re.fullmatch(r"(.+?) \((.+)\)", name)
    if m:
        out += [m.group(1), m.group(2)]
    else:
        out.append(name)
    out += [n.replace(" & ", " and ") for n in out if " & " in n]
    return [n.replace("SAR China", "").strip() for n in out]


@lru_cache(maxsize=1)
def english_country_names() -> dict[str, tuple[str, ...]]:
    """ISO alpha-2 code -> every English name (CLDR, ISO 3166 short/common/official, press)."""
    english = Locale("en").territories
    names: dict[str, list[str]] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        found = _clean(english.get(code, ""))
        for attr in ("common_name", "name", "official_name"):
            found += _clean(getattr(country, attr, "") or "")
        found += PRESS_NAMES.get(code, ())
        names[code] = found
    names["XK"] = [*_clean(english.get("XK", "Kosovo")), *PRESS_NAMES["XK"]]
    return {code: tuple(dict.fromkeys(n for n in found if n)) for code, found in names.items()}


def is_country_code(code: str) -> bool:
    return code in english_country_names()


@lru_cache(maxsize=512)
def foreign_country_names(code: str) -> tuple[str, ...]:
    """The country's names in FOREIGN_LOCALES (CLDR), e.g. KP -> Nordkorea, Corée du Nord."""
    english = set(english_country_names().get(code, ()))
    found: dict[str, None] = {}
    for locale in _locales():
        for name in _clean(locale.territories.get(code, "")):
            if name and name not in english:
                found[name] = None
    return tuple(found)


@lru_cache(maxsize=1)
def _locales() -> tuple[Locale, ...]:
    return tuple(Locale.parse(code) for code in FOREIGN_LOCALES)


@lru_cache(maxsize=1)
def region_names() -> dict[str, str]:
    """CLDR's regions (UN M49 numeric codes) by English name: 'Southeast Asia' -> '035'."""
    english = Locale("en").territories
    return {
        name: code
        for code, name in english.items()
        if code.isdigit() and code not in _NOT_NAMES and name[:1].isupper()
    }


@lru_cache(maxsize=1)
def organization_names() -> dict[str, str]:
    """Supranational bodies CLDR lists as territories: 'European Union' -> 'EU'."""
    english = Locale("en").territories
    out = {english[code]: code for code in ORGANIZATION_CODES if code in english}
    out.update({code: code for code in ORGANIZATION_CODES if code != "EZ"})
    return out


def country_display_name(code: str) -> str:
    english = Locale("en").territories
    return english.get(code) or english_country_names()[code][0]
