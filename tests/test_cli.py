"""The command line: stable interfaces for scripts, exit codes, no tracebacks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from tests.conftest import ROOT


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_match_json_lines(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("Putin met Kim Jong-un in the U.S.", encoding="utf-8")
    code, out, _ = run(["match", "--watchlist", str(ROOT / "watchlists"), "--json", str(f)],
                       capsys)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["entry"] for r in rows] == ["putin", "kim-jong-un", "united-states"]
    assert set(rows[0]) >= {"source", "watchlist", "entry", "kind", "name", "text", "start",
                            "end", "score"}
    assert rows[2] == {**rows[2], "source": str(f), "text": "U.S.", "start": 29, "end": 33,
                       "score": 100.0, "kind": "country", "name": "United States",
                       "watchlist": "russia-asia-diplomacy"}


def test_match_stdin_and_table(capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Sanctions on Russia"))
    code, out, _ = run(["match", "-w", str(ROOT / "watchlists")], capsys)
    assert code == 0
    assert out.splitlines()[0].split() == ["SOURCE", "ENTRY", "KIND", "TEXT", "OFFSETS", "SCORE"]
    assert "russia-asia-diplomacy/sanctions" in out and "-  " in out


def test_match_seed_lists_the_story(capsys: pytest.CaptureFixture[str]) -> None:
    seeds = [str(p) for p in (ROOT / "seeds").glob("*.txt")]
    code, out, _ = run(["match", "--watchlist", str(ROOT / "watchlists"), "--json", *seeds],
                       capsys)
    entries = {json.loads(line)["entry"] for line in out.splitlines()}
    assert code == 0
    assert {"putin", "north-korea", "vietnam", "comprehensive-strategic-partnership-treaty",
            "sanctions", "self-reliance", "international-aid"} <= entries


def test_bad_watchlist_exits_2_with_the_checker_message(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("watchlist: t\nentries:\n  - {id: a, kind: bogus, name: A}\n")
    code, _, err = run(["match", "--watchlist", str(bad)], capsys)
    assert code == 2
    assert f"{bad}:3: entry 'a': field 'kind'" in err
    assert "Traceback" not in err


def test_missing_input_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["match", "-w", str(ROOT / "watchlists"), "/nonexistent.txt"], capsys)
    assert code == 2 and "/nonexistent.txt: cannot be read" in err


def test_non_utf8_input_is_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "latin.txt"
    f.write_bytes("Putin à Hanoï".encode("cp1252"))
    code, out, err = run(["match", "-w", str(ROOT / "watchlists"), "--json", str(f)], capsys)
    assert code == 0 and "not UTF-8" in err
    assert [json.loads(line)["entry"] for line in out.splitlines()] == ["putin", "hanoi"]


def test_watchlist_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(["watchlist", "check", str(ROOT / "watchlists")], capsys)
    assert code == 0 and "ok (1 watchlist" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("watchlist: t\nentries:\n  - {id: a, kind: actor, name: A, country: ZZ}\n")
    code, _, err = run(["watchlist", "check", str(bad)], capsys)
    assert code == 2 and "bad.yaml:3: entry 'a': field 'country'" in err


def test_watchlist_derive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seeds = [str(p) for p in (ROOT / "seeds").glob("*.txt")]
    out_file = tmp_path / "derived.yaml"
    code, _, _ = run(["watchlist", "derive", "--name", "seed", "-o", str(out_file), *seeds],
                     capsys)
    assert code == 0
    code, _, _ = run(["watchlist", "check", str(out_file)], capsys)
    assert code == 0


def test_python_dash_m_and_console_script_help() -> None:
    result = subprocess.run([sys.executable, "-m", "monitor", "--help"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and "match" in result.stdout
    result = subprocess.run([sys.executable, "-m", "monitor", "nonsense"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
