"""The test suite's own layout (issue 16): conftest.py holds fixtures only, and what tests
share besides fixtures lives in tests/support/, imported from there."""

from __future__ import annotations

import ast

from tests.support import ROOT

TESTS = ROOT / "tests"


def _is_fixture(node: ast.FunctionDef) -> bool:
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Attribute) and target.attr == "fixture":
            return True
    return False


def test_conftest_defines_fixtures_only() -> None:
    tree = ast.parse((TESTS / "conftest.py").read_text(encoding="utf-8"))
    for node in tree.body:
        assert not isinstance(node, ast.ClassDef), f"conftest.py:{node.lineno}: a class"
        if isinstance(node, ast.FunctionDef):
            assert _is_fixture(node), f"conftest.py:{node.lineno}: {node.name} is no fixture"


def test_no_test_imports_conftest() -> None:
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert "conftest" not in (node.module or ""), f"{path.name}:{node.lineno}"
            elif isinstance(node, ast.Import):
                assert all("conftest" not in a.name for a in node.names), f"{path.name}"
