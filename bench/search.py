"""Search latency over many stored articles, on SQLite (FTS5) and PostgreSQL (tsvector).

    python bench/search.py [--sizes 100000,300000] [--dbs sqlite,postgresql]
                           [--postgres URL] [--queries 25] [--limit 20]

Articles are made from the real pages of ../shared/corpus/pages (extracted once; their
paragraphs recombined: a title from one page, 3-8 paragraphs from others), so the words
and their frequencies are real news'; the benchmark exits cleanly when the corpus is absent.
They are written straight into a migrated database (stories and articles rows, the bulk
path: Store.add_article's story grouping is not what is measured), with the index off;
then the index is built as the migration builds it (timed), and its size read.

Queries (--queries of each kind, drawn from the corpus): a term (a word of middle
frequency), a phrase (two adjacent words), a NEAR (two words of one paragraph, NEAR/10)
and an entry (@id of the repository's watchlists/, which the matcher finds in the
candidates).  Each runs through monitor.store.search.search as `monitor search` does
(index candidates, exact evaluation, --limit results); p50 and p95 per kind are printed.
Target: p95 <= 300 ms at 1,000,000 articles.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402

from monitor.normalize import fold  # noqa: E402
from monitor.query import EntryIndex, parse_query, search_plan  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.search import (  # noqa: E402
    SQLITE_BUILD,
    SQLITE_SCHEMA,
    Filters,
    index_pending,
    register,
    search,
)
from monitor.watchlist import load_watchlists  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "pages"
NOW = datetime(2026, 12, 6, tzinfo=UTC)


def paragraphs() -> tuple[list[str], list[str]]:
    """(titles, paragraphs) of the corpus pages, extracted as the pipeline does."""
    from monitor.extract import decode_page, extract_page

    titles, paras = [], []
    for path in sorted(CORPUS.glob("*.htm*")):
        page = decode_page(path.read_bytes(), None)
        found = extract_page(page, "https://example.org/" + path.name, search_date=False)
        if found is None:
            continue
        if found.title:
            titles.append(found.title)
        paras += [p for p in found.text.split("\n") if len(p.split()) >= 8]
    return titles, paras


def articles(n: int, titles: list[str], paras: list[str], rng: random.Random
             ) -> list[tuple[str, str]]:
    out = []
    for i in range(n):
        title = f"{rng.choice(titles)} ({i})"
        body = "\n".join(rng.sample(paras, rng.randint(3, 8)))
        out.append((title, body))
    return out


def load(engine: Engine, docs: list[tuple[str, str]]) -> float:
    """Write the articles (index triggers off); seconds taken."""
    started = time.perf_counter()
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as c:
        if sqlite:
            for name in ("insert", "delete", "update"):
                c.exec_driver_sql(f"DROP TRIGGER IF EXISTS articles_fts_{name}")
            c.exec_driver_sql("DROP TABLE IF EXISTS article_fts")
        else:
            c.exec_driver_sql("DROP INDEX IF EXISTS ix_articles_search_tsv")
        c.execute(text("INSERT INTO stories (id, title, first_seen, article_count) "
                       "VALUES (1, 'bench', :now, 0)"), {"now": NOW.replace(tzinfo=None)})
    batch = 5000
    for at in range(0, len(docs), batch):
        rows = [{"id": at + i + 1, "url": f"https://bench.example/{at + i + 1}", "title": t,
                 "text": b, "hash": f"{at + i}", "sig": b"", "now": NOW.replace(tzinfo=None),
                 "lang": "en"} for i, (t, b) in enumerate(docs[at:at + batch])]
        with engine.begin() as c:
            c.execute(text(
                "INSERT INTO articles (id, story_id, url, canonical_url, title, language, "
                "text_source, text, content_hash, signature, first_seen) VALUES (:id, 1, "
                ":url, :url, :title, :lang, 'page', :text, :hash, :sig, :now)"), rows)
    return time.perf_counter() - started


def build(engine: Engine) -> tuple[float, float]:
    """Build the index as the migration does: (seconds, size in MB)."""
    started = time.perf_counter()
    with engine.begin() as c:
        if engine.dialect.name == "sqlite":
            register(c.connection.dbapi_connection)
            c.exec_driver_sql(SQLITE_SCHEMA[0])
            c.exec_driver_sql(SQLITE_BUILD)
            for statement in SQLITE_SCHEMA[1:]:
                c.exec_driver_sql(statement)
        else:
            index_pending(c)
            c.exec_driver_sql("CREATE INDEX ix_articles_search_tsv ON articles USING gin "
                              "(search_tsv)")
    elapsed = time.perf_counter() - started
    with engine.begin() as c:
        if engine.dialect.name == "sqlite":
            c.exec_driver_sql("INSERT INTO article_fts(article_fts) VALUES ('optimize')")
            size = c.exec_driver_sql(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'article_fts%'").scalar()
        else:
            c.exec_driver_sql("ANALYZE articles")
            size = c.exec_driver_sql(
                "SELECT pg_relation_size('ix_articles_search_tsv') + "
                "coalesce((SELECT sum(pg_column_size(search_tsv)) FROM articles), 0)").scalar()
    return elapsed, float(size or 0) / 1e6


def queries(paras: list[str], entry_ids: list[str], count: int, rng: random.Random
            ) -> dict[str, list[str]]:
    words = Counter(w for p in paras for w in fold(p).split() if w.isalpha() and len(w) > 3)
    ranked = [w for w, _ in words.most_common()]
    middle = ranked[len(ranked) // 20: len(ranked) // 4] or ranked
    out: dict[str, list[str]] = {"term": [], "phrase": [], "near": [], "entry": []}
    for _ in range(count):
        out["term"].append(rng.choice(middle))
        tokens = [w for w in fold(rng.choice(paras)).split() if w.isalpha()]
        at = rng.randrange(max(1, len(tokens) - 1))
        out["phrase"].append('"' + " ".join(tokens[at:at + 2]) + '"')
        para = [w for w in fold(rng.choice(paras)).split() if w in middle[:2000]]
        pair = rng.sample(para, 2) if len(set(para)) >= 2 else rng.sample(middle, 2)
        out["near"].append(f"{pair[0]} NEAR/10 {pair[1]}")
        out["entry"].append(f"@{rng.choice(entry_ids)}")
    return out


def measure(store: Store, asked: dict[str, list[str]], limit: int,
            entries: EntryIndex, mentions: Any) -> dict[str, tuple[float, float, float]]:
    """(p50, p95, mean results) in ms per kind of query."""
    out = {}
    for kind, texts in asked.items():
        times, results = [], []
        for query_text in texts:
            query = parse_query(query_text)
            started = time.perf_counter()
            plan = search_plan(query, entries)
            outcome = search(store, query, plan, Filters(), limit,
                             mentions if kind == "entry" else None)
            times.append((time.perf_counter() - started) * 1000)
            results.append(len(outcome.found))
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        out[kind] = (statistics.median(times), p95, statistics.mean(results))
    return out


def run(url: str, size: int, titles: list[str], paras: list[str], args: argparse.Namespace,
        entries: EntryIndex, entry_ids: list[str], mentions: Any) -> None:
    rng = random.Random(size)
    store = Store(url)
    try:
        made = time.perf_counter()
        docs = articles(size, titles, paras, rng)
        made = time.perf_counter() - made
        mb = sum(len(t) + len(b) for t, b in docs) / 1e6
        loaded = load(store.engine, docs)
        del docs
        built, index_mb = build(store.engine)
        dialect = store.engine.dialect.name
        print(f"{dialect} {size:,} articles ({mb:,.0f} MB of text; made {made:.0f} s, "
              f"written {loaded:.0f} s): index built in {built:.0f} s, {index_mb:,.0f} MB")
        asked = queries(paras, entry_ids, args.queries, rng)
        measure(store, {k: v[:3] for k, v in asked.items()}, args.limit, entries,
                mentions)  # warm the caches
        for kind, (p50, p95, found) in measure(store, asked, args.limit, entries,
                                               mentions).items():
            ok = "met" if p95 <= 300 else "NOT met"
            print(f"  {kind:<7} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({found:.1f} results "
                  f"of {args.limit}; p95 <= 300 ms {ok})")
        sys.stdout.flush()
    finally:
        store.close()


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        c.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,300000")
    parser.add_argument("--dbs", default="sqlite,postgresql")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/"
                        "test_rules", help="a database this benchmark may empty")
    parser.add_argument("--queries", type=int, default=25)
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"corpus absent ({CORPUS}): nothing to measure")
        return
    titles, paras = paragraphs()
    print(f"corpus: {len(titles)} pages, {len(paras)} paragraphs")
    from monitor.matchcache import matcher_for

    watchlists = load_watchlists(ROOT / "watchlists")
    entries = EntryIndex.from_watchlists(watchlists)
    entry_ids = [e.id for w in watchlists for e in w.entries]
    mentions = matcher_for(watchlists).match
    for size in (int(s) for s in args.sizes.split(",")):
        for db in args.dbs.split(","):
            if db == "sqlite":
                with tempfile.TemporaryDirectory() as folder:
                    run(f"sqlite:///{folder}/bench.db", size, titles, paras, args, entries,
                        entry_ids, mentions)
            else:
                reset_postgres(args.postgres)
                run(args.postgres, size, titles, paras, args, entries, entry_ids, mentions)
                reset_postgres(args.postgres)


if __name__ == "__main__":
    main()
