"""Watchlists: the YAML format, and loading that reports every problem (through the one
validating reader, ``monitor.config.reader``).

Format (names are stable; see README):

    watchlist: russia-asia-diplomacy      # required, unique
    description: ...                      # optional
    defaults: {fuzzy: 80}                 # optional
    entries:
      - id: putin                         # required, unique in the file, [a-z0-9-]+
        kind: actor                       # actor|country|organization|treaty|topic|place|
                                          # vessel|aircraft|other
        name: Vladimir Putin
        aliases: [Putin]
        country: RU                       # ISO 3166 alpha-2
        case_sensitive: false
        fuzzy: 80                         # 0-100, or false
        exclude: ["Michael Jordan"]
        requires: [Kremlin, Moscow]
        priority: normal                  # normal | high
        weak_aliases: [Vova]              # low-quality aliases: exact, case-sensitive only
        context: [tanker, IMO]            # words one of which must be in the mention's
                                          # sentence (vessel/aircraft have a default list)
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.config.reader import LineMap, Reader, parse_yaml
from monitor.countries import is_country_code
from monitor.errors import Problem, WatchlistError
from monitor.normalize import fold

if TYPE_CHECKING:
    from monitor.query.rules import Rule

KINDS = ("actor", "country", "organization", "treaty", "topic", "place", "vessel", "aircraft",
         "other")
PRIORITIES = ("normal", "high")
DEFAULT_FUZZY = 80
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_WATCHLIST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TOP_KEYS = ("watchlist", "description", "defaults", "entries", "rules")
_DEFAULT_KEYS = ("fuzzy",)
_ENTRY_KEYS = (
    "id", "kind", "name", "aliases", "country", "case_sensitive", "fuzzy", "exclude",
    "requires", "priority", "weak_aliases", "context",
)
# Fields added after entries' versions were first stored: part of the version only when set,
# so that an entry that does not use them keeps its version (and its stored hits theirs).
_LATER_KEYS = ("weak_aliases", "context")


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    kind: str
    name: str
    aliases: tuple[str, ...] = ()
    country: str | None = None
    case_sensitive: bool = False
    fuzzy: int | None = DEFAULT_FUZZY  # minimum similarity 0-100; None: exact only
    exclude: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    priority: str = "normal"
    weak_aliases: tuple[str, ...] = ()  # matched exactly (case and accents), never with typos
    context: tuple[str, ...] | None = None  # None: the kind's default (see match.py)
    line: int | None = field(default=None, compare=False)

    def __reduce__(self) -> tuple[type[Entry], tuple[Any, ...]]:
        """Pickled as its fields: a cached matcher's 10^4 entries unpickle five times faster
        than through the dataclass's __setstate__."""
        return (Entry, tuple(getattr(self, f) for f in _FIELDS))

    @property
    def names(self) -> tuple[str, ...]:
        """The display name and the aliases, without repeats."""
        return tuple(dict.fromkeys((self.name, *self.aliases)))

    @property
    def version(self) -> str:
        """Content hash of everything that decides what the entry matches."""
        data = {k: getattr(self, k) for k in _ENTRY_KEYS
                if k not in _LATER_KEYS or getattr(self, k) not in ((), None)}
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


_FIELDS = ("id", "kind", "name", "aliases", "country", "case_sensitive", "fuzzy", "exclude",
           "requires", "priority", "weak_aliases", "context", "line")


@dataclass(frozen=True, slots=True)
class Watchlist:
    name: str
    entries: tuple[Entry, ...]
    description: str = ""
    path: str = ""
    rules: tuple[Rule, ...] = ()  # saved queries (monitor.query.rules)

    def entry(self, entry_id: str) -> Entry:
        for e in self.entries:
            if e.id == entry_id:
                return e
        raise KeyError(entry_id)


# --- validation ---------------------------------------------------------------------------


def _strings(reader: Reader, data: LineMap, key: str, entry: str) -> tuple[str, ...]:
    """A string or a list of strings, each with a letter or a digit once folded."""
    value = data.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        reader.add(data, key, "must be a list of strings", entry)
        return ()
    out = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            reader.add(data, key, f"{item!r} is not a non-empty string", entry)
        elif not fold(item):
            reader.add(data, key, f"{item!r} has no letters or digits", entry)
        else:
            out.append(item.strip())
    return tuple(out)


def _fuzzy(reader: Reader, data: LineMap, entry: str | None, default: int | None
           ) -> int | None:
    """``fuzzy:`` as a minimum similarity: 0-100, true (the default one) or false (exact)."""
    if "fuzzy" not in data:
        return default
    value = data["fuzzy"]
    if value is False:
        return None
    if value is True:
        return DEFAULT_FUZZY
    if isinstance(value, int) and 0 <= value <= 100:
        return value
    reader.add(data, "fuzzy", f"{value!r} must be a number from 0 to 100, or false", entry)
    return default


def _label(data: LineMap, index: int) -> str:
    """How problems name an entry: its id, or its position when the id is unusable."""
    raw_id = data.get("id")
    return raw_id if isinstance(raw_id, str) and raw_id else f"#{index + 1}"


def _entry(reader: Reader, data: Any, index: int, default_fuzzy: int | None,
           line: int) -> Entry | None:
    if not isinstance(data, LineMap):
        reader.at(line, f"entry #{index + 1} must be a mapping (id: ..., kind: ..., name: ...)")
        return None
    raw_id = data.get("id")
    label = _label(data, index)
    reader.keys(data, _ENTRY_KEYS, label)
    ok = True
    if not isinstance(raw_id, str) or not _ID.fullmatch(raw_id):
        reader.add(data, "id", f"id {raw_id!r} is missing or not of the form [a-z0-9-]+ "
                   "(lower-case letters, digits, hyphens)", label)
        ok = False
    kind = data.get("kind")
    if kind not in KINDS:
        reader.add(data, "kind", f"kind {kind!r} is unknown; use one of {', '.join(KINDS)}",
                   label)
        ok = False
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or not fold(name):
        reader.add(data, "name", "name is missing or empty", label)
        ok = False
    country = data.get("country")
    if country is not None and (not isinstance(country, str) or not is_country_code(country)):
        reader.add(data, "country", f"{country!r} is not an ISO 3166 alpha-2 country code "
                   "(e.g. RU, KP, VN)", label)
        ok = False
    if "case_sensitive" in data and not isinstance(data["case_sensitive"], bool):
        reader.add(data, "case_sensitive", "must be true or false", label)
        ok = False
    priority = data.get("priority", "normal")
    if priority not in PRIORITIES:
        reader.add(data, "priority", f"{priority!r} must be normal or high", label)
        ok = False
    aliases = _strings(reader, data, "aliases", label)
    weak = _strings(reader, data, "weak_aliases", label)
    context = _strings(reader, data, "context", label) if "context" in data else None
    exclude = _strings(reader, data, "exclude", label)
    requires = _strings(reader, data, "requires", label)
    fuzzy = _fuzzy(reader, data, label, default_fuzzy)
    if not ok:
        return None
    return Entry(
        id=str(raw_id), kind=str(kind), name=str(name).strip(), aliases=aliases, country=country,
        case_sensitive=bool(data.get("case_sensitive", False)), fuzzy=fuzzy, exclude=exclude,
        requires=requires, priority=priority, weak_aliases=weak, context=context,
        line=data.line,
    )


def alias_key(alias: str) -> str:
    """What two aliases must share to name the same thing in a text: the folded form, with
    an acronym's dots dropped (US and U.S. are one alias)."""
    key = fold(alias)
    if _DOTTED_ACRONYM.fullmatch(alias.strip()):
        key = key.replace(" ", "")
    return key


_DOTTED_ACRONYM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]\.?")


def shared_aliases(watchlist: Watchlist) -> list[Problem]:
    """Warnings, not errors: an alias (folded, dots dropped) that names several entries of a
    watchlist.  Real lists share aliases; each mention is then reported for every entry
    that has it, marked ambiguous."""
    owners: dict[str, list[tuple[Entry, str]]] = {}
    for entry in watchlist.entries:
        for name in dict.fromkeys((*entry.names, *entry.weak_aliases)):
            key = alias_key(name)
            if key:
                owned = owners.setdefault(key, [])
                if not owned or owned[-1][0] is not entry:
                    owned.append((entry, name))
    warnings = []
    for owned in owners.values():
        if len(owned) < 2:
            continue
        first, first_name = owned[0]
        for entry, name in owned[1:]:
            field = "name" if name == entry.name else "aliases"
            warnings.append(Problem(watchlist.path, entry.line, f"warning: alias {name!r} is "
                                    f"also a name of entry '{first.id}' ({first_name!r}); a "
                                    "mention is reported for both, marked ambiguous",
                                    entry.id, field))
    return warnings


def parse_watchlist(text: str, path: str) -> tuple[Watchlist | None, list[Problem]]:
    """Validate one watchlist's YAML text; return it (if usable) and every problem found."""
    data, problems = parse_yaml(text, path)
    if problems:
        return None, problems
    reader = Reader(path, noun="field")
    if not isinstance(data, LineMap):
        reader.at(1, "a watchlist must be a mapping with 'watchlist' and 'entries'")
        return None, reader.problems
    reader.keys(data, _TOP_KEYS, None)
    name = data.get("watchlist")
    if not isinstance(name, str) or not _WATCHLIST_NAME.fullmatch(name):
        reader.at(data.key_lines.get("watchlist", 1), f"'watchlist' {name!r} is missing or "
                  "not a name of letters, digits, '.', '_' or '-'", None, "watchlist")
    defaults = data.get("defaults") or LineMap()
    default_fuzzy: int | None = DEFAULT_FUZZY
    if not isinstance(defaults, LineMap):
        reader.at(data.key_lines.get("defaults"), "must be a mapping", None, "defaults")
    else:
        if defaults:
            reader.keys(defaults, _DEFAULT_KEYS, None)
        default_fuzzy = _fuzzy(reader, defaults, None, DEFAULT_FUZZY)
    raw_entries = data.get("entries")
    entries: list[Entry] = []
    if raw_entries is None and data.get("rules"):
        raw_entries = []  # a file of rules only
    elif not isinstance(raw_entries, list) or not raw_entries:
        reader.at(data.key_lines.get("entries", 1), "'entries' must be a non-empty list",
                  None, "entries")
    else:
        seen: dict[str, int | None] = {}
        for index, raw in enumerate(raw_entries):
            line = raw.line if isinstance(raw, LineMap) else data.key_lines["entries"]
            entry = _entry(reader, raw, index, default_fuzzy, line)
            if entry is None:
                continue
            if entry.id in seen:
                reader.at(entry.line, f"duplicate id (first used on line {seen[entry.id]})",
                          entry.id, "id")
                continue
            seen[entry.id] = entry.line
            entries.append(entry)
    description = data.get("description") or ""
    rules = _rules(reader, data, [e.id for e in entries])
    if reader.problems:
        return None, reader.problems
    return Watchlist(str(name), tuple(entries), str(description), path, rules), []


def _rules(reader: Reader, data: LineMap, entry_ids: list[str]) -> tuple[Rule, ...]:
    """The file's ``rules:`` (saved queries), read and checked by monitor.query.rules."""
    from monitor.query.rules import read_rules

    rules, problems = read_rules(data.get("rules"), data.key_lines.get("rules"), reader.path,
                                 entry_ids)
    reader.problems += problems
    return rules


def watchlist_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def check_watchlists(path: str | Path) -> tuple[list[Watchlist], list[Problem]]:
    """Load a watchlist file or folder; return the valid ones and every problem found."""
    root = Path(path)
    if not root.exists():
        return [], [Problem(str(path), None, "no such file or folder")]
    files = watchlist_files(root)
    if not files:
        return [], [Problem(str(path), None, "folder holds no .yaml or .yml watchlist")]
    loaded: list[Watchlist] = []
    problems: list[Problem] = []
    names: dict[str, str] = {}
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(file), None, f"cannot be read: {exc}"))
            continue
        watchlist, found = parse_watchlist(text, str(file))
        problems += found
        if watchlist is None:
            continue
        if watchlist.name in names:
            problems.append(Problem(str(file), 1, f"watchlist name '{watchlist.name}' is "
                                    f"already used by {names[watchlist.name]}", None,
                                    "watchlist"))
            continue
        names[watchlist.name] = str(file)
        loaded.append(watchlist)
    return loaded, problems + rule_problems(loaded)[0]


def rule_problems(loaded: list[Watchlist]) -> tuple[list[Problem], list[Problem]]:
    """The rules' problems that need every watchlist's entries: (errors, warnings)."""
    from monitor.query.rules import check_rules

    return check_rules(loaded)


def load_watchlists(path: str | Path) -> list[Watchlist]:
    """Load and validate; raise WatchlistError listing every problem if any file is bad."""
    loaded, problems = check_watchlists(path)
    if problems:
        raise WatchlistError(problems)
    return loaded
