"""OFAC's legacy CSV files: the SDN list (sdn.csv, with alt.csv beside it) and the
consolidated non-SDN lists (cons_prim.csv with cons_alt.csv), which have the same columns.

No header row; ``-0-`` means empty.  Main file: ent_num, name, type (individual, vessel,
aircraft, or empty for an entity), program (several as ``A] [B``), title, call_sign,
vess_type, tonnage, grt, vess_flag, vess_owner, remarks.  Aliases file: ent_num, alt_num,
alt_type (aka, fka, nka), alt_name, remarks.  The nationality comes from the remarks
(``nationality Iran``), a vessel's flag and IMO number from its columns and remarks.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from monitor.errors import UsageError
from monitor.importers.common import SOURCE_KINDS, Imported, Record, clean, country_code

_NATIONALITY = re.compile(r"\b(?:[Nn]ationality|[Cc]itizen)\s+([A-Z][A-Za-z .'-]+?)\s*[;.]")
_IMO = re.compile(r"\bIMO\s+(\d{7})\b")
_WEAK = re.compile(r"\b(?:weak|low quality)\b", re.IGNORECASE)


def _value(cell: str) -> str:
    cell = cell.strip()
    return "" if cell == "-0-" else cell


def _read_rows(path: Path) -> list[list[str]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return [row for row in csv.reader(io.StringIO(text.replace("\x1a", ""))) if any(row)]


def alias_file(path: Path) -> Path | None:
    """The aliases file beside a main file: alt.csv beside sdn.csv, cons_alt.csv beside
    cons_prim.csv (None if there is none)."""
    candidates = [path.with_name(path.name.replace("prim", "alt")),
                  path.with_name(path.name.replace("sdn", "alt")), path.with_name("alt.csv")]
    return next((c for c in candidates if c != path and c.is_file()), None)


def read(path: Path) -> Imported:
    rows = _read_rows(path)
    records: dict[str, Record] = {}
    for number, row in enumerate(rows, 1):
        if len(row) < 4:
            raise UsageError(f"{path}:{number}: expected the SDN CSV columns (ent_num, name, "
                             f"type, program, ...), found {len(row)} field(s)")
        cells = [_value(c) for c in row] + [""] * (12 - len(row))
        ent_num, name, sdn_type, program = cells[:4]
        if not ent_num.isdigit() or not name:
            continue
        remarks = cells[11]
        kind = SOURCE_KINDS.get(sdn_type.casefold() or "entity", "organization")
        nationality = _NATIONALITY.search(remarks)
        country = country_code(cells[9]) if kind == "vessel" else None
        if country is None and nationality:
            country = country_code(nationality.group(1))
        records[ent_num] = Record(
            source_id=ent_num, kind=kind, name=name, country=country,
            programs=tuple(p.strip() for p in program.split("] [") if p.strip()),
            context=[f"IMO {imo}" for imo in _IMO.findall(remarks)] if kind == "vessel" else [],
        )
    files = [str(path)]
    aliases = alias_file(path)
    if aliases is not None:
        files.append(str(aliases))
        for number, row in enumerate(_read_rows(aliases), 1):
            if len(row) < 4:
                raise UsageError(f"{aliases}:{number}: expected the alias CSV columns "
                                 f"(ent_num, alt_num, alt_type, alt_name, remarks)")
            record = records.get(_value(row[0]))
            alias = clean(_value(row[3]))
            if record is None or not alias:
                continue
            weak = len(row) > 4 and _WEAK.search(row[4])
            (record.weak_aliases if weak else record.aliases).append(alias)
    notes = () if aliases else (f"No aliases file beside {path.name}: names only.",)
    return Imported("OFAC sanctions list (legacy CSV)", tuple(files), list(records.values()),
                    len(records), notes)
