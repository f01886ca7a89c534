"""The web interface under load: p50/p95 time per page and per API list call at 20
concurrent clients, against `monitor web` in its own process, over a store of N articles.

    python bench/web.py [--articles 2000] [--database URL] [--clients 20] [--requests 100]

Fills the database (a temporary SQLite file unless --database names one; a PostgreSQL
database given is emptied first) with N articles from five feeds, each matched by the real
matcher (so with hits), five to an event (N/5 events), then serves it with `monitor web`
and asks each path --requests times from --clients concurrent httpx clients.  Times are
measured at the client on loopback (server time, a loopback round trip and the wait for
the event loop) and by the server (its Server-Timing header: from the request to the
response's start), against which the targets are judged; /healthz in the same run is the
baseline.  Prints the serving process's peak memory.  Targets (#21): p95 <= 200 ms for a
page and <= 100 ms for an API list call with 1,000,000 articles and 200,000 events.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.dedupe import canonical_url, fingerprint  # noqa: E402
from monitor.ingest import Analyser  # noqa: E402
from monitor.store import NewArticle, Store  # noqa: E402
from monitor.watchlist import load_watchlists  # noqa: E402

NAMES = ["Vladimir Putin", "Kim Jong Un", "Volodymyr Zelensky", "Sergei Lavrov", "To Lam",
         "NATO", "the European Union", "Vietnam", "South Korea", "China"]
WORDS = ["harbour", "grain", "pipeline", "ministers", "budget", "railway", "election",
         "drought", "cabinet", "parliament", "treaty", "border", "tariff", "vaccine",
         "satellite", "reactor", "frigate", "summit", "refinery", "currency", "protest",
         "embassy", "airline", "copper", "wheat", "fishery", "glacier", "port", "stadium",
         "archive", "museum", "tunnel", "bridge", "orchestra", "festival", "cathedral"]
PAGES = ["/", "/feeds", "/digests", "/watchlists", "/search?q=%40putin+NEAR%2F10+sanctions",
         "/search?q=%40putin+AND+harbour", "/events/{event}",
         "/entries/russia-asia-diplomacy/putin", "/entries/russia-asia-diplomacy/lavrov"]
API = ["/api/v1/hits", "/api/v1/articles", "/api/v1/feeds", "/api/v1/digests",
       "/api/v1/hits?watchlist=russia-asia-diplomacy&entry=putin", "/api/v1/events",
       "/api/v1/events?watchlist=russia-asia-diplomacy&entry=lavrov",
       "/api/v1/events/{event}", "/api/v1/search?q=harbour", "/api/v1/trends",
       "/feeds/entry/russia-asia-diplomacy/putin.atom"]


SYLLABLES = ["ka", "lo", "ve", "mu", "ri", "ta", "sen", "dor", "pi", "zu", "bel", "nor",
             "qua", "xi", "fen", "gal", "hu", "jor", "ly", "ost"]
PER_EVENT = 5  # articles reporting one happening: 1,000,000 articles make 200,000 events


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3))


def _article(i: int, rng: random.Random) -> tuple[str, str]:
    """Article ``i``: the happening of its group of PER_EVENT (two names, four words of
    its own, so the group is one event and no other), told in each outlet's words."""
    group = random.Random(i // PER_EVENT)
    who, own = group.sample(NAMES, 2), [_word(group) for _ in range(4)]
    title = f"{who[0]} and {who[1]} on the {own[0]} {own[1]} ({i})"
    text = " ".join([f"{who[0]} met {who[1]} in {own[0].capitalize()} to discuss the "
                     f"{own[1]} and the {own[2]} {own[3]}.",
                     *(" ".join(rng.sample(WORDS, 8) + own[:2]).capitalize() + "."
                       for _ in range(3))])
    return title, text


def fill(url: str, articles: int) -> None:
    store = Store(url)
    try:
        analyser = Analyser.create(load_watchlists(ROOT / "watchlists"))
        now = datetime.now(UTC)
        feeds = [store.add_feed(f"http://bench{n}.invalid/feed.xml", now,
                                name=f"Bench wire {n}")[0] for n in range(PER_EVENT)]
        rng = random.Random(7)
        batch: list[NewArticle] = []
        for i in range(articles):
            title, text = _article(i, rng)
            link = f"http://bench{i % PER_EVENT}.invalid/a/{i}"
            batch.append(NewArticle(
                feed_id=feeds[i % PER_EVENT].id, item_key=link, item_url=link, url=link,
                canonical_url=canonical_url(link), title=title, author=None,
                published=now - timedelta(minutes=i // PER_EVENT * 5), language="en",
                text_source="feed", text=text, fingerprint=fingerprint(text),
                hits=analyser.hits(title, text)))
            if len(batch) == 500:
                store.add_articles(batch, now - timedelta(minutes=(articles - i) // PER_EVENT))
                batch = []
        if batch:
            store.add_articles(batch, now)
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_memory(pid: int) -> str:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "unknown"
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return f"{fields.get('VmHWM', '?').strip()} peak, {fields.get('VmRSS', '?').strip()} now"


SERVER: list[float] = []  # the last measure()'s server times (Server-Timing), seconds


async def measure(base: str, path: str, clients: int, requests: int) -> list[float]:
    times: list[float] = []
    SERVER.clear()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            queue.get_nowait()
            started = time.perf_counter()
            response = await client.get(base + path)
            times.append(time.perf_counter() - started)
            timing = response.headers.get("server-timing", "")
            if "dur=" in timing:
                SERVER.append(float(timing.split("dur=")[1].split(";")[0]) / 1000)
            if response.status_code >= 400:
                raise SystemExit(f"{path}: HTTP {response.status_code}")

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(
            max_connections=clients)) as client:
        await client.get(base + path)  # warm
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return times


def p(times: list[float], q: float) -> float:
    return statistics.quantiles(times, n=100)[int(q) - 1] * 1000 if len(times) > 1 \
        else times[0] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--database", help="default: a temporary SQLite file")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100, help="per path")
    parser.add_argument("--no-fill", action="store_true",
                        help="measure the --database as it is (filled by an earlier run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        if args.no_fill and not args.database:
            parser.error("--no-fill needs --database")
        if args.database and url.startswith("postgresql") and not args.no_fill:
            from sqlalchemy import create_engine, text

            engine = create_engine(url)
            with engine.begin() as c:
                c.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
            engine.dispose()
        if not args.no_fill:
            started = time.perf_counter()
            fill(url, args.articles)
            print(f"filled {args.articles} articles in {time.perf_counter() - started:.1f}s "
                  f"({url.split(':')[0]})")
        port = free_port()
        config = Path(tmp) / "monitor.yaml"
        config.write_text(f"database: {url}\nwatchlists: {ROOT / 'watchlists'}\n"
                          f"feeds: []\nserver: {{host: 127.0.0.1, port: {port}}}\n")
        server = subprocess.Popen([sys.executable, "-m", "monitor", "-c", str(config), "web"],
                                  cwd=tmp, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    httpx.get(base + "/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            baseline = asyncio.run(measure(base, "/healthz", args.clients, args.requests))
            middle = httpx.get(f"{base}/api/v1/events?limit=200", timeout=60).json()["items"]
            event = str(middle[len(middle) // 2]["event_id"])  # one of the latest events
            print(f"{'path':<58} {'p50 ms':>8} {'p95 ms':>8} {'p95/healthz':>12} "
                  f"{'server p50':>11} {'server p95':>11}")
            print(f"{'/healthz (baseline)':<58} {p(baseline, 50):8.1f} {p(baseline, 95):8.1f}")
            for kind, paths, target in (("page", PAGES, 200), ("api", API, 100)):
                for path in (p.replace("{event}", event) for p in paths):
                    times = asyncio.run(measure(base, path, args.clients, args.requests))
                    served = list(SERVER)
                    mark = "" if p(served, 95) <= target else f"  (> {target} ms target)"
                    print(f"{kind + ' ' + path:<58} {p(times, 50):8.1f} {p(times, 95):8.1f} "
                          f"{p(times, 95) / p(baseline, 95):12.1f} {p(served, 50):11.1f} "
                          f"{p(served, 95):11.1f}{mark}")
            print(f"serving process memory: {peak_memory(server.pid)}")
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
