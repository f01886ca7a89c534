"""The UN Security Council consolidated list, XML (the public format).

    <CONSOLIDATED_LIST dateGenerated="...">
      <INDIVIDUALS><INDIVIDUAL>
        <DATAID/> <FIRST_NAME/> <SECOND_NAME/> <THIRD_NAME/> <FOURTH_NAME/>
        <UN_LIST_TYPE/> <REFERENCE_NUMBER/> <NAME_ORIGINAL_SCRIPT/>
        <NATIONALITY><VALUE/></NATIONALITY>
        <INDIVIDUAL_ALIAS><QUALITY>Good|Low</QUALITY><ALIAS_NAME/></INDIVIDUAL_ALIAS>
      </INDIVIDUAL></INDIVIDUALS>
      <ENTITIES><ENTITY>
        <DATAID/> <FIRST_NAME/> <UN_LIST_TYPE/> <REFERENCE_NUMBER/>
        <ENTITY_ALIAS><QUALITY/><ALIAS_NAME/></ENTITY_ALIAS>
      </ENTITY></ENTITIES>
    </CONSOLIDATED_LIST>

The name parts are in the order written; the original-script name is kept as an alias
(a name in Arabic or Chinese script is only found through it).  Low-quality aliases become
weak aliases.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from monitor.errors import UsageError
from monitor.importers.common import Imported, Record, clean, country_code

_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")


def _text(element: etree._Element, tag: str) -> str:
    found = element.find(tag)
    return clean(found.text or "") if found is not None else ""


def _record(element: etree._Element, kind: str, alias_tag: str) -> Record | None:
    name = " ".join(p for p in (_text(element, tag) for tag in _PARTS) if p)
    if not name:
        return None
    aliases: list[str] = []
    weak: list[str] = []
    for alias in element.iter(alias_tag):
        alias_name = _text(alias, "ALIAS_NAME")
        if alias_name:
            low = _text(alias, "QUALITY").casefold() in ("low", "weak")
            (weak if low else aliases).append(alias_name)
    original = _text(element, "NAME_ORIGINAL_SCRIPT")
    if original:
        aliases.insert(0, original)
    country = None
    for value in element.iterfind("NATIONALITY/VALUE"):
        country = country_code(value.text)
        if country:
            break
    source_id = _text(element, "REFERENCE_NUMBER") or _text(element, "DATAID")
    programs = tuple(p for p in (_text(element, "UN_LIST_TYPE"),) if p)
    return Record(source_id, kind, name, aliases, weak, country, programs)


def read(path: Path) -> Imported:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.parse(str(path), parser).getroot()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {exc}") from exc
    except etree.XMLSyntaxError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not valid XML: {exc.msg}") from exc
    if root.tag != "CONSOLIDATED_LIST":
        raise UsageError(f"{path}: not a UN consolidated list (its root is <{root.tag!s}>, "
                         "expected <CONSOLIDATED_LIST>)")
    records = [r for r in (
        *(_record(e, "actor", "INDIVIDUAL_ALIAS") for e in root.iterfind(
            "INDIVIDUALS/INDIVIDUAL")),
        *(_record(e, "organization", "ENTITY_ALIAS") for e in root.iterfind(
            "ENTITIES/ENTITY")),
    ) if r is not None]
    generated = root.get("dateGenerated")
    notes = (f"List generated {generated}.",) if generated else ()
    return Imported("UN Security Council consolidated list (XML)", (str(path),), records,
                    len(records), notes)
