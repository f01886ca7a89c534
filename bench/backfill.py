"""Backfill speed: importing saved pages with 1 and 2 workers, next to extraction alone, and
re-matching the stored articles.

    python bench/backfill.py [--copies 22]

Writes the real pages of ../shared/corpus/pages --copies times into a temporary folder, each
copy with its own canonical URL (91 pages x 22 = 2,002 articles), then measures, in one run:

* `trafilatura.extract` alone over the same pages, one core (the baseline), before and
  after the imports (their mean is the baseline: the machine's speed drifts);
* `backfill --from` into an empty SQLite store with 1 worker, then with 2 workers;
* re-matching the stored articles with the seed watchlists (no re-extraction), 1 and 2
  workers;
* peak memory of this process and of the largest worker.

Targets: 1 worker >= 0.85 of extraction alone; 2 workers >= 1.6x 1 worker; re-matching
>= 500 articles/s; peak memory < 500 MB.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "pages"
sys.path.insert(0, str(ROOT))

from monitor.backfill import Options, import_files, rematch_stored  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.watchlist import load_watchlists  # noqa: E402

_CANONICAL = re.compile(rb"rel\s*=\s*([\"']?)canonical\1", re.IGNORECASE)
_HEAD = re.compile(rb"<head[^>]*>", re.IGNORECASE)


def write_pages(folder: Path, copies: int) -> int:
    written = 0
    for copy in range(copies):
        (folder / f"copy{copy:03d}").mkdir()
        for path in sorted(CORPUS.glob("*.html")):
            body = _CANONICAL.sub(b'rel="was-canonical"', path.read_bytes())
            link = f'<link rel="canonical" href="https://bench.example/{copy}/{path.stem}">'
            head = _HEAD.search(body)
            at = head.end() if head else 0
            body = body[:at] + link.encode() + body[at:]
            (folder / f"copy{copy:03d}" / path.name).write_bytes(body)
            written += 1
    return written


def extraction_alone(folder: Path) -> float:
    """trafilatura.extract over every page, in a process of its own (so that its memory does
    not count as backfill's)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return float(pool.apply(_extract_all, (str(folder),)))


def _extract_all(folder: str) -> float:
    import trafilatura

    bodies = [p.read_bytes() for p in sorted(Path(folder).rglob("*.html"))]
    trafilatura.extract(bodies[0])  # imports warm
    start = time.perf_counter()
    for body in bodies:
        trafilatura.extract(body)
    return time.perf_counter() - start


class PeakMemory:
    """The largest peak RSS (VmHWM) of any process below this one: the pool's workers are
    the forkserver's children, which getrusage(RUSAGE_CHILDREN) never sees."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        me = os.getpid()
        while not self.done.wait(0.2):
            parents: dict[int, int] = {}
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents[int(stat.parent.name)] = int(fields[1])
            for pid in parents:
                ancestor = parents.get(pid)
                while ancestor and ancestor != me:
                    ancestor = parents.get(ancestor)
                if ancestor == me:
                    self.peak_kb = max(self.peak_kb, _hwm(pid))

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return self.peak_kb / 1024


def _hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def now() -> datetime:
    return datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=22)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"skipped: the corpus is not at {CORPUS} (see ../shared/corpus/README.md)")
        return
    watchlists = load_watchlists(ROOT / "watchlists")
    print(f"cores: {len(os.sched_getaffinity(0))}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pages"
        folder.mkdir()
        n = write_pages(folder, args.copies)
        before = extraction_alone(folder)
        workers_memory = PeakMemory()  # from here on: the backfill's processes only
        print(f"trafilatura.extract alone:  {n / before:7.1f} articles/s ({before:.1f} s, "
              f"{n} pages)")
        rates: dict[int, float] = {}
        for workers in (1, 2):
            store = Store(f"sqlite:///{tmp}/import{workers}.db")
            start = time.perf_counter()
            report = import_files(store, watchlists, Options(source=folder, workers=workers),
                                  now)
            elapsed = time.perf_counter() - start
            rates[workers] = report.new_articles / elapsed
            print(f"import, {workers} worker{'s' if workers > 1 else ' '}:       "
                  f"{rates[workers]:7.1f} articles/s ({elapsed:.1f} s; {report.line()})")
            store.close()
        peak_workers = workers_memory.stop()
        # Measured again after the imports: the machine's speed drifts over minutes, so the
        # imports are compared with the mean of the measurements on either side of them.
        after = extraction_alone(folder)
        base = (before + after) / 2
        print(f"trafilatura.extract alone:  {n / after:7.1f} articles/s ({after:.1f} s, "
              f"again; mean {n / base:.1f} articles/s)")
        store = Store(f"sqlite:///{tmp}/import2.db")
        for workers in (1, 2):
            start = time.perf_counter()
            report = rematch_stored(store, watchlists, Options(workers=workers), now)
            elapsed = time.perf_counter() - start
            rate = report.read / elapsed
            print(f"re-match, {workers} worker{'s' if workers > 1 else ' '}:     {rate:7.1f} "
                  f"articles/s ({elapsed:.1f} s; {report.read} articles, "
                  f"{report.new_hits} new hits)")
        store.close()
    one, two = rates[1] / (n / base), rates[2] / rates[1]
    main_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_peak = peak_workers
    print(f"1 worker / extraction alone: {one:.2f} (target >= 0.85 "
          f"{'MET' if one >= 0.85 else 'MISSED'})")
    print(f"2 workers / 1 worker:        {two:.2f} (target >= 1.6 "
          f"{'MET' if two >= 1.6 else 'MISSED'})")
    print(f"re-match target >= 500 articles/s: {'MET' if rate >= 500 else 'MISSED'} "
          f"(2 workers)")
    print(f"peak memory: this process {main_peak:.0f} MB, largest worker {worker_peak:.0f} MB "
          f"(target < 500 MB {'MET' if max(main_peak, worker_peak) < 500 else 'MISSED'})")


if __name__ == "__main__":
    main()
