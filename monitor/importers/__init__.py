"""`monitor watchlist import FORMAT PATH`: sanctions and other lists to a watchlist YAML.

Each format has a module with ``read(path) -> Imported``; ``common.to_yaml`` writes the
watchlist (header with source, date and counts; one entry a line).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from monitor.errors import UsageError
from monitor.importers import ftm, ofac, plaincsv, un
from monitor.importers.common import Imported, Record, to_entries, to_yaml

FORMATS: dict[str, Callable[[Path], Imported]] = {
    "ofac-csv": ofac.read, "un-xml": un.read, "ftm": ftm.read, "csv": plaincsv.read,
}

__all__ = ["FORMATS", "Imported", "Record", "import_list", "to_entries", "to_yaml"]


def import_list(fmt: str, path: str | Path) -> Imported:
    """Read a list in one of FORMATS; a missing file or a bad row is a UsageError."""
    reader = FORMATS.get(fmt)
    if reader is None:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    source = Path(path)
    if not source.is_file():
        raise UsageError(f"{path}: no such file")
    return reader(source)
