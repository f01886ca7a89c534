"""The delivery side's boundaries (issue 16): its modules leave SQL to monitor/store, and
ingestion knows nothing of delivery (scheduler.cycle composes ingest -> alerts -> deliver).
Direct imports are read from each module's source, so nothing is imported to check."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MONITOR = Path(__file__).resolve().parent.parent / "monitor"


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code (lazy imports count)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def delivery_modules() -> list[Path]:
    return [MONITOR / "deliver.py", MONITOR / "cli" / "digests.py",
            *sorted((MONITOR / "channels").glob("*.py"))]


@pytest.mark.parametrize("path", delivery_modules(), ids=lambda p: p.name)
def test_delivery_modules_import_no_sqlalchemy(path: Path) -> None:
    found = {n for n in imported(path) if n.split(".")[0] in ("sqlalchemy", "alembic")}
    assert not found, f"{path.name} imports {sorted(found)}: SQL belongs in monitor/store"


def ingestion_modules() -> list[Path]:
    return [MONITOR / "ingest.py", *sorted((MONITOR / "sources").rglob("*.py"))]


@pytest.mark.parametrize("path", ingestion_modules(), ids=lambda p: p.name)
def test_ingestion_does_not_deliver(path: Path) -> None:
    delivery = ("monitor.channels", "monitor.render", "monitor.deliver", "monitor.notify",
                "monitor.scheduler")
    found = {n for n in imported(path)
             if any(n == d or n.startswith(d + ".") for d in delivery)}
    assert not found, f"{path.name} imports {sorted(found)}: delivery is scheduler.cycle's"
