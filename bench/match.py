"""Matcher throughput against flashtext and a naive rapidfuzz loop, measured in the same run.

    python bench/match.py [--mb 5] [--entries 10000]

Builds a 10,000-entry watchlist (every country with its CLDR names, plus generated people
and organisations with aliases) and matches it over >= 5 MB of news-like text: the real
article pages of ../shared/corpus/pages (tags stripped) when present, else text generated
from the seed.  Prints MB/s and articles/s for monitor's matcher (fuzzy matching and
transliteration on), flashtext on the same names, and a naive loop of
rapidfuzz.fuzz.partial_ratio per entry on a sample; the build time; peak memory.
"""

from __future__ import annotations

import argparse
import gc
import html
import math
import random
import re
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor import normalize  # noqa: E402
from monitor.countries import country_display_name, english_country_names  # noqa: E402
from monitor.match import Matcher, Mention  # noqa: E402
from monitor.watchlist import Entry, Watchlist  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "pages"
SYLLABLES = (
    "ka", "ro", "vin", "mel", "an", "dre", "ko", "va", "lu", "sha", "ni", "to", "mir", "bek",
    "ost", "ra", "zan", "dor", "el", "is", "ta", "gu", "li", "por", "nov", "sky", "chen", "ham",
    "ber", "gen", "wal", "ric", "har", "mon", "tel",
)
ORG_WORDS = ("Holdings", "Group", "Bank", "Trading", "Shipping", "Industries", "Ministry",
             "Institute", "Corporation", "Partners")


def name_part(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(n)).capitalize()


def build_watchlist(size: int, rng: random.Random) -> Watchlist:
    entries = [Entry(f"c-{code.lower()}", "country", country_display_name(code), country=code)
               for code in english_country_names()]
    seen = {e.name for e in entries}
    while len(entries) < size:
        i = len(entries)
        if rng.random() < 0.7:
            first, last = name_part(rng, 2), name_part(rng, rng.choice((2, 3)))
            name = f"{first} {last}"
            middle = rng.choice("ABCDEFG")
            aliases: tuple[str, ...] = (f"{first[0]}. {last}", f"{first} {middle}. {last}")
            kind = "actor"
        else:
            words = [name_part(rng, 2) for _ in range(rng.choice((1, 2)))]
            name = " ".join(words) + " " + rng.choice(ORG_WORDS)
            aliases = ("".join(w[0] for w in name.split()).upper() + name_part(rng, 1).upper(),)
            kind = "organization"
        if name in seen:
            continue
        seen.add(name)
        entries.append(Entry(f"e-{i}", kind, name, aliases))
    return Watchlist("bench", tuple(entries))


def html_to_text(page: str) -> str:
    page = re.sub(r"(?is)<(script|style|noscript)[^>]*>.*?</\1>", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return html.unescape(re.sub(r"[ \t]+", " ", page))


def load_articles(mb: float, watchlist: Watchlist, rng: random.Random, pages: slice
                  ) -> list[str]:
    """Windows of about 4,000 characters from the given corpus pages, three watched names
    planted in each (a third of the long ones with a letter missing)."""
    if CORPUS.is_dir():
        base = [html_to_text(p.read_text(encoding="utf-8", errors="replace"))
                for p in sorted(CORPUS.glob("*.html"))][pages]
        source = f"{len(base)} real pages from {CORPUS}"
    else:
        seed = next((ROOT / "seeds").glob("*.txt")).read_text(encoding="utf-8")
        base = [seed] * 20
        source = "the seed (../shared/corpus absent)"
    names = [e.name for e in watchlist.entries]
    articles: list[str] = []
    total = 0
    while total < mb * 1_000_000:
        text = rng.choice(base)
        start = rng.randrange(max(1, len(text) - 4000))
        chunk = text[start:start + 4000]
        words = chunk.split(" ")
        for _ in range(3):  # plant mentions, some with a typo
            name = rng.choice(names)
            if rng.random() < 0.3 and len(name) > 6:
                k = rng.randrange(1, len(name) - 1)
                name = name[:k] + name[k + 1:]
            words.insert(rng.randrange(len(words) + 1), name)
        article = " ".join(words)
        articles.append(article)
        total += len(article.encode("utf-8"))
    print(f"text: {total / 1e6:.1f} MB in {len(articles)} articles, from {source}")
    return articles


def run(articles: list[str], fn: object) -> tuple[float, int]:
    """Seconds to run fn over every article, and the mentions it found."""
    start = time.perf_counter()
    count = 0
    for article in articles:
        count += len(fn(article))  # type: ignore[operator]
    return time.perf_counter() - start, count


def show(label: str, articles: list[str], elapsed: float, count: int, mb: float) -> float:
    rate = mb / elapsed
    print(f"{label:<34} {rate:8.2f} MB/s {len(articles) / elapsed:10.0f} articles/s "
          f"{count:8d} mentions")
    return rate


def timed(label: str, articles: list[str], fn: object, mb: float) -> float:
    return show(label, articles, *run(articles, fn), mb)


def rounds(articles: list[str], contenders: dict[str, object], mb: float, count: int,
           batch: int = 50, each_round: Callable[[], None] = lambda: None) -> dict[str, float]:
    """Each contender over the same articles ``count`` times, in turn batch by batch (50
    articles, about 0.2 MB): the machines here are noisy (a third within minutes), so a
    batch's time is its best round, and a contender's time the sum of its batches'.  The
    ratio of whole rounds is printed too.  ``each_round`` runs before each round, untimed."""
    batches = [articles[i:i + batch] for i in range(0, len(articles), batch)]
    best: dict[str, list[float]] = {label: [math.inf] * len(batches) for label in contenders}
    found: dict[str, int] = dict.fromkeys(contenders, 0)
    totals: list[dict[str, float]] = []
    for round_ in range(count):
        each_round()
        total = dict.fromkeys(contenders, 0.0)
        for i, chunk in enumerate(batches):
            for label, fn in contenders.items():
                elapsed, mentions = run(chunk, fn)
                best[label][i] = min(best[label][i], elapsed)
                total[label] += elapsed
                if round_ == 0:
                    found[label] += mentions
        totals.append(total)
    first, second = list(contenders)[:2]
    print(f"({count} rounds, {len(batches)} batches in turn; each batch's best round counts; "
          f"whole rounds: {' '.join(f'{t[second] / t[first]:.2f}x' for t in totals)})")
    return {label: show(label, articles, sum(best[label]), found[label], mb)
            for label in contenders}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=5.0)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--naive-sample", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pure-python", action="store_true",
                        help="fold in pure Python, as an install without a C compiler does")
    args = parser.parse_args()
    if args.pure_python:
        normalize._fold = None  # type: ignore[assignment]
    c_folding = normalize.SPEEDUPS and not args.pure_python
    print(f"folding: {'C (monitor._fold)' if c_folding else 'pure Python'}")
    rng = random.Random(42)

    start = time.perf_counter()
    watchlist = build_watchlist(args.entries, rng)
    matcher = Matcher([watchlist])
    cold = time.perf_counter() - start
    start = time.perf_counter()
    matcher = Matcher([watchlist])
    warm = time.perf_counter() - start
    aliases = sum(len(e.names) for e in watchlist.entries)
    print(f"watchlist: {len(watchlist.entries)} entries, {aliases} names and aliases")
    print(f"build: {warm:.2f} s (first build in the process, loading CLDR and word "
          f"frequencies: {cold:.2f} s)")

    articles = load_articles(args.mb, watchlist, rng, slice(1, None, 2))  # odd pages
    other_pages = load_articles(args.mb, watchlist, rng, slice(0, None, 2))
    mb = sum(len(a.encode("utf-8")) for a in articles) / 1e6

    from flashtext import KeywordProcessor

    flash = KeywordProcessor(case_sensitive=False)
    for entry in watchlist.entries:
        for name in entry.names:
            flash.add_keyword(name, entry.id)

    for article in articles:  # the steady state: every text seen once
        matcher.match(article)
    flashtext = lambda a: flash.extract_keywords(a, span_info=True)  # noqa: E731
    ours, theirs = rounds(articles, {
        "monitor, steady state": matcher.match, "flashtext (exact, same names)": flashtext,
    }, mb, args.rounds).values()
    del matcher

    # A matcher built for each round, apart from the steady state's (so that two matchers
    # do not evict each other from the processor's caches): warmed on texts from the other
    # pages, the measured ones are new to it, as a daemon's new articles are; not warmed,
    # every token is new to its typo caches (the worst case).
    fresh: list[Matcher | None] = [None]

    def new_matcher(warm_on: list[str]) -> None:
        fresh[0] = None
        gc.collect()  # the last one's objects, not in a timed batch
        fresh[0] = Matcher([watchlist])
        for article in warm_on or ["warm"]:
            fresh[0].match(article)

    def fresh_match(article: str) -> list[Mention]:
        assert fresh[0] is not None
        return fresh[0].match(article)

    new_texts, theirs_new = rounds(articles, {
        "monitor, new texts (matcher warmed on other pages)": fresh_match,
        "flashtext, beside it": flashtext,
    }, mb, args.rounds, each_round=lambda: new_matcher(other_pages)).values()
    cold, theirs_cold = rounds(articles, {
        "monitor, first pass (new matcher)": fresh_match,
        "flashtext, beside it": flashtext,
    }, mb, args.rounds, each_round=lambda: new_matcher([])).values()

    from rapidfuzz import fuzz

    names = [(e.id, n) for e in watchlist.entries for n in e.names]
    sample = articles[: args.naive_sample]
    sample_mb = sum(len(a.encode("utf-8")) for a in sample) / 1e6
    naive = timed(f"naive partial_ratio ({len(sample)} articles)", sample,
                  lambda a: [i for i, n in names if fuzz.partial_ratio(n, a) >= 90], sample_mb)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nmonitor / flashtext: {ours / theirs:.2f}x steady (texts seen), "
          f"{new_texts / theirs_new:.2f}x new texts, {cold / theirs_cold:.2f}x first pass;   "
          f"monitor / naive: {ours / naive:.0f}x")
    print(f"peak memory (RSS): {peak:.0f} MB")
    def met(ok: bool) -> str:
        return "MET" if ok else "MISSED"

    print(f"targets: >= 10 MB/s {met(min(ours, new_texts, cold) >= 10)} (all three); "
          f">= 2x flashtext: steady {met(ours >= 2 * theirs)}, new texts "
          f"{met(new_texts >= 2 * theirs_new)}, first pass {met(cold >= 2 * theirs_cold)}; "
          f">= 100x naive {met(ours >= 100 * naive)}; build < 1 s {met(warm < 1)}")


if __name__ == "__main__":
    main()
