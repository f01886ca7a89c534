"""`monitor watchlist derive`: propose a watchlist from any text, for a person to edit.

- countries, regions and supranational organisations: CLDR/ISO names via the matcher
  itself (so it finds "the US", "DPRK" and "Nordkorea" the way monitoring will);
- treaties: capitalised phrases ending in Treaty/Agreement/Accord/Pact/Convention/...,
  "Treaty of/on ..." phrases, and acronyms named as treaties (New START, INF);
- organisations: capitalised phrases ending in Union/Council/Alliance/Ministry/...,
  and all-capital acronyms that are not countries;
- people: capitalised names after a title (President, Minister, leader, ...) or repeated
  in mid-sentence, never a demonym, a month or a common word at the start of a line
  (so page boilerplate such as a trailing "Comentarios" is not proposed);
- native spellings: a person's or organisation's name glossed in another script in the
  text ("Putin (普京)", "普京（Putin）") becomes an alias: names in scripts without vowels
  or spaces are only found through such aliases.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import yaml

from monitor.countries import (
    country_display_name,
    english_country_names,
    organization_names,
    region_names,
)
from monitor.match import Matcher, Mention
from monitor.normalize import fold, is_unspaced
from monitor.typos import zipf
from monitor.watchlist import Entry, Watchlist

_CAP = r"[A-Z][\w'’.-]*"
_TREATY_WORDS = r"(?:Treaty|Agreement|Accords?|Pact|Convention|Protocol|Charter)"
_PHRASE = rf"{_CAP}(?:\s+(?:(?:of|on|for|the)\s+)*{_CAP})*"
_TREATY = re.compile(
    rf"\b(?:{_CAP}\s+)*?((?:{_CAP}\s+){{1,6}}{_TREATY_WORDS})\b"
    rf"|\b({_TREATY_WORDS}\s+(?:of|on)\s+(?:the\s+)?{_PHRASE})"
    rf"|\b((?:[A-Z][a-z]+\s+)?[A-Z]{{3,}})\s+(?:[Tt]reaty|[Aa]ccord|[Aa]greement)\b"
)
_ORG_WORDS = (
    "Union|Organization|Organisation|Council|Alliance|Agency|Ministry|Bank|Fund|Party|"
    "Committee|Commission|Court|Parliament|Assembly|Army|Navy|Institute|Association|Forum"
)
_ORG = re.compile(rf"\b((?:{_CAP}\s+(?:of\s+(?:the\s+)?)?){{1,5}}(?:{_ORG_WORDS}))\b")
_ACRONYM = re.compile(r"\b[A-Z]{3,6}\b")
_TITLES = (
    r"(?:President|Prime\s+Minister|(?:Foreign|Defen[cs]e)\s+Minister|Minister|[Ll]eader|"
    r"Chairman|General\s+Secretary|Secretary|Chancellor|Premier|King|Queen|Senator|"
    r"Ambassador|General|Gen\.|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|[Ss]pokes(?:man|woman|person))"
)
_NAME = r"[A-Z][a-zà-öø-ÿ'’-]+"
_TITLED = re.compile(rf"\b{_TITLES}\s+((?:{_NAME}\s+){{0,3}}{_NAME})")
_CAPITALISED = re.compile(rf"{_NAME}(?:[ -]{_NAME}){{0,3}}")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“”]\s*|\n\s*)$")
# A name glossed in another script, either way round: "Vladimir Putin (Владимир Путин)",
# "普京（Putin）", "Benjamin Netanyahu (בנימין נתניהו)".
_LETTER = r"[^\W\d_A-Za-z\u00c0-\u024f]"  # a letter of a script other than Latin
_NATIVE = rf"{_LETTER}+(?:[ ·・]{_LETTER}+){{0,4}}"
_LATIN_NAME = r"[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){0,4}"
_GLOSS = re.compile(rf"({_LATIN_NAME})\s*[(（\[]\s*({_NATIVE})\s*[)）\]]"
                    rf"|({_NATIVE})\s*[(（\[]\s*({_LATIN_NAME})\s*[)）\]]")
_HISTORIC = {"Soviet Union": ("USSR",), "Yugoslavia": (), "Czechoslovakia": (),
             "East Germany": ("German Democratic Republic",)}
_IRREGULAR_DEMONYMS = {"french", "dutch", "british", "english", "welsh", "swiss", "greek",
                       "thai", "filipino", "scottish", "irish", "danish", "swedish", "polish",
                       "finnish", "norwegian", "spanish", "portuguese", "western", "eastern",
                       "northern", "southern", "european", "asian", "african", "american"}
_CALENDAR = {n.lower() for n in (*calendar.month_name, *calendar.day_name) if n}
_KIND_ORDER = ("actor", "country", "organization", "treaty", "place", "topic", "other")


@dataclass
class Proposal:
    kind: str
    name: str
    aliases: list[str] = field(default_factory=list)
    country: str | None = None
    count: int = 0

    def add(self, surface: str) -> None:
        self.count += 1
        if fold(surface) != fold(self.name) and surface not in self.aliases:
            self.aliases.append(surface)


def _reference() -> Matcher:
    entries = [Entry(f"c-{code.lower()}", "country", country_display_name(code), country=code,
                     fuzzy=None) for code in english_country_names()]
    entries += [Entry(f"h-{i}", "country", name, aliases, fuzzy=None)
                for i, (name, aliases) in enumerate(_HISTORIC.items())]
    entries += [Entry(f"r-{code}", "place", name, fuzzy=None)
                for name, code in region_names().items()]
    orgs = organization_names()
    entries += [Entry(f"o-{code.lower()}", "organization", name,
                      tuple(a for a, c in orgs.items() if c == code and a != name), fuzzy=None)
                for name, code in orgs.items() if len(name) > 3]
    return Matcher([Watchlist("reference", tuple(entries))], shadows=False)


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _is_demonym(word: str, stems: set[str]) -> bool:
    low = fold(word)
    return low in _IRREGULAR_DEMONYMS or any(low.startswith(s) for s in stems)


def _stems() -> set[str]:
    names = [n for names in english_country_names().values() for n in names]
    names += list(region_names()) + list(_HISTORIC)
    stems = set()
    for name in names:
        for token in fold(name).split():
            if len(token) >= 4 and token not in ("republic", "islands", "united", "states"):
                stems.add(token[: max(4, len(token) - 2)])
    return stems


def _mid_sentence(text: str, start: int) -> bool:
    return not _SENTENCE_START.search(text[max(0, start - 3):start])


class Deriver:
    """Accumulates proposals over several texts."""

    def __init__(self) -> None:
        self.reference = _reference()
        self.stems = _stems()
        self.proposals: dict[tuple[str, str], Proposal] = {}
        self.glosses: dict[str, list[str]] = {}  # folded Latin name -> its native spellings

    def _propose(self, kind: str, name: str, surface: str, country: str | None = None) -> None:
        key = (kind, fold(name))
        proposal = self.proposals.setdefault(key, Proposal(kind, name, country=country))
        proposal.add(surface)

    def add_text(self, text: str) -> None:
        taken: list[tuple[int, int]] = []
        for mention in self.reference.match(text):
            self._propose_reference(mention)
            taken.append((mention.start, mention.end))
        for m in _TREATY.finditer(text):
            group = next(g for g in (1, 2, 3) if m.group(g))
            name = re.sub(r"^(?:The|A|An|In|On|By)\s+", "", m.group(group).strip())
            if len(name.split()) >= 2 or m.group(3):
                self._propose("treaty", " ".join(name.split()), name)
                taken.append(m.span(group))
        for m in _ORG.finditer(text):
            if not _overlaps(taken, *m.span(1)):
                name = re.sub(r"^(?:The)\s+", "", " ".join(m.group(1).split()))
                self._propose("organization", name, name)
                taken.append(m.span(1))
        for m in _ACRONYM.finditer(text):
            before = re.findall(r"\w+", text[max(0, m.start() - 30):m.start()])[-1:]
            after = re.findall(r"\w+", text[m.end():m.end() + 30])[:1]
            shouting = any(w.isupper() and len(w) > 1 for w in before + after)  # a headline
            if not _overlaps(taken, *m.span()) and not shouting:
                self._propose("organization", m.group(), m.group())
        self._people(text, taken)
        for m in _GLOSS.finditer(text):
            latin, native = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
            native = native.strip()
            if m.group(3) and len(native) > 4 and any(map(is_unspaced, native)):
                continue  # 俄罗斯总统普京（Putin）: where the name starts cannot be told
            words = fold(latin).split()
            for i in range(len(words)):  # "President Vladimir Putin": any of its ends
                glossed = self.glosses.setdefault(" ".join(words[i:]), [])
                if native not in glossed:
                    glossed.append(native)

    def _propose_reference(self, m: Mention) -> None:
        code = m.entry[2:].upper() if m.entry.startswith("c-") else None
        if m.entry.startswith("o-") or m.entry.startswith("h-") or m.entry.startswith("r-"):
            code = None
        self._propose(m.kind, m.name, m.text, code)

    def _people(self, text: str, taken: list[tuple[int, int]]) -> None:
        titled = {" ".join(m.group(1).split()) for m in _TITLED.finditer(text)
                  if not _overlaps(taken, *m.span(1))}
        counts: Counter[str] = Counter()
        for m in _CAPITALISED.finditer(text):
            name = " ".join(m.group().replace("’", "'").split("'")[0].split())
            if _overlaps(taken, *m.span()) or not _mid_sentence(text, m.start()):
                continue
            counts[name] += 1
        for name in titled:
            counts[name] += 1
        for name, count in counts.items():
            several = count >= 2 or len(name.split()) > 1
            if name in titled or (several and self._plausible_person(name)):
                for _ in range(count):
                    self._propose("actor", name, name)

    def _plausible_person(self, name: str) -> bool:
        words = name.replace("-", " ").split()
        if any(_is_demonym(w, self.stems) or fold(w) in _CALENDAR for w in words):
            return False
        if len(words) > 1:
            return all(zipf(fold(w)) < 5.0 for w in words)
        return zipf(fold(name)) < 4.8

    def result(self) -> list[Proposal]:
        props = list(self.proposals.values())
        # A surname seen alone ("Putin") joins the full name ("Vladimir Putin") as an alias.
        people = [p for p in props if p.kind == "actor"]
        for short in [p for p in people if len(p.name.split()) == 1]:
            full = [p for p in people if len(p.name.split()) > 1
                    and p.name.split()[-1] == short.name]
            if len(full) == 1:
                full[0].aliases.append(short.name)
                full[0].count += short.count
                props.remove(short)
        self._add_glosses(props)
        props.sort(key=lambda p: (_KIND_ORDER.index(p.kind), -p.count, p.name))
        return props

    def _add_glosses(self, props: list[Proposal]) -> None:
        """A name the text glosses in another script gets that spelling as an alias: a
        name in Chinese, Arabic or Hebrew script is only found through such an alias."""
        for p in props:
            if p.kind not in ("actor", "organization"):
                continue
            for name in (p.name, *p.aliases, p.name.split()[-1]):
                for native in self.glosses.get(fold(name), ()):
                    if native not in p.aliases:
                        p.aliases.append(native)


def derive(texts: Iterable[str]) -> list[Proposal]:
    deriver = Deriver()
    for text in texts:
        deriver.add_text(text)
    return deriver.result()


def _slug(name: str, used: set[str]) -> str:
    base = fold(name).replace(" ", "-")
    if len(base) > 48:
        base = base[:48].rsplit("-", 1)[0]
    base = base.strip("-") or "entry"
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug)
    return slug


def to_yaml(proposals: Sequence[Proposal], name: str, sources: Sequence[str]) -> str:
    """The proposals as a watchlist file, one commented entry each, ready to edit."""
    used: set[str] = set()
    claimed: set[str] = set()
    lines = [
        f"# Proposed by `monitor watchlist derive` from {', '.join(sources)}.",
        "# Review it: delete what you do not want to watch, add aliases and topics,",
        "# then run `monitor watchlist check` on it.",
        f"watchlist: {name}",
        "entries:",
    ]
    for p in proposals:
        names = [n for n in (p.name, *p.aliases) if fold(n) not in claimed]
        if not names or fold(p.name) in claimed:
            continue
        claimed.update(fold(n) for n in names)
        entry: dict[str, object] = {"id": _slug(p.name, used), "kind": p.kind, "name": p.name}
        aliases = list(dict.fromkeys(a for a in names[1:] if fold(a) != fold(p.name)))
        if aliases:
            entry["aliases"] = aliases
        if p.country:
            entry["country"] = p.country
        lines.append(f"  # {p.kind}, {p.count} mention{'s' if p.count != 1 else ''}")
        dumped = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=100)
        lines += ["  " + line for line in dumped.splitlines()]
    return "\n".join(lines) + "\n"
