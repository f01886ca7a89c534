"""The storage boundary (issue 16): only monitor/store/ imports SQLAlchemy or Alembic, and
nothing outside it reaches into the store's ORM models or its engine plumbing.  Every
module's imports are read from its syntax tree, those inside functions included."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.support import ROOT

PACKAGE = ROOT / "monitor"
STORAGE_LIBRARIES = ("sqlalchemy", "alembic")
STORE_INTERNALS = ("monitor.store.models", "monitor.store.db")
# Modules outside monitor/store/ allowed to write SQL: none (never grow this list).
ALLOWED_SQL: frozenset[str] = frozenset()


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in the file, at any depth; ``from . import x``
    resolved against the file's package."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            yield node.lineno, base
            for alias in node.names:  # from monitor.store import models
                yield node.lineno, f"{base}.{alias.name}"


def within(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def outside_store() -> Iterator[tuple[str, Path]]:
    for path in modules():
        where = path.relative_to(ROOT).as_posix()
        if not where.startswith("monitor/store/"):
            yield where, path


def test_the_walk_sees_every_kind_of_import() -> None:
    sample = PACKAGE / "store" / "core.py"
    names = {name for _, name in imported(sample)}
    assert "sqlalchemy" in names and "monitor.store.models" in names
    nested = {name for _, name in imported(PACKAGE / "store" / "db.py")}
    assert "alembic" in nested  # imported inside upgrade(): function-level imports count


def test_only_the_store_imports_sqlalchemy_or_alembic() -> None:
    wrong = [f"{where}:{line}: imports {name}" for where, path in outside_store()
             if where not in ALLOWED_SQL
             for line, name in imported(path) if within(name, STORAGE_LIBRARIES)]
    assert not wrong, "SQL belongs in monitor/store/:\n" + "\n".join(wrong)


def test_the_allow_list_only_names_modules_that_still_need_it() -> None:
    still = {where for where, path in outside_store()
             if any(within(name, STORAGE_LIBRARIES) for _, name in imported(path))}
    stale = sorted(ALLOWED_SQL - still)
    assert not stale, f"no longer importing SQLAlchemy (or gone): remove {stale} from ALLOWED_SQL"


def test_nothing_outside_the_store_reaches_its_models_or_engine_plumbing() -> None:
    wrong = [f"{where}:{line}: imports {name}" for where, path in outside_store()
             if where not in ALLOWED_SQL
             for line, name in imported(path) if within(name, STORE_INTERNALS)]
    assert not wrong, ("use monitor.store's rows and methods (or store/queries.py):\n"
                       + "\n".join(wrong))
