"""Events: the dev check on real same-event pairs, and assignment time per article.

    python bench/events.py [--dev] [--sizes 10000,100000] [--queries 300]

--dev (issue 17's check): every text of ../shared/corpus/events/semeval2022-task8-train-
sample.csv is imported with `monitor backfill --from` (JSON lines {url, title, text,
published}, all the same day, no titles: the set has none) into a fresh SQLite store; then,
for every pair (deduplicated by pair_id) rated Overall <= 1.5 (same event) or >= 3
(different), a pair is predicted "same" when both texts are in one event.  Prints pairwise
precision and recall by language pair, and how many same-event pairs are one story (copies).
Skipped, with a message, when the corpus is absent.  Nothing from it is written outside a
temporary folder.

--sizes: a store filled with N stories (profiles of synthetic texts drawn from wordfreq's
list, 1,000 stories a day, written straight into the tables), then store.events.assign timed
for --queries new stories (the profile, the candidate lookup through event_terms, the
comparisons and the writes).  Prints ms per article at each size and the ratio to the
smallest (target: under 2, and <= 5 ms).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor import events as core
from monitor.store import Store
from monitor.store.events import EventSettings, assign, resolve

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "events"
SAMPLE = CORPUS / "semeval2022-task8-train-sample.csv"
DAY = "2020-06-01T12:00:00Z"


# --- the dev check -------------------------------------------------------------------------


def dev(work: Path) -> None:
    if not SAMPLE.is_file():
        print(f"dev check skipped: {SAMPLE} is absent")
        return
    csv.field_size_limit(10**9)
    with SAMPLE.open(encoding="utf-8") as f:
        rows = list({r["pair_id"]: r for r in csv.DictReader(f)}.values())
    texts: dict[str, str] = {}
    pairs = []
    for r in rows:
        a, b = r["pair_id"].split("_")
        ua, ub = f"https://semeval.example/{r['lang1']}/{a}", \
            f"https://semeval.example/{r['lang2']}/{b}"
        texts.setdefault(ua, r["text1"])
        texts.setdefault(ub, r["text2"])
        overall = float(r["Overall"])
        if overall <= 1.5 or overall >= 3:
            pairs.append((f"{r['lang1']}-{r['lang2']}", ua, ub, overall <= 1.5))
    source = work / "semeval.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for url, text in texts.items():
            out.write(json.dumps({"url": url, "title": "", "text": text, "published": DAY})
                      + "\n")
    config = work / "monitor.yaml"
    (work / "watchlists").mkdir(exist_ok=True)
    (work / "watchlists" / "none.yaml").write_text(
        "watchlist: none\nentries:\n  - {id: nobody, kind: actor, name: Zzyzx Qwertyuiop}\n")
    config.write_text(f"database: sqlite:///{work / 'dev.db'}\nwatchlists: watchlists\n")
    from monitor.cli import main

    started = time.perf_counter()
    code = main(["--config", str(config), "backfill", "--from", str(source), "--workers", "1"])
    print(f"imported {len(texts)} texts in {time.perf_counter() - started:.0f} s (exit {code})")
    store = Store(f"sqlite:///{work / 'dev.db'}")
    try:
        with store.engine.connect() as c:
            found = {url: (story, event) for url, story, event in c.exec_driver_sql(
                "SELECT a.canonical_url, a.story_id, s.event_id FROM articles a "
                "JOIN stories s ON s.id = a.story_id")}
            roots = resolve(c, [e for _, e in found.values() if e is not None])
    finally:
        store.close()
    report(pairs, {u: (s, roots.get(e, -s) if e else -s) for u, (s, e) in found.items()})


def report(pairs: list[tuple[str, str, str, bool]],
           found: dict[str, tuple[int, int]]) -> None:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for langs, a, b, same in pairs:
        if a not in found or b not in found:
            counts[langs]["missing"] += 1
            continue
        joined = found[a][1] == found[b][1]
        counts[langs][("tp" if joined else "fn") if same else ("fp" if joined else "tn")] += 1
        if same and found[a][0] == found[b][0]:
            counts[langs]["one story"] += 1
    print(f"{'pair':8} {'same':>5} {'diff':>5} {'precision':>9} {'recall':>7} {'1 story':>8}")
    for langs in sorted(counts, key=lambda k: (k.split("-")[0] != k.split("-")[1], k)):
        n = counts[langs]
        precision = n["tp"] / (n["tp"] + n["fp"]) if n["tp"] + n["fp"] else float("nan")
        recall = n["tp"] / (n["tp"] + n["fn"]) if n["tp"] + n["fn"] else float("nan")
        print(f"{langs:8} {n['tp'] + n['fn']:>5} {n['fp'] + n['tn']:>5} {precision:>9.2f} "
              f"{recall:>7.2f} {n['one story']:>8}" + (f"  ({n['missing']} not stored)"
                                                        if n["missing"] else ""))


# --- assignment time -----------------------------------------------------------------------


def synthetic(rng: random.Random, vocabulary: list[str]) -> tuple[str, str]:
    """A headline and a lead of words drawn from a Zipf-like distribution."""
    def words(n: int) -> str:
        return " ".join(vocabulary[min(int(rng.paretovariate(0.6)) - 1, len(vocabulary) - 1)]
                        for _ in range(n))
    return words(9).capitalize(), words(150) + "."


def fill(store: Store, size: int, start: datetime, pool: list[core.Profile]) -> None:
    """``size`` stories, 1,000 a day from ``start``, each an event of its own, with its
    index keys, written straight into the tables (SQLite)."""
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    with store.engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        for begin in range(1, size + 1, 20000):
            stories, events, terms = [], [], []
            for i in range(begin, min(size, begin + 19999) + 1):
                when = (start + timedelta(seconds=86.4 * i)).strftime(fmt)
                profile = pool[i % len(pool)]
                events.append((i, "x", "en", when, when, when))
                stories.append((i, "x", when, 1, i, profile.pack(), when))
                terms.extend((k, i, when) for k in profile.keys())  # noqa: SIM118
            cursor.executemany("INSERT INTO events (id, title, language, published, "
                               "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)", events)
            cursor.executemany("INSERT INTO stories (id, title, first_seen, article_count, "
                               "event_id, profile, published) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               stories)
            cursor.executemany("INSERT INTO event_terms (key, story_id, published) "
                               "VALUES (?, ?, ?)", terms)


def timing(sizes: list[int], queries: int, work: Path) -> None:
    import wordfreq

    vocabulary = [w for w in wordfreq.top_n_list("en", 30000) if w.isalpha()]
    rng = random.Random(17)
    pool = [core.profile(*synthetic(rng, vocabulary), "en") for _ in range(3000)]
    texts = [synthetic(rng, vocabulary) for _ in range(queries)]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    settings = EventSettings()
    results = []
    for size in sizes:
        store = Store(f"sqlite:///{work / f'time-{size}.db'}")
        try:
            fill(store, size, start, pool)
            when = start + timedelta(seconds=86.4 * size)  # the newest stored day
            took = 0.0
            for n, (title, text) in enumerate(texts):
                with store.engine.begin() as c:
                    story = c.exec_driver_sql(
                        "INSERT INTO stories (title, first_seen, article_count) "
                        "VALUES ('q', '2030-01-01 00:00:00.000000', 1) RETURNING id").scalar()
                    began = time.perf_counter()
                    assign(c, settings, int(story or 0), title, text, "en",
                           when - timedelta(hours=n % 48), when)
                    took += time.perf_counter() - began
        finally:
            store.close()
        per = took / queries * 1000
        results.append(per)
        print(f"{size:>9} stored stories: {per:.2f} ms per article "
              f"(x{per / results[0]:.2f} of the smallest)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", action="store_true", help="the SemEval dev check")
    parser.add_argument("--sizes", default="", help="stored stories, e.g. 10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    if not args.dev and not args.sizes:
        parser.error("nothing to do: --dev and/or --sizes")
    with tempfile.TemporaryDirectory() as folder:
        if args.dev:
            dev(Path(folder))
        if args.sizes:
            timing([int(s) for s in args.sizes.split(",")], args.queries, Path(folder))


if __name__ == "__main__":
    main()
