"""Names across scripts: the spellings of a Russian, Ukrainian or Belarusian name that other
languages' conventions give it (Путин: Poutine in French, Poetin in Dutch, Putyin in
Hungarian, Wladimir in German and Polish, Πούτιν in Greek, Պուտին in Armenian, პუტინი in
Georgian, Пуцін in Belarusian), for the matcher to find them exactly, without a looser
typo rule.  Also a name's other orders: ``LAST, First`` as ``First LAST``, and without a
patronymic (Vladimir Vladimirovich Putin = Vladimir Putin).

A Latin alias (Putin, Sergei Lavrov) is first taken back to Cyrillic by the English
(BGN/PCGN-like) romanisation that news and sanctions lists use; each convention then
writes the Cyrillic form its own way.  The tables are ours: the maintained libraries
(iuliia, cyrtranslit, transliterate) romanise Russian by national and international
standards, not by the conventions of the press in French, German, Dutch, Polish,
Hungarian or Spanish, nor into Greek, Armenian or Georgian script.  Names in scripts
without vowels or without spaces (Arabic, Hebrew, Chinese, Japanese, Korean) cannot be
derived: they need native aliases (imports keep those the lists give; `watchlist derive`
proposes them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Countries whose people's names are written in Cyrillic.
CYRILLIC_COUNTRIES = frozenset({"RU", "UA", "BY", "BG", "RS", "MK", "KZ", "KG", "TJ", "MN"})

# English-style romanisation back to Cyrillic, longest first (a name's letters only).
_TO_CYRILLIC = (
    ("shch", "щ"), ("sch", "щ"), ("kh", "х"), ("zh", "ж"), ("ch", "ч"), ("sh", "ш"),
    ("ts", "ц"), ("tz", "ц"), ("yu", "ю"), ("ya", "я"), ("yo", "ё"), ("ye", "е"), ("iu", "ю"),
    ("ia", "я"), ("a", "а"), ("b", "б"), ("v", "в"), ("w", "в"), ("g", "г"), ("d", "д"),
    ("e", "е"), ("z", "з"), ("i", "и"), ("y", "ы"), ("k", "к"), ("l", "л"), ("m", "м"),
    ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"),
    ("f", "ф"), ("h", "х"), ("c", "к"), ("x", "кс"), ("q", "к"), ("j", "й"),
)
_TO_CYRILLIC_RE = re.compile("|".join(re.escape(latin) for latin, _ in _TO_CYRILLIC))
_CYRILLIC_OF = dict(_TO_CYRILLIC)
_VOWELS = "аеёиоуыэюяіїєу"
_SOFT = "еёиьюяі"  # letters after which a Hungarian t, d, n or a Belarusian т, д soften

# Each convention: Cyrillic letter -> its spelling; "^x" keys are the spellings at the start
# of a word or after a vowel, "$x" at the end of a word.
_COMMON = {"а": "a", "б": "b", "г": "g", "д": "d", "з": "z", "к": "k", "л": "l", "м": "m",
           "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ф": "f", "ъ": "",
           "ь": "", "э": "e", "и": "i", "ы": "y", "е": "e", "і": "i", "ї": "i", "є": "ie",
           "ґ": "g", "ў": "u"}
CONVENTIONS: dict[str, dict[str, str]] = {
    "en": {**_COMMON, "в": "v", "ё": "yo", "ж": "zh", "й": "y", "у": "u", "х": "kh",
           "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ю": "yu", "я": "ya", "^е": "ye"},
    "de": {**_COMMON, "в": "w", "ё": "jo", "ж": "sch", "з": "s", "й": "i", "у": "u", "х": "ch",
           "ц": "z", "ч": "tsch", "ш": "sch", "щ": "schtsch", "ю": "ju", "я": "ja", "^е": "je"},
    "fr": {**_COMMON, "в": "v", "ё": "io", "ж": "j", "й": "ï", "у": "ou", "х": "kh", "ц": "ts",
           "ч": "tch", "ш": "ch", "щ": "chtch", "ю": "iou", "я": "ia", "$н": "ne"},
    "nl": {**_COMMON, "в": "v", "ё": "jo", "ж": "zj", "й": "j", "у": "oe", "х": "ch", "ц": "ts",
           "ч": "tsj", "ш": "sj", "щ": "sjtsj", "ю": "joe", "я": "ja", "^е": "je"},
    "pl": {**_COMMON, "в": "w", "ё": "io", "ж": "ż", "й": "j", "у": "u", "х": "ch", "ц": "c",
           "ч": "cz", "ш": "sz", "щ": "szcz", "ю": "iu", "я": "ia", "л": "ł", "^е": "je"},
    "hu": {**_COMMON, "в": "v", "ё": "jo", "ж": "zs", "й": "j", "у": "u", "х": "h", "ц": "c",
           "ч": "cs", "ш": "s", "щ": "scs", "ю": "ju", "я": "ja", "с": "sz", "ы": "i",
           "~т": "ty", "~д": "gy", "~н": "ny"},
    "es": {**_COMMON, "в": "v", "ё": "io", "ж": "zh", "й": "i", "у": "u", "х": "j", "ц": "ts",
           "ч": "ch", "ш": "sh", "щ": "sch", "ю": "iu", "я": "ia"},
    "cs": {**_COMMON, "в": "v", "ё": "jo", "ж": "ž", "й": "j", "у": "u", "х": "ch", "ц": "c",
           "ч": "č", "ш": "š", "щ": "šč", "ю": "ju", "я": "ja"},
    # other scripts
    "el": {"а": "α", "б": "μπ", "в": "β", "г": "γκ", "д": "ντ", "е": "ε", "ё": "ιο", "ж": "ζ",
           "з": "ζ", "и": "ι", "й": "ι", "к": "κ", "л": "λ", "м": "μ", "н": "ν", "о": "ο",
           "п": "π", "р": "ρ", "с": "σ", "т": "τ", "у": "ου", "ф": "φ", "х": "χ", "ц": "τσ",
           "ч": "τσ", "ш": "σ", "щ": "σ", "ъ": "", "ы": "ι", "ь": "", "э": "ε", "ю": "ιου",
           "я": "ια", "і": "ι"},
    "hy": {"а": "ա", "б": "բ", "в": "վ", "г": "գ", "д": "դ", "е": "ե", "ё": "յո", "ж": "ժ",
           "з": "զ", "и": "ի", "й": "յ", "к": "կ", "л": "լ", "м": "մ", "н": "ն", "о": "ո",
           "п": "պ", "р": "ր", "с": "ս", "т": "տ", "у": "ու", "ф": "ֆ", "х": "խ", "ц": "ց",
           "ч": "չ", "ш": "շ", "щ": "շչ", "ъ": "", "ы": "ը", "ь": "", "э": "է", "ю": "յու",
           "я": "յա", "і": "ի", "^о": "օ"},
    "ka": {"а": "ა", "б": "ბ", "в": "ვ", "г": "გ", "д": "დ", "е": "ე", "ё": "იო", "ж": "ჟ",
           "з": "ზ", "и": "ი", "й": "ი", "к": "კ", "л": "ლ", "м": "მ", "н": "ნ", "о": "ო",
           "п": "პ", "р": "რ", "с": "ს", "т": "ტ", "у": "უ", "ф": "ფ", "х": "ხ", "ц": "ც",
           "ч": "ჩ", "ш": "შ", "щ": "შჩ", "ъ": "", "ы": "ი", "ь": "", "э": "ე", "ю": "იუ",
           "я": "ია", "і": "ი", "$+": "ი"},
    # Cyrillic spellings of a Russian name in Belarusian and Ukrainian
    "be": {"и": "і", "щ": "шч", "ъ": "", "~т": "ц", "~д": "дз"},
    "uk": {"и": "і", "ы": "и", "э": "е", "ё": "ьо", "ъ": ""},
}


def _is_cyrillic(text: str) -> bool:
    if text.isascii():
        return False
    return any("\u0400" <= c <= "\u04ff" for c in text) and all(
        "\u0400" <= c <= "\u04ff" for c in text if c.isalpha())


def _is_ascii_name(text: str) -> bool:
    return text.isascii() and any(c.isalpha() for c in text)


def to_cyrillic(word: str) -> str:
    """An English-style romanisation of a Russian name back to Cyrillic (lower case):
    Putin -> путин, Zelensky -> зеленский, Sergei -> сергей, Yevgeny -> евгений."""
    word = word.lower()
    word = re.sub(r"(?<=[aeiou])y(?=[^aeiou]|$)", "j", word)  # Sergey, Nikolay: й
    word = re.sub(r"(?<=[aeiou])i(?=[^aeiouy]|$)", "j", word)  # Sergei, Nikolai: й
    word = re.sub(r"(?:iy|yy|y|i)$" if word.endswith(("sky", "skiy", "skyy", "tsky"))
                  else r"(?:iy|yy)$", "ий", word)
    word = re.sub(r"(?<=[^aeiou])y$", "ий", word) if word.endswith("ny") else word
    out = _TO_CYRILLIC_RE.sub(lambda m: _CYRILLIC_OF[m.group()], word)
    return out.replace("ыи", "ий")


def _spell(word: str, table: dict[str, str]) -> str:
    """One Cyrillic word (lower case) in a convention's spelling."""
    out = []
    for i, char in enumerate(word):
        before = word[i - 1] if i else ""
        after = word[i + 1] if i + 1 < len(word) else ""
        if (not before or before in _VOWELS) and f"^{char}" in table:
            out.append(table[f"^{char}"])
        elif not after and f"${char}" in table and before in "и":
            out.append(table[f"${char}"])
        elif after and after in _SOFT and f"~{char}" in table:
            out.append(table[f"~{char}"])
        else:
            out.append(table.get(char, char))
    if "$+" in table and word and word[-1] not in _VOWELS:
        out.append(table["$+"])
    return "".join(out)


def spellings(cyrillic: str) -> dict[str, str]:
    """A Cyrillic name (any case) in every convention: {convention: spelling}, each word
    capitalised as a name is."""
    words = cyrillic.lower().split()
    out = {}
    for name, table in CONVENTIONS.items():
        spelt = " ".join(_spell(w, table) for w in words)
        if name != "ka":  # Georgian has no capitals in running text
            spelt = " ".join(w[:1].upper() + w[1:] for w in spelt.split())
        out[name] = spelt
    return out


def writes_cyrillic(country: str | None, names: Iterable[str]) -> bool:
    """Whether an entry's names are Cyrillic ones: its country writes in Cyrillic, or one of
    its names is Cyrillic."""
    return country in CYRILLIC_COUNTRIES or any(_is_cyrillic(n) for n in names)


def variants(alias: str, country: str | None, others: Iterable[str] = ()) -> list[str]:
    """Other spellings of an alias: for a Cyrillic alias, or a Latin one of an entry whose
    country writes in Cyrillic (or which has Cyrillic aliases, ``others``), its spellings
    in every convention.  The alias itself is not among them."""
    if _is_cyrillic(alias):
        sources = [alias]
    elif _is_ascii_name(alias) and writes_cyrillic(country, others):
        sources = [" ".join(to_cyrillic(w) for w in re.findall(r"[A-Za-z]+", alias))]
    else:
        return []
    found: dict[str, None] = {}
    for source in sources:
        for spelt in spellings(source).values():
            if spelt and spelt != alias:
                found[spelt] = None
    return list(found)


_PATRONYMIC = re.compile(r"(?:ovich|evich|ovych|evych|ovna|evna|ichna|vich|вич|вна|ична|ич)$",
                         re.IGNORECASE)
_PATRONYMIC_IN = re.compile(
    r"(?:ovich|evich|ovych|evych|ovna|evna|ichna|vich|вич|вна|ична|ич)\b", re.IGNORECASE)


def orders(alias: str) -> list[str]:
    """A person's name in its other orders: 'Putin, Vladimir' -> 'Vladimir Putin'; a name
    with a patronymic also without it (Vladimir Vladimirovich Putin -> Vladimir Putin,
    Путин Владимир Владимирович -> Путин Владимир)."""
    if "," not in alias and not _PATRONYMIC_IN.search(alias):
        return []
    out: list[str] = []
    parts = [p.strip() for p in alias.split(",")]
    if len(parts) == 2 and all(parts):
        out.append(f"{parts[1]} {parts[0]}")
    for name in [alias, *out]:
        words = name.replace(",", " ").split()
        kept = [w for w in words if not (_PATRONYMIC.search(w) and len(w) > 5)]
        if 2 <= len(kept) < len(words):
            out.append(" ".join(kept))
    return [o for o in dict.fromkeys(out) if o != alias]
