"""ruff and mypy --strict are part of the test command, so CI keeps the code clean."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.support import ROOT


@pytest.mark.parametrize("tool,args", [
    ("ruff", ["check", "monitor", "tests", "bench"]),
    ("mypy", []),
])
def test_tool_is_clean(tool: str, args: list[str]) -> None:
    if shutil.which(tool) is None and not (ROOT / ".venv" / "bin" / tool).exists():
        pytest.skip(f"{tool} is not installed (pip install -e '.[test]')")
    result = subprocess.run([sys.executable, "-m", tool, *args], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
