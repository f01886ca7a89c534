"""Story lookup cost per article at 1k, 100k and 1M stored fingerprints (SQLite).

    python bench/dedupe.py [--sizes 1000,100000,1000000]

Fills a store with synthetic fingerprints (random MinHash signatures and their 16 LSH band
keys, written straight into the tables), then times Store._find_story, the lookup the
pipeline runs for every new article, for 500 queries: half are near-copies of stored
articles (they share band keys and are confirmed on the signature), half are new.
Prints microseconds per lookup at each size and the ratio to the smallest (target: the
1M/1k ratio under 2, i.e. the cost stays flat because it is index lookups, not a scan).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.dedupe import PERMUTATIONS, Fingerprint, band_keys
from monitor.store import Store

NOW = datetime(2026, 11, 25, tzinfo=UTC).replace(tzinfo=None).isoformat(" ")


def fill(store: Store, start: int, stop: int, rng: np.random.Generator) -> list[np.ndarray]:
    kept: list[np.ndarray] = []
    with store.engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        if start == 0:
            cursor.execute("INSERT INTO stories (id, title, first_seen, article_count) "
                           "VALUES (1, 'x', ?, 1)", (NOW,))
        for lo in range(start, stop, 20_000):
            hi = min(stop, lo + 20_000)
            sigs = rng.integers(0, 2**32, size=(hi - lo, PERMUTATIONS), dtype=np.uint64)
            sigs = sigs.astype("<u4")
            cursor.executemany(
                "INSERT INTO articles (id, story_id, url, canonical_url, text_source, text, "
                "content_hash, signature, first_seen) VALUES (?, 1, ?, ?, 'page', '', ?, ?, ?)",
                ((lo + i + 1, f"u{lo + i}", f"u{lo + i}", f"h{lo + i}", sig.tobytes(), NOW)
                 for i, sig in enumerate(sigs)))
            cursor.executemany("INSERT INTO bands (key, article_id) VALUES (?, ?)",
                               ((key, lo + i + 1) for i, sig in enumerate(sigs)
                                for key in band_keys(sig)))
            kept.extend(sigs[:: max(1, len(sigs) // 50)])
    return kept


def queries(stored: list[np.ndarray], rng: np.random.Generator) -> list[Fingerprint]:
    out = []
    for i in range(500):
        if i % 2 == 0:  # a near-copy: 80% of the signature unchanged
            sig = stored[rng.integers(len(stored))].copy()
            change = rng.choice(PERMUTATIONS, size=PERMUTATIONS // 5, replace=False)
            sig[change] = rng.integers(0, 2**32, size=len(change))
        else:
            sig = rng.integers(0, 2**32, size=PERMUTATIONS, dtype=np.uint64).astype("<u4")
        out.append(Fingerprint(sig.tobytes(), band_keys(sig), f"q{i}"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,100000,1000000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/dedupe.db")
        stored: list[np.ndarray] = []
        have, results = 0, []
        for size in sizes:
            start = time.perf_counter()
            stored += fill(store, have, size, rng)
            have = size
            build = time.perf_counter() - start
            qs = queries(stored, rng)
            found = 0
            with store.engine.connect() as s:
                store._find_story(s, qs[0])  # warm
                start = time.perf_counter()
                for q in qs:
                    found += store._find_story(s, q) is not None
                per = (time.perf_counter() - start) / len(qs) * 1e6
            results.append((size, per))
            print(f"{size:>9,} fingerprints: {per:8.1f} us per lookup "
                  f"({found}/{len(qs)} joined a story; filled in {build:.1f} s)")
        base = results[0][1]
        for size, per in results[1:]:
            print(f"ratio {size:,}/{results[0][0]:,}: {per / base:.2f}")
        ratio = results[-1][1] / base
        print(f"target: largest/smallest under 2: {'MET' if ratio < 2 else 'MISSED'}")
        store.close()


if __name__ == "__main__":
    main()
