"""Replicas on PostgreSQL: one cycle over 2,000 due feeds by 1 replica, then by 2; and the
idle daemon.

    python bench/replicas.py [--feeds 2000] [--latency 0.1] [--idle-feeds 500] [--idle 60]

The feed server runs in its own process and answers after ``--latency`` seconds (network
latency, no CPU), counting requests per feed.  After a warm-up cycle (every feed stored,
ETags known) every feed is made due again and polled by one replica, then by two replica
processes at once; prints each cycle's time, the ratio (target: 2 replicas >= 1.7x faster),
and duplicate polls (target: 0).  Then `monitor run` with 500 feeds, none due, is left idle
for ``--idle`` seconds: CPU share of one core and memory (targets: < 2 %, < 200 MB).

PostgreSQL: $MONITOR_BENCH_POSTGRES_URL (default: database monitor_bench at 127.0.0.1:5432,
created if missing; its tables are dropped first).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from poll import serve  # noqa: E402
from sqlalchemy import create_engine, text, update  # noqa: E402

from monitor.config import Config, FeedConfig, FetchConfig  # noqa: E402
from monitor.ingest import sync_feeds  # noqa: E402
from monitor.scheduler import Daemon  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.models import Feed  # noqa: E402
from monitor.watchlist import load_watchlists  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/monitor_bench"


def fresh_database(url: str) -> None:
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        if not c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                         ).scalar():
            c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def config_for(url: str, port: int, count: int) -> Config:
    fetch = FetchConfig(timeout=30, concurrency=16, per_host=16, allow_private_addresses=True)
    return Config(database=url, watchlists=str(ROOT / "watchlists"), fetch=fetch,
                  feeds=tuple(FeedConfig(f"http://127.0.0.1:{port}/{n}.rss", full_text=False)
                              for n in range(count)), digests=())


def make_due(url: str) -> None:
    store = Store(url)
    with store.engine.begin() as c:
        c.execute(update(Feed).values(next_poll=datetime.now(UTC), lease_owner=None,
                                      lease_until=None))
    store.close()


def replica(config: Config, go: Any, done: Any, name: str) -> None:
    store = Store(config.database)
    daemon = Daemon(config, store, load_watchlists(config.watchlists), owner=name)
    go.wait()
    summary = daemon.poll()
    done.put((name, summary.feeds_polled, time.perf_counter()))
    store.close()


def cycle(config: Config, replicas: int) -> tuple[float, list[int]]:
    """Wall time of one cycle by ``replicas`` processes started together."""
    ctx = multiprocessing.get_context("spawn")
    go, done = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=replica, args=(config, go, done, f"r{i}"))
             for i in range(replicas)]
    for p in procs:
        p.start()
    time.sleep(3)  # let them import and connect: not part of the cycle
    start = time.perf_counter()
    go.set()
    results = [done.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    return max(r[2] for r in results) - start, [r[1] for r in results]


def idle(feeds: int, seconds: float, port: int) -> tuple[float, float]:
    """CPU share of one core and peak RSS (MB) of `monitor run` with nothing due."""
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{folder}/idle.db"
        config = config_for(db, port, feeds)
        store = Store(db)
        sync_feeds(store, config.feeds, datetime.now(UTC))
        Daemon(config, store, load_watchlists(config.watchlists)).poll()  # all polled now
        store.close()
        lines = "".join(f"  - {{url: '{f.url}', full_text: false}}\n" for f in config.feeds)
        (Path(folder) / "monitor.yaml").write_text(
            f"database: {db}\nwatchlists: {ROOT / 'watchlists'}\nserver: false\n"
            f"fetch: {{allow_private_addresses: true}}\nfeeds:\n{lines}")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "monitor", "-c",
                                 f"{folder}/monitor.yaml", "run"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(15)  # start-up (imports, the first look at due feeds) is not idling
        before, t0 = _cpu(proc.pid), time.monotonic()
        time.sleep(seconds)
        share = (_cpu(proc.pid) - before) / (time.monotonic() - t0)
        rss = _rss(proc.pid)
        proc.terminate()
        proc.wait(60)
    return share, rss


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--idle-feeds", type=int, default=500)
    parser.add_argument("--idle", type=float, default=60)
    args = parser.parse_args()
    url = os.environ.get("MONITOR_BENCH_POSTGRES_URL", DEFAULT_URL)
    fresh_database(url)
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    counts = multiprocessing.Array("i", args.feeds, lock=False)
    round_value = multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=serve, args=(ports, round_value, args.latency,
                                                         counts), daemon=True)
    server.start()
    port = ports.get(timeout=10)
    config = config_for(url, port, args.feeds)
    store = Store(url)
    sync_feeds(store, config.feeds, datetime.now(UTC))
    store.close()
    warm, _ = cycle(config, 2)
    print(f"warm-up (every feed stored): {warm:.1f} s")
    make_due(url)
    one, polled_one = cycle(config, 1)
    make_due(url)
    before = list(counts)
    two, polled_two = cycle(config, 2)
    polls = [a - b for a, b in zip(counts, before, strict=True)]
    dupes = sum(1 for n in polls if n > 1)
    missed = sum(1 for n in polls if n == 0)
    print(f"1 replica:  {one:6.2f} s for {sum(polled_one)} feeds")
    print(f"2 replicas: {two:6.2f} s for {sum(polled_two)} feeds (split {polled_two})")
    print(f"speed-up 2 replicas / 1: {one / two:.2f}x (target >= 1.7: "
          f"{'MET' if one / two >= 1.7 else 'MISSED'}); duplicate polls {dupes}, "
          f"missed {missed} (target 0: {'MET' if dupes == missed == 0 else 'MISSED'})")
    share, rss = idle(args.idle_feeds, args.idle, port)
    print(f"idle daemon, {args.idle_feeds} feeds: {share * 100:.2f} % of a core, "
          f"{rss:.0f} MB peak (targets < 2 %: {'MET' if share < 0.02 else 'MISSED'}; "
          f"< 200 MB: {'MET' if rss < 200 else 'MISSED'})")
    server.terminate()


if __name__ == "__main__":
    main()
