"""kill -9 at several points of a poll, and twenty times at random points of polls, backfills
and digest sends, then a restart: nothing lost, nothing duplicated, nothing half-written,
no hit in two digests (SQLite and PostgreSQL, real processes)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor import deliver as outbox
from monitor.config import load_config
from monitor.ingest import utc_now
from monitor.store import Store
from monitor.store.models import Delivery, DigestHit, DigestRun, Hit, Story
from tests.support import ROOT, Receiver, Reply, Server, article_html, assert_consistent
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


FILES = 24


def _archive(folder: Path) -> None:
    folder.mkdir()
    for n in range(FILES):
        (folder / f"saved-{n:02d}.txt").write_text(
            f"Saved report {n}\nArchive note {n}: " + " ".join(OTHER if n % 2 else PARAGRAPHS))


def test_kill_9_twenty_times_across_poll_backfill_and_digest(
        server: Server, receiver: Receiver, db_url: str, tmp_path: Path) -> None:
    _serve(server)
    archive = tmp_path / "archive"
    _archive(archive)
    receiver.delay = 0.3  # so that some kills land while a digest is in flight
    config = _config(tmp_path, server, db_url)
    text = config.read_text().replace("digests: []\n", f"""\
digests:
  - name: daily
    schedule: "0 7 * * *"
    channels:
      - webhook: {{url: "{receiver.url()}", allow_private_addresses: true}}
""")
    config.write_text(text)
    commands = [("run",), ("backfill", "--from", str(archive), "--workers", "1", "--notify"),
                ("digest", "send", "daily", "--now")]
    rng = random.Random(20261125)
    for _ in range(20):  # a random point of a random command, twenty times in a row
        process = _monitor(config, *commands[rng.randrange(3)])
        time.sleep(rng.uniform(0.5, 3.0))  # imports take about a second: some die there
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    for command in (("run", "--once"), commands[1], commands[2]):
        restart = _monitor(config, *command)
        out, _ = restart.communicate(timeout=180)
        assert restart.returncode == 0, out
    store = Store(db_url)
    try:
        # A delivery claimed by a process killed while sending is leased for LEASE: the
        # daemon's next delivery pass after that sends it again (the same key).
        outbox.deliver(store, load_config(str(config), env={}),
                       utc_now() + outbox.LEASE + timedelta(seconds=1))
        counts = assert_consistent(store)
        assert counts.items == FEEDS * ITEMS
        assert counts.articles == FEEDS * ITEMS + FILES
        with store.engine.connect() as c:
            in_runs = c.execute(select(DigestHit.hit_id, func.count()).group_by(
                DigestHit.name, DigestHit.hit_id).having(func.count() > 1)).all()
            assert in_runs == []  # no hit in two digests
            pending = c.execute(select(func.count()).select_from(Delivery).where(
                Delivery.status != "sent")).scalar_one()
            assert pending == 0  # every digest made was delivered in the end
            sent = c.execute(select(func.count(func.distinct(Delivery.run_id)))).scalar_one()
            made = c.execute(select(func.count()).select_from(DigestRun)).scalar_one()
    finally:
        store.close()
    # What the receiver got: a resend repeats a digest under its own key, never mixes two.
    by_key: dict[str, set[int]] = {}
    for got in receiver.received:
        body = json.loads(got.body)
        hits = {h for w in body["watchlists"] for e in w["entries"] for s in e["stories"]
                for h in s["hit_ids"]}
        assert by_key.setdefault(got.headers["idempotency-key"], hits) == hits
    assert len(by_key) == sent and made >= sent  # (a window with nothing new sends nothing)
    every = [h for hits in by_key.values() for h in hits]
    assert len(every) == len(set(every))


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Not ended, or ended and not yet reaped (a zombie has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_kill_9_of_a_backfill_leaves_no_worker_behind(
        server: Server, db_url: str, tmp_path: Path) -> None:
    """Pool workers wait for tasks on a pipe they hold both ends of: without a watch on the
    process that started them they outlived its kill -9, with their memory, forever."""
    archive = tmp_path / "archive"
    _archive(archive)
    config = _config(tmp_path, server, db_url)
    process = _monitor(config, "backfill", "--from", str(archive), "--workers", "2")
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
        # The forkserver is a child of the command; the workers are the forkserver's.
        workers = [w for child in _children(process.pid) for w in _children(child)]
        time.sleep(0.05)
    assert len(workers) == 2, "the pool's workers never started"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)  # every holder of its output pipe has gone
    deadline = time.monotonic() + 10
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(w) for w in workers)
