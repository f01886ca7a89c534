"""OpenSanctions exports in FollowTheMoney JSON lines: one entity a line, ``{"id",
"schema", "properties": {"name": [...], "alias": [...], ...}}``.

Person -> actor; Organization, Company, LegalEntity, PublicBody -> organization; Vessel ->
vessel; Airplane -> aircraft; other schemas (Sanction, Address, Ownership, ...) are not
entries, though a Sanction's ``program``/``programId`` counts for its entity.  ``name``,
``alias`` and ``previousName`` are names; ``weakAlias`` is kept as a weak alias (matched
exactly, as written).  The country is the first of ``country``, ``nationality``,
``citizenship``, ``jurisdiction`` and ``flag`` that is an ISO code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from monitor.errors import UsageError
from monitor.importers.common import Imported, Record, country_code

KINDS = {
    "Person": "actor", "Organization": "organization", "Company": "organization",
    "LegalEntity": "organization", "PublicBody": "organization", "Vessel": "vessel",
    "Airplane": "aircraft",
}
_COUNTRY_PROPS = ("country", "nationality", "citizenship", "jurisdiction", "flag")


def _strings(props: dict[str, Any], key: str) -> list[str]:
    values = props.get(key) or []
    return [v for v in values if isinstance(v, str) and v.strip()]


def _record(entity: dict[str, Any], programs: dict[str, set[str]]) -> Record | None:
    kind = KINDS.get(str(entity.get("schema")))
    props = entity.get("properties")
    if kind is None or not isinstance(props, dict):
        return None
    names = _strings(props, "name") + _strings(props, "alias") + _strings(
        props, "previousName")
    if not names:
        return None
    country = next((code for key in _COUNTRY_PROPS for value in _strings(props, key)
                    if (code := country_code(value))), None)
    entity_id = str(entity.get("id", ""))
    own = set(_strings(props, "programId")) | set(_strings(props, "program"))
    context = [f"IMO {v.removeprefix('IMO').strip()}" for v in _strings(props, "imoNumber")]
    context += _strings(props, "registrationNumber") if kind == "aircraft" else []
    return Record(entity_id, kind, names[0], names[1:], _strings(props, "weakAlias"), country,
                  tuple(sorted(own | programs.get(entity_id, set()))), context)


def read(path: Path) -> Imported:
    entities: list[dict[str, Any]] = []
    programs: dict[str, set[str]] = {}
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    entity = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UsageError(f"{path}:{number}: not a JSON object: {exc.msg}") from exc
                if not isinstance(entity, dict):
                    raise UsageError(f"{path}:{number}: not a JSON object")
                if entity.get("schema") == "Sanction":
                    props = entity.get("properties") or {}
                    for target in _strings(props, "entity"):
                        programs.setdefault(target, set()).update(
                            _strings(props, "programId") + _strings(props, "program"))
                else:
                    entities.append(entity)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read: {exc}") from exc
    records = [r for r in (_record(e, programs) for e in entities) if r is not None]
    return Imported("OpenSanctions FollowTheMoney entities (JSON lines)", (str(path),),
                    records, len(records))
