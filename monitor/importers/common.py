"""What every importer shares: the record it reads, names in natural order, stable ids,
country names to codes, and the watchlist YAML it writes.

A record becomes one entry.  Its id is the slug of its name and its source id (the list's
own number, so that two entries with one name stay apart and an entry keeps its id when the
list is imported again).  The YAML is written one entry a line, in JSON syntax (which YAML
reads): a 10,000-entry list stays greppable and diffable, and each entry's line is the line
a problem is reported on.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from monitor.countries import english_country_names
from monitor.normalize import fold
from monitor.watchlist import alias_key

# The kinds a source's types map to (the watchlist's kinds).
SOURCE_KINDS = {
    "individual": "actor", "person": "actor", "actor": "actor",
    "entity": "organization", "organization": "organization", "organisation": "organization",
    "company": "organization", "legalentity": "organization",
    "vessel": "vessel", "aircraft": "aircraft", "airplane": "aircraft",
}


@dataclass
class Record:
    """One listed person, organisation, vessel or aircraft, as a source gives it."""

    source_id: str
    kind: str  # a watchlist kind: actor, organization, vessel, aircraft
    name: str
    aliases: list[str] = field(default_factory=list)
    weak_aliases: list[str] = field(default_factory=list)  # low quality: exact matches only
    country: str | None = None
    programs: tuple[str, ...] = ()
    context: list[str] = field(default_factory=list)  # e.g. a vessel's IMO number


@dataclass
class Imported:
    """What an importer read: the records, and what the header says about the source."""

    source: str  # e.g. "OFAC SDN (legacy CSV)"
    files: tuple[str, ...]
    records: list[Record]
    read: int  # records in the source, before --program/--type
    notes: tuple[str, ...] = ()
    recase: bool = True  # the source writes names in capitals by habit (see recase)


def natural_order(name: str) -> str | None:
    """'PUTIN, Vladimir Vladimirovich' -> 'Vladimir Vladimirovich PUTIN'; None when the name
    is not written surname first (one comma, a surname before it)."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) != 2 or not all(parts) or len(parts[0].split()) > 4:
        return None
    return f"{parts[1]} {parts[0]}"


def slug(text: str, limit: int = 48) -> str:
    """Lower-case ASCII letters, digits and hyphens, at most ``limit`` characters."""
    out = "-".join(fold(text).split())[:limit].strip("-")
    return out or "x"


def entry_id(name: str, source_id: str) -> str:
    return f"{slug(name)}-{slug(source_id, 24)}" if source_id else slug(name)


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    codes = {fold(name): code for code, names in english_country_names().items()
             for name in names}
    codes.update({code.lower(): code for code in english_country_names()})
    return codes


def country_code(value: str | None) -> str | None:
    """An ISO 3166 alpha-2 code for a country's code or English name, None if unknown."""
    if not value:
        return None
    value = value.strip()
    if len(value) == 2 and value.upper() in english_country_names():
        return value.upper()
    return _country_codes().get(fold(value))


def clean(text: str) -> str:
    """One line, single spaces, NFC (sources mix composed and decomposed accents), without
    control characters (which YAML may not hold)."""
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cs")
                   and c not in "\ufffe\uffff")
    return " ".join(unicodedata.normalize("NFC", text).split())


_NOT_A_NAME = re.compile(r"^[\W\d_]*$")
_CAPS_WORD = re.compile(r"(?<![^\W\d_])[^\W\d_a-z]{2,}(?:['’-][^\W\d_a-z]+)*(?![^\W\d_])")


_ROMAN = re.compile(r"[IVXLC]+")


def recase(name: str) -> str:
    """Words that a list writes in capitals by habit, in the case of a name: SUCCESS ->
    Success, NORIEGA -> Noriega, AL-QA'IDA -> Al-Qa'ida; a short word that is no ordinary
    word, or one of three letters, stays in capitals (ETIM, BNC, HAMAS, ETC), so the matcher
    reads it as an acronym."""
    from monitor.wordlists import lexicon

    common = lexicon().common

    def fix(found: re.Match[str]) -> str:
        word = found.group()
        letters = sum(c.isalpha() for c in word)
        if letters <= 3 or (letters <= 5 and word.lower() not in common) or _ROMAN.fullmatch(
                word):
            return word
        return re.sub(r"(^|-)(\w)([^-]*)", lambda m: m[1] + m[2].upper() + m[3].lower(), word)

    return _CAPS_WORD.sub(fix, name)


def _key(alias: str) -> str:
    """Aliases the same for matching are kept once; a name in another script is kept as
    well as its transliteration (it is how the source writes it, and how a text does)."""
    latin = all(ord(c) < 0x250 or 0x1E00 <= ord(c) <= 0x1EFF for c in alias if c.isalpha())
    return alias_key(alias) if latin else alias.casefold()


def _names(record: Record, recased: bool) -> tuple[str, list[str], list[str]]:
    """The display name (natural order for people), the aliases and the weak aliases, each
    once (folded), a person's surname-first forms also in natural order."""
    def case(text: str) -> str:
        return recase(text) if recased else text

    name = case(clean(record.name))
    natural = natural_order(name) if record.kind == "actor" else None
    display = natural or name
    seen = {_key(display)}
    aliases: list[str] = []

    def add(alias: str, into: list[str], weak: bool = False) -> None:
        alias = clean(alias) if weak else case(clean(alias))
        key = _key(alias)
        if alias and alias_key(alias) and key not in seen and not _NOT_A_NAME.match(alias):
            seen.add(key)
            into.append(alias)

    for alias in ([name] if natural else []) + record.aliases:
        if record.kind == "actor":
            add(natural_order(clean(alias)) or alias, aliases)
        add(alias, aliases)
    weak: list[str] = []
    for alias in record.weak_aliases:
        add(alias, weak, True)
    return display, aliases, weak


def to_entries(records: Iterable[Record], recased: bool = True) -> list[dict[str, object]]:
    """Watchlist entries (as mappings) for the records, with unique ids."""
    entries: list[dict[str, object]] = []
    ids: Counter[str] = Counter()
    for record in records:
        name, aliases, weak = _names(record, recased)
        if not fold(name):
            continue
        base = entry_id(name, record.source_id)
        ids[base] += 1
        entry: dict[str, object] = {
            "id": base if ids[base] == 1 else f"{base}-{ids[base]}",
            "kind": record.kind, "name": name}
        if aliases:
            entry["aliases"] = aliases
        if weak:
            entry["weak_aliases"] = weak
        if record.country:
            entry["country"] = record.country
        if record.context:
            entry["context"] = list(dict.fromkeys(record.context))
        entries.append(entry)
    return entries


def select(records: Iterable[Record], programs: Sequence[str], kinds: Sequence[str]
           ) -> list[Record]:
    """The records in one of ``programs`` (if any given) and of one of ``kinds``."""
    wanted_programs = {p.casefold() for p in programs}
    wanted_kinds = {SOURCE_KINDS.get(k.casefold().replace("-", ""), k.casefold())
                    for k in kinds}
    return [r for r in records
            if (not wanted_programs or wanted_programs & {p.casefold() for p in r.programs})
            and (not wanted_kinds or r.kind in wanted_kinds)]


def to_yaml(imported: Imported, name: str, programs: Sequence[str] = (),
            kinds: Sequence[str] = (), today: datetime | None = None) -> str:
    """The watchlist YAML: a header (source, date, counts, filters), then one entry a line."""
    records = select(imported.records, programs, kinds)
    entries = to_entries(records, imported.recase)
    by_kind = Counter(str(e["kind"]) for e in entries)
    aliases = sum(len(names) for e in entries if isinstance(names := e.get("aliases"), list))
    weak = sum(len(names) for e in entries if isinstance(names := e.get("weak_aliases"), list))
    date = (today or datetime.now(UTC)).strftime("%Y-%m-%d")
    header = [
        f"# Imported from {imported.source} on {date} by `monitor watchlist import`:",
        *(f"#   {path}" for path in imported.files),
        f"# {imported.read} records read, {len(entries)} entries written ("
        + ", ".join(f"{kind} {count}" for kind, count in sorted(by_kind.items()))
        + f"), {aliases} aliases, {weak} weak aliases (matched exactly, as written).",
    ]
    if programs:
        header.append(f"# Programs: {', '.join(programs)}.")
    if kinds:
        header.append(f"# Types: {', '.join(kinds)}.")
    header += [f"# {note}" for note in imported.notes]
    header.append("# Shared aliases are expected in such lists: `monitor watchlist check` "
                  "lists them as warnings.")
    lines = [*header, f"watchlist: {json.dumps(name)}",
             f"description: {json.dumps(imported.source, ensure_ascii=False)}", "entries:"]
    lines += [f"  - {json.dumps(e, ensure_ascii=False)}" for e in entries]
    return "\n".join(lines) + "\n"
