"""kill -9 at several points of a poll, then a restart: nothing lost, nothing duplicated,
nothing half-written (SQLite and PostgreSQL, real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from monitor.models import Hit, Story
from monitor.store import Store
from tests.conftest import ROOT, Reply, Server, article_html, assert_consistent
from tests.test_pipeline import OTHER, PARAGRAPHS, feed_of

FEEDS, ITEMS = 8, 4


def _serve(server: Server) -> None:
    for f in range(FEEDS):
        items = []
        for i in range(ITEMS):
            path = f"/p{f}-{i}"
            body = PARAGRAPHS if (f + i) % 2 else OTHER
            server.routes[path] = Reply(200, article_html(f"Report {f}-{i}", [
                f"Dispatch {f}-{i}: " + " ".join(body)]), {"Content-Type": "text/html"},
                delay=0.05)
            items.append((f"Report {f}-{i}", path))
        feed_of(server, f"/f{f}", items)


def _config(tmp_path: Path, server: Server, db_url: str) -> Path:
    path = tmp_path / "monitor.yaml"
    feeds = "".join(f"  - {server.url(f'/f{f}')}\n" for f in range(FEEDS))
    path.write_text(f"database: {db_url}\nwatchlists: {ROOT / 'watchlists'}\n"
                    f"fetch: {{allow_private_addresses: true, concurrency: 4}}\n"
                    f"server: false\ndigests: []\nfeeds:\n{feeds}")
    return path


def _monitor(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "monitor", "-c", str(config), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)


def pages_fetched(server: Server) -> int:
    return sum(1 for r in server.requests if r.path.startswith("/p"))


def test_kill_9_then_restart_loses_and_duplicates_nothing(
        server: Server, db_url: str, tmp_path: Path) -> None:
    _serve(server)
    config = _config(tmp_path, server, db_url)
    for kill_after in (3, 9, 17):  # pages requested before the kill, further each time
        process = _monitor(config, "run")
        deadline = time.monotonic() + 60
        while pages_fetched(server) < kill_after:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    restart = _monitor(config, "run", "--once")
    out, _ = restart.communicate(timeout=120)
    assert restart.returncode == 0, out
    assert "released" in out  # the dead process's feeds, not waiting for the lease
    store = Store(db_url)
    try:
        counts = assert_consistent(store)
        assert (counts.articles, counts.items) == (FEEDS * ITEMS, FEEDS * ITEMS)
        with store.engine.connect() as c:
            hitless = select(func.count()).select_from(Story).where(
                ~select(Hit.id).where(Hit.story_id == Story.id).exists())
            assert c.execute(hitless).scalar_one() == 0  # each story's hits came with it
    finally:
        store.close()
