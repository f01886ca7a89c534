"""`monitor trends` over a year of daily counts for 500 entries: how long the command takes.

    python bench/trends_cli.py [--entries 500] [--days 365] [--articles 1000000]
                               [--postgres URL] [--repeat 3]

Fills trend_days (the table the command reads, and the only one) of a fresh database with
``entries`` x ``days`` rows whose article counts add up to ``articles`` (Poisson around each
entry's own level, log-uniform, so a few entries carry most of them: the 1M articles of the
issue's target), events about two thirds of articles.  Then it times, best of ``repeat``:

* the command as a user runs it, a new process each time (`python -m monitor trends`, and
  with --json), imports and the schema check included;
* the command's own work in this process (trendreport.trends: two queries and the scoring).

Target: the command answers in at most 1 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.config.trends import TrendsConfig  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.trends import TrendDay  # noqa: E402
from monitor.trendreport import trends  # noqa: E402


def fill(store: Store, entries: int, days: int, articles: int, now: datetime) -> int:
    """The aggregate of ``articles`` articles; returns the rows written."""
    rng = np.random.default_rng(20)
    levels = np.exp(rng.uniform(np.log(0.3), np.log(50), entries))
    levels *= articles / (levels.sum() * days)
    counts = rng.poisson(np.repeat(levels[:, None], days, axis=1))
    events = rng.binomial(counts, 0.66)
    last = now.date()
    rows = []
    for e in range(entries):
        for d in range(days):
            if counts[e, d]:
                rows.append({"watchlist": f"list{e % 5}", "entry": f"entry{e}",
                             "day": last - timedelta(days=days - 1 - d), "kind": "person",
                             "name": f"Person Number {e}", "events": int(max(events[e, d], 1)),
                             "articles": int(counts[e, d]), "live_at": None})
    with store.engine.begin() as c:
        for i in range(0, len(rows), 10000):
            c.execute(TrendDay.__table__.insert(), rows[i:i + 10000])
    print(f"trend_days: {len(rows)} rows, {int(counts.sum())} articles, "
          f"{entries} entries x {days} days")
    return len(rows)


def best(repeat: int, run: object) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def best_process(repeat: int, command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """The best wall time and the best CPU time of ``repeat`` runs of a command: on a
    shared, loaded machine the wall time includes waiting for a core, the CPU time not."""
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, started = children_cpu(), time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        walls.append(time.perf_counter() - started)
        cpus.append(children_cpu() - cpu)
    return min(walls), min(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to use "
                        "(its public schema is dropped) instead of SQLite")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{tmp}/trends.db"
        if args.postgres:
            from sqlalchemy import create_engine, text

            engine = create_engine(url)
            with engine.begin() as c:
                c.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
        store = Store(url)
        fill(store, args.entries, args.days, args.articles, now)
        config = Path(tmp) / "monitor.yaml"
        config.write_text(f"database: {url}\nwatchlists: .\n")
        inside = best(args.repeat, lambda: trends(store, TrendsConfig(), now, 30))
        found = trends(store, TrendsConfig(), now, 30)
        store.close()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        results = {}
        for label, extra in (("text", []), ("json", ["--json"])):
            command = [sys.executable, "-m", "monitor", "-c", str(config), "trends", *extra]
            results[label] = best_process(args.repeat, command, env)
        startup = best_process(args.repeat, [sys.executable, "-m", "monitor", "--version"],
                               env)
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; "
          f"{len(found)} entries shown, {sum(t.today.spike for t in found)} spiking today; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"in process (queries + scoring, 30 days): {inside * 1000:.0f} ms")
    for label, name in (("text", "`monitor trends`"), ("json", "`monitor trends --json`")):
        wall, cpu = results[label]
        print(f"{name + ' (new process)':<40} wall {wall * 1000:5.0f} ms, CPU {cpu * 1000:5.0f} ms")
    print(f"{'`monitor --version` (for scale)':<40} wall {startup[0] * 1000:5.0f} ms, "
          f"CPU {startup[1] * 1000:5.0f} ms")
    worst = max(wall for wall, _ in results.values())
    worst_cpu = max(cpu for _, cpu in results.values())
    print(f"target <= 1000 ms: wall {'met' if worst <= 1.0 else 'NOT met'} "
          f"({worst * 1000:.0f} ms), CPU {'met' if worst_cpu <= 1.0 else 'NOT met'} "
          f"({worst_cpu * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
