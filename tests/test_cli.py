"""The command line: stable interfaces for scripts, exit codes, no tracebacks."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from tests.support import ROOT


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


def test_mistakes_and_a_hostile_environment_get_one_line_never_a_traceback(
        tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each way a first week went wrong (issue 15, item 19): exit 2 for the user's
    mistake, 1 for the environment, a message naming what to fix, no traceback."""
    import socket

    def config(name: str, extra: str = "", database: str = db_url) -> str:
        path = tmp_path / name
        path.write_text(f"database: {database}\nwatchlists: {ROOT / 'watchlists'}\n"
                        f"feeds: []\n{extra}")
        return str(path)

    ok = config("ok.yaml")
    assert main(["-c", ok, "db", "upgrade"]) == 0
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("database: sqlite:///x.db\n# café\n".encode("latin-1"))
    (tmp_path / "notdb.db").write_text("not a database\n")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "digest.html").write_text("<p>\n{% if %}\n</p>\n")
    broken = config("broken.yaml", f"templates: {templates}\n")
    (tmp_path / "undefined").mkdir()
    (tmp_path / "undefined" / "digest.txt").write_text("{{ digest.subject }}\n\n"
                                                       "{{ digest.nothing }}\n")
    undefined = config("undefined.yaml", f"templates: {tmp_path / 'undefined'}\n")
    cases: list[tuple[list[str], int, str]] = [
        (["-c", str(latin), "status"], 2, f"{latin}:2: not UTF-8 (byte 0xe9)"),
        (["-c", config("port.yaml", "server: {port: 99999}\n"), "status"], 2,
         "port.yaml:4: entry 'server': field 'port': 99999 is not a port"),
        (["-c", config("notdb.yaml", database=f"sqlite:///{tmp_path / 'notdb.db'}"), "poll",
          "--once"], 1, "file is not a database"),
        (["-c", ok, "hits", "--since", "99999999d"], 2, "--since 99999999d"),
        (["-c", ok, "poll", "--once", "--feed", "99999999999999999999999"], 2, "no feed"),
        (["-c", ok, "feeds", "export", "-o", "/nonexistent/x"], 2,
         "/nonexistent/x: cannot be written"),
        (["-c", ok, "feeds", "export", "-o", str(tmp_path)], 2, "cannot be written"),
        (["-c", ok, "digest", "preview", "--html", "/nonexistent/x.html"], 2,
         "/nonexistent/x.html: cannot be written"),
        (["-c", broken, "digest", "preview"], 2, f"{templates / 'digest.html'}:2: "),
        (["-c", undefined, "digest", "preview", "--text"], 2,
         f"{tmp_path / 'undefined' / 'digest.txt'}:3: "),
        (["-c", ok, "health", "--url", "not a url"], 2, "'not a url': give the daemon's http(s)"),
    ]
    wrong = []
    for argv, code, message in cases:
        got = main(argv)
        out, err = capsys.readouterr()
        if got != code or message not in err or "Traceback" in out + err:
            wrong.append(f"{argv[2:]}: exit {got}, said {err!r}")
    # The daemon with its port taken: a real process, exit 1 before any work starts.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = config("busy.yaml", f"server: {{port: {taken.getsockname()[1]}}}\n")
        result = subprocess.run([sys.executable, "-m", "monitor", "-c", busy, "run"],
                                capture_output=True, text=True, timeout=120, check=False)
    if (result.returncode != 1 or "Address already in use" not in result.stderr
            or "Traceback" in result.stdout + result.stderr):
        wrong.append(f"run on a port in use: exit {result.returncode}, {result.stderr!r}")
    assert not wrong, "\n".join(wrong)


def test_an_unexpected_error_is_one_line_with_how_to_see_the_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import monitor.cli.core

    def broken(*_args: object) -> None:
        raise RuntimeError("something nobody foresaw")

    monkeypatch.setattr(monitor.cli.core, "feed_rows", broken)
    config = tmp_path / "m.yaml"
    config.write_text(f"database: sqlite:///{tmp_path}/m.db\n")
    main(["-c", str(config), "db", "upgrade"])
    capsys.readouterr()
    assert main(["-c", str(config), "feeds", "list"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: something nobody foresaw" in err
    assert "MONITOR_DEBUG=1" in err
    monkeypatch.setenv("MONITOR_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["-c", str(config), "feeds", "list"])
