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

--sizes: a store filled with N stories (1,000 a day, written straight into the tables with
bulk inserts, each its own event), then store.events.assign timed for --queries new stories
published on the newest day (the profile, the candidate lookup through event_terms, the
comparisons and the writes).  The texts are real sentences: each story a headline and a
lead of sentences drawn at random from one language's sentences of the real pages in
../shared/corpus/pages and the SemEval texts (so names recur across stories as they do in
news, more than they would in a day's real news: a hard case for the per-key cap); without
the corpus, words drawn from wordfreq's list.  Stored stories use a pool of 20,000 such
profiles (20 days, beyond the window).  Prints ms per article at each size, the ratio to
the smallest (target: under 2, and <= 5 ms), and the candidates read per article.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor import events as core
from monitor.store import Store
from monitor.store.events import PER_KEY, EventSettings, _candidates, assign, resolve

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "events"
SAMPLE = CORPUS / "semeval2022-task8-train-sample.csv"
PAGES = CORPUS.parent / "pages"
DAY = "2020-06-01T12:00:00Z"
WARM = 30  # untimed articles before the timed ones, at each size


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
    key_share(pairs, texts)


def key_share(pairs: list[tuple[str, str, str, bool]], texts: dict[str, str]) -> None:
    """How many same-event pairs (and linked pairs) share an index key: the rare keys used,
    next to the strongest KEYS terms whatever their frequency (the rule before)."""
    made = {u: core.profile("", t, u.split("/")[3]) for u, t in texts.items()}
    rare = {u: set(p.keys()) for u, p in made.items()}
    strongest = {u: {core.term_id(p.language, t) for t, _ in p.terms[:core.KEYS]}
                 for u, p in made.items()}
    same = [(a, b) for langs, a, b, yes in pairs if yes and langs[:2] == langs[3:]]
    linked = [(a, b) for a, b in same if core.same_event(core.unpack(made[a].pack()),
                                                         core.unpack(made[b].pack()))]
    for name, keys in (("rare keys", rare), (f"strongest {core.KEYS} terms", strongest)):
        print(f"same-language same-event pairs sharing a key ({name}): "
              f"{sum(bool(keys[a] & keys[b]) for a, b in same)} of {len(same)}; "
              f"of those above the threshold: {sum(bool(keys[a] & keys[b]) for a, b in linked)}"
              f" of {len(linked)}")


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


_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def real_sentences() -> dict[str, list[str]]:
    """The sentences (8 to 60 words) of the corpus's real texts, by language ({} without
    the corpus)."""
    from monitor.extract import extract_page

    found: dict[str, list[str]] = defaultdict(list)

    def add(text: str, language: str | None) -> None:
        language = core.language_of(language)
        for sentence in _SENTENCE.split(text):
            if 8 <= len(sentence.split()) <= 60 or (language in ("zh", "ja") and
                                                   20 <= len(sentence) <= 200):
                found[language].append(" ".join(sentence.split()))

    if PAGES.is_dir():
        for page in sorted(PAGES.glob("*.html")):
            got = extract_page(page.read_text(encoding="utf-8", errors="replace"),
                               f"https://pages.example/{page.stem}", search_date=False)
            if got is not None:
                add(got.text, got.language)
    if SAMPLE.is_file():
        csv.field_size_limit(10**9)
        with SAMPLE.open(encoding="utf-8") as f:
            for r in csv.DictReader(f):
                add(r["text1"], r["lang1"])
                add(r["text2"], r["lang2"])
    return {lang: sorted(set(s)) for lang, s in found.items() if len(set(s)) >= 50}


def synthetic(rng: random.Random, sentences: dict[str, list[str]],
              weights: list[int]) -> tuple[str, str, str]:
    """A headline, a lead of about LEAD characters and their language: real sentences of
    one language drawn at random."""
    language = rng.choices(list(sentences), weights)[0]
    pool = sentences[language]
    head = " ".join(rng.choice(pool).split()[:12]).rstrip(".,;:")
    lead: list[str] = []
    while sum(len(x) + 1 for x in lead) < core.LEAD:
        lead.append(rng.choice(pool))
    return head, " ".join(lead), language


def vocabulary_sentences() -> dict[str, list[str]]:
    """Without the corpus: 'sentences' of words from wordfreq's English list, Zipf-drawn."""
    import wordfreq

    words = [w for w in wordfreq.top_n_list("en", 30000) if w.isalpha()]
    rng = random.Random(7)
    return {"en": [" ".join(words[min(int(rng.paretovariate(0.6)) - 1, len(words) - 1)]
                            for _ in range(20)) + "." for _ in range(20000)]}


def fill(store: Store, size: int, start: datetime, pool: list[core.Profile]) -> None:
    """``size`` stories, 1,000 a day from ``start``, each an event of its own, with its
    index keys, written straight into the tables (SQLite, one transaction, bulk inserts)."""
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    packed = [(p.pack(), p.language, p.keys()) for p in pool]
    with store.engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        for begin in range(1, size + 1, 50000):
            stories, events, terms = [], [], []
            for i in range(begin, min(size, begin + 49999) + 1):
                when = (start + timedelta(seconds=86.4 * i)).strftime(fmt)
                profile, language, keys = packed[i % len(packed)]
                events.append((i, "x", language, when, when, when))
                stories.append((i, "x", when, 1, i, profile, when))
                terms.extend((k, i, when) for k in keys)
            cursor.executemany("INSERT INTO events (id, title, language, published, "
                               "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)", events)
            cursor.executemany("INSERT INTO stories (id, title, first_seen, article_count, "
                               "event_id, profile, published) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               stories)
            cursor.executemany("INSERT INTO event_terms (key, story_id, published) "
                               "VALUES (?, ?, ?)", terms)


def candidates_read(store: Store, profiles: list[core.Profile], when: datetime,
                    settings: EventSettings) -> tuple[float, float]:
    """Candidates per lookup, and the share of lookups where a key reached PER_KEY."""
    total = capped = 0
    with store.engine.connect() as c:
        for p in profiles:
            keys = p.keys()
            if not keys:
                continue
            params = {**{f"k{i}": k for i, k in enumerate(keys)},
                      "low": when - settings.window, "high": when + settings.window}
            total += len(c.execute(_candidates(len(keys)), params).all())
            capped += any(len(c.execute(_candidates(1), {**params, "k0": k}).all())
                          >= PER_KEY for k in keys)
    return total / max(1, len(profiles)), capped / max(1, len(profiles))


def timing(sizes: list[int], queries: int, work: Path) -> None:
    sentences = real_sentences() or vocabulary_sentences()
    weights = [len(v) for v in sentences.values()]
    shares = ", ".join(f"{k or '?'} {v}" for k, v in zip(sentences, weights, strict=True))
    print(f"texts from {sum(weights)} sentences in {len(sentences)} languages ({shares})",
          flush=True)
    rng = random.Random(17)
    pool = [core.profile(*synthetic(rng, sentences, weights)) for _ in range(20000)]
    texts = [synthetic(rng, sentences, weights) for _ in range(queries)]
    warm = [synthetic(rng, sentences, weights) for _ in range(WARM)]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    settings = EventSettings()
    results = []
    for size in sizes:
        store = Store(f"sqlite:///{work / f'time-{size}.db'}")
        try:
            began = time.perf_counter()
            fill(store, size, start, pool)
            filled = time.perf_counter() - began
            when = start + timedelta(seconds=86.4 * size)  # the newest stored day
            took = 0.0
            for n, (title, text, language) in enumerate(warm + texts):
                with store.engine.begin() as c:
                    story = c.exec_driver_sql(
                        "INSERT INTO stories (title, first_seen, article_count) "
                        "VALUES ('q', '2030-01-01 00:00:00.000000', 1) RETURNING id").scalar()
                    began = time.perf_counter()
                    assign(c, settings, int(story or 0), title, text, language,
                           when - timedelta(hours=n % 48), when)
                    if n >= WARM:  # the first ones (imports, caches, cold pages) are not
                        took += time.perf_counter() - began  # what a daemon pays
            read, capped = candidates_read(
                store, [core.profile(*t) for t in texts[:100]], when, settings)
        finally:
            store.close()
        (work / f"time-{size}.db").unlink(missing_ok=True)
        per = took / queries * 1000
        results.append(per)
        print(f"{size:>9} stored stories: {per:.2f} ms per article "
              f"(x{per / results[0]:.2f} of the smallest); {read:.0f} candidates read per "
              f"article, a key at the cap ({PER_KEY}) in {capped:.0%} of lookups; "
              f"filled in {filled:.0f} s", flush=True)


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
