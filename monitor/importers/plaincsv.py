"""A plain CSV for every other list: a header row naming the columns ``name`` (required),
``aliases`` (several separated by ``;`` or ``|``), ``kind`` (a watchlist kind, or
individual/entity; default actor), ``country`` (code or English name) and optionally
``id`` (the list's own number, kept in the entry's id)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from monitor.errors import UsageError
from monitor.importers.common import SOURCE_KINDS, Imported, Record, clean, country_code
from monitor.watchlist import KINDS

_SEPARATORS = re.compile(r"\s*[;|]\s*")


def read(path: Path) -> Imported:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().casefold() for c in reader.fieldnames or []]
    if "name" not in columns:
        raise UsageError(f"{path}:1: the header must name a 'name' column (columns: name, "
                         f"aliases, kind, country; found: {', '.join(columns) or 'none'})")
    records: list[Record] = []
    for row in reader:
        cells = {(k or "").strip().casefold(): clean(v or "") for k, v in row.items()
                 if isinstance(v, str)}
        line = reader.line_num
        if not cells.get("name"):
            continue
        raw_kind = cells.get("kind", "").casefold() or "actor"
        kind = SOURCE_KINDS.get(raw_kind, raw_kind)
        if kind not in KINDS:
            raise UsageError(f"{path}:{line}: kind {raw_kind!r} is unknown; use one of "
                             f"{', '.join(KINDS)}")
        raw_country = cells.get("country", "")
        country = country_code(raw_country)
        if raw_country and country is None:
            raise UsageError(f"{path}:{line}: country {raw_country!r} is neither an ISO 3166 "
                             "code nor a country's English name")
        aliases = [a for a in _SEPARATORS.split(cells.get("aliases", "")) if a]
        records.append(Record(cells.get("id", ""), kind, cells["name"], aliases, [], country))
    return Imported("plain CSV (name, aliases, kind, country)", (str(path),), records,
                    len(records), recase=False)
