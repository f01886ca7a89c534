"""What keeping the daily counts costs the store: articles stored one transaction each (as a
poll stores them), with and without the counts' upkeep, in the same run.

    python bench/trends_upkeep.py [--articles 1500] [--hits 3] [--rounds 3]
                                  [--postgres URL]

Each article names ``hits`` entries (of 50) and is published on one of the last 60 days; a
fifth are copies of an earlier story from another outlet.  The two sides alternate for
``rounds`` rounds on fresh databases; the best round of each counts.  The cost per article is
the difference, to set against bench/pipeline.py's time per article (target: <= 5% of it).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.dedupe import fingerprint  # noqa: E402
from monitor.store import NewArticle, Store  # noqa: E402
from monitor.store.trends import Keeper  # noqa: E402

WORDS = [f"w{n}" for n in range(5000)]


def articles(count: int, hits: int, now: datetime) -> list[NewArticle]:
    rng = random.Random(20)
    out: list[NewArticle] = []
    texts: list[str] = []
    for n in range(count):
        if texts and rng.random() < 0.2:
            text = rng.choice(texts) + " Updated."
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(300))
            texts.append(text)
        found = [{"watchlist": "w", "entry": f"e{e}", "kind": "person", "name": f"E {e}",
                  "matched": "x", "alias": "x", "score": 100.0, "start": 0, "end": 1,
                  "snippet": "x", "priority": "normal", "entry_version": "v"}
                 for e in rng.sample(range(50), hits)]
        url = f"https://o{n % 7}.example/{n}"
        out.append(NewArticle(
            feed_id=None, item_key=None, item_url=url, url=url, canonical_url=url, title=url,
            author=None, published=now - timedelta(days=rng.randrange(60), hours=n % 24),
            language="en", text_source="page", text=text, fingerprint=fingerprint(text),
            hits=found))
    return out


@contextmanager
def upkeep_off() -> Iterator[None]:
    saved = Keeper.note, Keeper.note_found, Keeper.flush

    def nothing(*_: Any, **__: Any) -> None:
        return None

    Keeper.note = Keeper.note_found = Keeper.flush = nothing  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        Keeper.note, Keeper.note_found, Keeper.flush = saved  # type: ignore[method-assign]


def store_all(url: str, batch: list[NewArticle], now: datetime) -> float:
    store = Store(url)
    started = time.perf_counter()
    for new in batch:
        store.add_article(new, now)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def fresh(folder: str, postgres: str | None, n: int) -> str:
    if not postgres:
        return f"sqlite:///{folder}/upkeep{n}.db"
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return postgres


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1500)
    parser.add_argument("--hits", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database (its public "
                        "schema is dropped) instead of SQLite")
    args = parser.parse_args()
    now = datetime.now(UTC)
    batch = articles(args.articles, args.hits, now)
    on, off = [], []
    with tempfile.TemporaryDirectory() as folder:
        for r in range(args.rounds):
            with upkeep_off():
                off.append(store_all(fresh(folder, args.postgres, 2 * r), batch, now))
            on.append(store_all(fresh(folder, args.postgres, 2 * r + 1), batch, now))
    n = args.articles
    best_on, best_off = min(on), min(off)
    cost = (best_on - best_off) / n
    print(f"{'PostgreSQL' if args.postgres else 'SQLite'}: {n} articles, {args.hits} hits each, "
          "one transaction per article")
    print(f"without upkeep: {best_off / n * 1000:.2f} ms/article "
          f"(rounds {', '.join(f'{t:.2f}' for t in off)} s)")
    print(f"with upkeep:    {best_on / n * 1000:.2f} ms/article "
          f"(rounds {', '.join(f'{t:.2f}' for t in on)} s)")
    print(f"upkeep: {cost * 1000:+.3f} ms/article ({(best_on / best_off - 1) * 100:+.1f}% of "
          "storing); compare with bench/pipeline.py's ms/article")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
