"""The configuration package has no import cycle and nothing in it runs back up.

Read from the source (every import, also those inside functions and under TYPE_CHECKING),
and checked for real by importing each module first in a fresh interpreter, where an order
that only works when something else was imported before shows up as an ImportError.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "monitor"
CONFIG = "monitor.config"


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(ROOT.rglob("*.py")) if "migrations" not in p.parts}


def _imports(path: Path) -> set[str]:
    """The monitor modules ``path`` imports; ``from pkg import name`` counts as importing
    pkg.name when that is a module, else pkg."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return {m for m in found if m in MODULES}


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _reaches(start: str, goal: str) -> bool:
    seen, todo = set(), list(GRAPH[start])
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            todo += GRAPH[name]
    return False


CONFIG_MODULES = sorted(m for m in MODULES if m == CONFIG or m.startswith(f"{CONFIG}."))


def test_the_config_package_is_there_and_the_old_modules_are_gone() -> None:
    assert {f"{CONFIG}.{m}" for m in ("reader", "model", "load", "env", "web", "delivery")} <= {
        *CONFIG_MODULES}
    assert not {"monitor.config_delivery", "monitor.config_env", "monitor.config_web"} & {
        *MODULES}


@pytest.mark.parametrize("module", CONFIG_MODULES)
def test_no_config_module_is_on_an_import_cycle(module: str) -> None:
    """Through any module, the package's lazy __init__ included (it imports on demand)."""
    assert not _reaches(module, module), f"{module} imports itself back"


def test_the_reader_imports_nothing_of_monitor_but_errors() -> None:
    assert GRAPH[f"{CONFIG}.reader"] == {"monitor.errors"}


def test_delivery_reads_through_the_reader_not_the_package_that_loads_it() -> None:
    inside = {m for m in GRAPH[f"{CONFIG}.delivery"] if m.startswith(CONFIG)}
    assert inside <= {f"{CONFIG}.reader", f"{CONFIG}.model"}, inside


def test_watchlists_validate_through_the_reader() -> None:
    assert f"{CONFIG}.reader" in GRAPH["monitor.watchlist"]
    assert not _reaches("monitor.watchlist", f"{CONFIG}.load")


@pytest.mark.parametrize("module", [*CONFIG_MODULES, "monitor.watchlist"])
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_public_names_are_there_and_typed() -> None:
    import monitor.config as config

    for name in config.__all__:
        assert getattr(config, name) is not None
    with pytest.raises(AttributeError):
        _ = config.no_such_name
