"""The README's first commands and its quick start work as written, offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from monitor.cli import main
from tests.support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.DOTALL)


def commands(block: str) -> list[str]:
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_the_first_lines_install_and_run_the_daemon_then_the_tests() -> None:
    """A fresh clone has no `monitor` yet: the line that runs it installs it first."""
    first = README.split("\n## ", 1)[0]
    assert commands(blocks(first)[0]) == [
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && "
        "monitor run", "pytest"]


def test_the_quick_start_runs_offline_as_written(tmp_path: Path) -> None:
    """The "Try it" block, run by bash in a copy of the repository's config, watchlists and
    seeds, ends with a real digest in ./outbox (an empty one would write nothing)."""
    bin_dir = Path(sys.executable).parent
    if shutil.which("monitor", path=str(bin_dir)) is None:
        pytest.skip("the monitor command is not installed next to this Python")
    try_it = README.split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    script = blocks(try_it)[0]
    assert "monitor poll" not in script  # offline: the network comes after
    for name in ("monitor.yaml", "watchlists", "seeds"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    sent = sorted(p.suffix for p in (tmp_path / "outbox").iterdir())
    assert sent == [".eml", ".json"]
    assert "Putin" in next((tmp_path / "outbox").glob("*.json")).read_text(encoding="utf-8")
    assert "new hits 0" not in result.stdout and "(0 hits" not in result.stdout


def test_backfilled_hits_reach_the_first_digest_even_across_its_schedule(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`backfill --notify` on a new database opens the digests' windows first, as a poll
    does: a digest sent after the schedule's time has passed still has its hits."""
    config = tmp_path / "monitor.yaml"
    config.write_text(f"database: sqlite:///{tmp_path / 'm.db'}\n"
                      f"watchlists: {ROOT / 'watchlists'}\n"
                      f"digests:\n  - name: daily\n    schedule: '0 7 * * *'\n"
                      f"    channels: [{{file: {{dir: {tmp_path / 'outbox'}}}}}]\n")
    with time_machine.travel(datetime(2026, 11, 25, 6, 59, 50, tzinfo=UTC), tick=False):
        assert main(["-c", str(config), "backfill", "--from", str(ROOT / "seeds"), "--notify",
                     "--workers", "1"]) == 0
    with time_machine.travel(datetime(2026, 11, 25, 7, 0, 10, tzinfo=UTC), tick=False):
        assert main(["-c", str(config), "digest", "send", "daily", "--now"]) == 0
    out = capsys.readouterr().out
    # the subject names the event's top entries and counts events (issue 17)
    assert "daily: monitor daily — " in out and ": 1 event (" in out
    assert "; 1 deliveries)" in out
