"""Commands that only look (status, hits, articles, feeds list/export, digests list, digest
preview) never create, migrate or write a database, and work on one they cannot write."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from monitor.cli import main
from monitor.store import Store
from monitor.store.db import StoreError, make_engine, upgrade
from tests.support import ROOT, Server, postgres_or_skip
from tests.test_container import READ_ONLY
from tests.test_pipeline import one_article_feed

READERS = [["status"], ["hits"], ["articles"], ["feeds", "list"], ["feeds", "export"],
           ["digests", "list"], ["digest", "preview"]]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def files(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_without_a_database_readers_say_so_and_create_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no monitor.yaml here: the defaults, ./data/monitor.db
    for argv in READERS:
        code, _, err = run(capsys, *argv)
        assert code == 1, argv
        assert f"no database at {tmp_path}/data/monitor.db" in err, argv
    nowhere = tmp_path / "nonexistent" / "dir" / "x.db"
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{nowhere}")
    code, _, err = run(capsys, "status")
    assert code == 1 and f"no database at {nowhere}" in err
    assert list(tmp_path.iterdir()) == []  # no ./data, no folders on the way


def test_an_old_schema_is_left_as_it_is(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    upgrade(engine, "0004")
    engine.dispose()
    config = tmp_path / "m.yaml"
    config.write_text(f"database: {url}\nwatchlists: {ROOT / 'watchlists'}\n")
    for argv in READERS:
        code, _, err = run(capsys, "-c", str(config), *argv)
        assert code == 1 and "at schema revision 0004" in err, argv
        assert "run `monitor db upgrade`" in err
    with create_engine(url).connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
    assert run(capsys, "-c", str(config), "db", "upgrade")[0] == 0
    assert run(capsys, "-c", str(config), "status")[0] == 0


def test_postgresql_readers_neither_create_the_schema_nor_write() -> None:
    url = postgres_or_skip()  # an empty schema
    with pytest.raises(StoreError, match="has no schema: run `monitor db upgrade`"):
        Store(url, readonly=True)
    engine = create_engine(url)
    assert "alembic_version" not in inspect(engine).get_table_names()
    engine.dispose()
    Store(url).close()
    reader = Store(url, readonly=True)
    with pytest.raises(Exception, match="read-only transaction"), reader.engine.begin() as c:
        c.execute(text("DELETE FROM feeds"))
    assert reader.counts().feeds == 0
    reader.close()


def sqlite_with_an_article(tmp_path: Path, server: Server,
                           capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    one_article_feed(server)
    data = tmp_path / "data"
    config = tmp_path / "monitor.yaml"
    config.write_text(f"database: sqlite:///data/monitor.db\n"
                      f"watchlists: {ROOT / 'watchlists'}\n"
                      f"fetch: {{timeout: 2s, allow_private_addresses: true}}\n"
                      f"feeds: [\"{server.url('/feed')}\"]\n")
    code, out, _ = run(capsys, "-c", str(config), "poll", "--once")
    assert code == 0 and "articles new 1" in out
    return data, str(config)


def test_readers_touch_no_file_of_a_database_at_rest(tmp_path: Path, server: Server,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    data, config = sqlite_with_an_article(tmp_path, server, capsys)
    before = files(data)
    assert list(before) == ["monitor.db"]  # the writer closed: no -wal, no -shm
    for argv in READERS:
        code, out, _ = run(capsys, "-c", config, *argv)
        assert code == 0, argv
    assert files(data) == before  # same size and mtime, nothing beside it
    code, out, _ = run(capsys, "-c", config, "hits", "--json")
    assert {json.loads(line)["entry"] for line in out.splitlines()} >= {"putin"}


def test_readers_see_what_a_running_writer_has_not_checkpointed(
        tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    data, config = sqlite_with_an_article(tmp_path, server, capsys)
    writer = Store(f"sqlite:///{data / 'monitor.db'}")
    with writer.engine.connect():  # the daemon: its connection keeps the WAL open
        from monitor.ingest import utc_now

        writer.add_feed("https://late.example/rss", utc_now())
        assert (data / "monitor.db-wal").exists()
        code, out, _ = run(capsys, "-c", config, "feeds", "list", "--json")
        assert code == 0
        assert "https://late.example/rss" in {json.loads(line)["url"]
                                              for line in out.splitlines()}
    writer.close()


def test_status_and_hits_work_in_a_read_only_data_folder(tmp_path: Path, server: Server,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    """As root, permissions do not hold: a read-only bind mount of the folder (a mount
    namespace, as tests/test_container.py does) makes it read-only for real."""
    as_root = os.geteuid() == 0
    if as_root and (shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-m", "true"], capture_output=True, check=False).returncode != 0):
        pytest.skip("needs unshare -m to make a folder read-only for root")
    data, config = sqlite_with_an_article(tmp_path, server, capsys)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for words in (["status"], ["hits", "--json"], ["digest", "preview"]):
        command = [sys.executable, "-m", "monitor", "-c", config, *words]
        if as_root:
            command = ["unshare", "-m", "--propagation", "private", "sh", "-c", READ_ONLY,
                       "sh", str(data), "--", *command]
        else:
            data.chmod(0o555)
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                    env=env, check=False)
        finally:
            data.chmod(0o755)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        if words[0] == "hits":
            assert '"entry": "putin"' in result.stdout
    assert sorted(p.name for p in data.iterdir()) == ["monitor.db"]
    if as_root:  # the namespace held
        probe = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                                READ_ONLY, "sh", str(data), "--", "touch", str(data / "x")],
                               capture_output=True, text=True, check=False)
        assert probe.returncode != 0 and "Read-only" in probe.stderr
