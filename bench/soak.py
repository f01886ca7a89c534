"""Soak: the daemon's poll job against 1,000 local feeds that publish an item every minute,
5% of them faulty, for 10 minutes of a clock running 60x faster than the wall clock.

    python bench/soak.py [--feeds 1000] [--minutes 10] [--speed 60] [--window 50]
                         [--interval 1m] [--db URL]

The feed server runs in its own process and reads the same accelerated clock: feed n lists
its items of the last ``--window`` minutes (guid, pubDate, text; every tenth feed links
full pages, which are fetched and extracted).  Faulty feeds answer 500, broken XML, nothing
for longer than the timeout, 404, or close the connection.  The daemon (scheduler.Daemon,
the clock injected) polls whatever is due, as its job does, until the clock reaches the
end, then catches up: passes go on until the daemon has fetched every healthy feed's last
document (a feed whose poll timed out is retried when its back-off allows), for at most an
hour of the clock after the first pass that began 2 minutes past the end.  At 60x, 1,000
feeds publish 1,000 items a second, more than two cores match and store: the daemon falls
behind (feeds list 50 minutes of items, so none scrolls out unseen) and the figures are its
throughput under overload.  Prints polls/s, the failed polls of healthy feeds, articles/s,
hits/s, p95 poll latency, p95 of publication-to-stored delay (in the accelerated clock's
seconds, and real), memory after the first pass (warmed up) and at the end (target: no
growth beyond 10%), and the invariant check: every item in a document the daemon fetched
stored once, no duplicate article or hit, no empty story.  An item not stored is counted
apart by where it went: "seen and lost" (it was in a document the daemon fetched: our loss,
never allowed), "scrolled out before any poll could see it" (it left the feed's window
between two fetched documents: the world's loss) or "never fetched" (the feed's polls since
it was published failed or were not due yet when the run ended), with the feeds' last
errors.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from monitor.config import Config, FeedConfig, FetchConfig  # noqa: E402
from monitor.ingest import Summary, sync_feeds  # noqa: E402
from monitor.scheduler import Daemon  # noqa: E402
from monitor.sources import rss  # noqa: E402
from monitor.sources.rss import ParsedFeed, parse_feed  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.models import Article, Feed, Hit, Item, Story  # noqa: E402
from monitor.watchlist import load_watchlists  # noqa: E402

START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
WINDOW = 50  # minutes of items a feed lists by default (the daemon may fall this far behind)
NAMES = ["Vladimir Putin", "Kim Jong Un", "Tô Lâm", "Volodymyr Zelensky", "Sergei Lavrov",
         "the European Union", "NATO", "sanctions", "New START"]
WORDS = ["minister", "talks", "border", "energy", "grain", "missile", "port", "summit", "aid",
         "election", "court", "protest", "market", "oil", "drone", "navy", "trade", "visa",
         "delegation", "agreement"]
FAULTS = ("500", "broken", "silent", "404", "close")


def faulty(n: int) -> str | None:
    return FAULTS[(n // 20) % len(FAULTS)] if n % 20 == 7 else None


def full_text(n: int) -> bool:
    return n % 10 == 3


class Clock:
    """The accelerated clock, the same in both processes: START + (wall - t0) * speed."""

    def __init__(self, t0: float, speed: float) -> None:
        self.t0, self.speed = t0, speed

    def __call__(self) -> datetime:
        return START + timedelta(seconds=(time.time() - self.t0) * self.speed)


def text(n: int, minute: int) -> str:
    rng = random.Random(n * 100_003 + minute)
    words = [rng.choice(WORDS) for _ in range(50)]
    if rng.random() < 0.5:
        words.insert(rng.randrange(len(words)), rng.choice(NAMES))
    return f"Report {n}-{minute}: " + " ".join(words) + "."


def feed_xml(n: int, last: int, port: int, window: int = WINDOW) -> bytes:
    items = []
    for minute in range(max(0, last - window + 1), last + 1):
        when = (START + timedelta(minutes=minute)).strftime("%a, %d %b %Y %H:%M:%S GMT")
        link = f"<link>http://127.0.0.1:{port}/p/{n}/{minute}</link>" if full_text(n) else ""
        items.append(f"<item><title>Feed {n} at minute {minute}</title><guid>s{n}-{minute}"
                     f"</guid>{link}<pubDate>{when}</pubDate><description>{text(n, minute)}"
                     f"</description></item>")
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
            f"{''.join(reversed(items))}</channel></rss>").encode()


def page_html(n: int, minute: int) -> bytes:
    body = "".join(f"<p>{text(n, minute * 7 + k)}</p>" for k in range(6))
    return (f"<html><head><title>Feed {n} at minute {minute}</title></head><body><article>"
            f"<h1>Feed {n} at minute {minute}</h1><p>{text(n, minute)}</p>{body}</article>"
            f"</body></html>").encode()


def serve(port_out: Any, t0: float, speed: float, minutes: int, window: int) -> None:
    clock = Clock(t0, speed)

    def response(status: str, body: bytes, extra: str = "") -> bytes:
        return (f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n").encode() \
            + body

    async def answer(path: str, tag: str | None, port: int) -> bytes | None:
        parts = path.strip("/").split("/")
        if parts[0] == "p":
            return response("200 OK", page_html(int(parts[1]), int(parts[2])),
                            "Content-Type: text/html\r\n")
        n = int(parts[1].split(".")[0])
        fault = faulty(n)
        if fault == "500":
            return response("500 Internal Server Error", b"oops")
        if fault == "404":
            return response("404 Not Found", b"gone")
        if fault == "broken":
            return response("200 OK", b"<rss><channel><item><title>\x00\xff<<<")
        if fault == "silent":
            await asyncio.sleep(30)
        if fault in ("silent", "close"):
            return None
        last = min(minutes, int((clock() - START).total_seconds() // 60))
        etag = f'"{n}-{last}"'
        if tag == etag:
            return response("304 Not Modified", b"", f"ETag: {etag}\r\n")
        return response("200 OK", feed_xml(n, last, port, window),
                        f"ETag: {etag}\r\nContent-Type: application/rss+xml\r\n")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                lines = head.decode("latin-1").split("\r\n")
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                tag = next((v for k, v in headers.items() if k.lower() == "if-none-match"), None)
                reply = await answer(lines[0].split(" ")[1], tag, port)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=2048)
        port_out.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sightings:
    """What the daemon fetched: the minutes of the items of every feed document it parsed
    (the instrument that tells an item we lost from one we never saw)."""

    def __init__(self) -> None:
        self.seen: dict[int, set[int]] = defaultdict(set)
        self.first_listed: dict[int, int] = {}  # the oldest minute a fetched document listed
        parse = parse_feed

        def recording(body: bytes, url: str = "", content_type: str | None = None,
                      **options: Any) -> ParsedFeed:
            parsed = parse(body, url, content_type, **options)
            found = re.search(r"/f/(\d+)\.rss", url)
            minutes = [int(i.guid.rsplit("-", 1)[1]) for i in parsed.items
                       if i.guid and i.guid.startswith("s")]
            if found and minutes:
                n = int(found.group(1))
                self.seen[n].update(minutes)
                self.first_listed[n] = max(self.first_listed.get(n, 0), min(minutes))
            return parsed

        rss.parse_feed = recording  # the rss source looks it up at each read

    def caught_up(self, feeds: int, minutes: int) -> bool:
        """Whether the daemon has fetched every healthy feed's last document."""
        return all(minutes in self.seen[n] for n in range(feeds) if faulty(n) is None)

    def where(self, n: int, minute: int) -> str:
        if minute in self.seen[n]:
            return "seen and lost"
        if self.first_listed.get(n, 0) > minute:
            return "scrolled out before any poll could see it"
        return "never fetched"


def invariants(store: Store, feeds: int, minutes: int, sightings: Sightings
               ) -> tuple[list[str], list[str]]:
    """The problems (what breaks an invariant) and the notes: where the items that were
    not stored went, and the state of the feeds whose items were never fetched."""
    problems: list[str] = []
    with store.engine.connect() as c:
        articles = c.execute(select(func.count()).select_from(Article)).scalar_one()
        distinct = c.execute(select(func.count(func.distinct(Article.canonical_url)))).scalar_one()
        if articles != distinct:
            problems.append(f"{articles - distinct} duplicate articles")
        dupes = c.execute(select(Hit.story_id).group_by(Hit.story_id, Hit.watchlist, Hit.entry)
                          .having(func.count() > 1)).all()
        if dupes:
            problems.append(f"{len(dupes)} duplicate hits")
        empty = c.execute(select(func.count()).select_from(Story).where(
            ~select(Article.id).where(Article.story_id == Story.id).exists())).scalar_one()
        if empty:
            problems.append(f"{empty} stories without articles")
        keys = set(c.scalars(select(Item.key)))
        states = {row.id: row for row in c.execute(
            select(Feed.id, Feed.url, Feed.state, Feed.error_count, Feed.last_error,
                   Feed.last_polled, Feed.next_poll))}
    healthy = [n for n in range(feeds) if faulty(n) is None]
    from monitor.dedupe import item_key

    missing = [(n, m) for n in healthy for m in range(minutes + 1)
               if item_key(f"s{n}-{m}", None, "", "") not in keys]
    kinds = Counter(sightings.where(n, m) for n, m in missing)
    if kinds["seen and lost"]:
        problems.append(f"{kinds['seen and lost']} items seen and lost (in a document we "
                        "fetched, not stored)")
    published = len(healthy) * (minutes + 1)
    notes = [f"items of healthy feeds: {published - len(missing)} of {published} stored; "
             "not stored: " + ", ".join(f"{kinds[k]} {k}" for k in (
                 "seen and lost", "scrolled out before any poll could see it",
                 "never fetched"))]
    by_url = {row.url: row for row in states.values()}
    why: Counter[str] = Counter()
    for n in sorted({n for n, m in missing if sightings.where(n, m) == "never fetched"}):
        row = next((r for u, r in by_url.items() if u.endswith(f"/f/{n}.rss")), None)
        if row is not None:
            why[f"{row.state}, {row.error_count} errors, last: {row.last_error}, "
                f"next poll {row.next_poll:%H:%M:%S}"] += 1
    notes += [f"  feeds not fetched since an item was published: {count} x {reason}"
              for reason, count in why.most_common(8)]
    return problems, notes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--window", type=int, default=WINDOW,
                        help=f"minutes of items a feed lists (default {WINDOW})")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="the feeds' poll interval in minutes (default 1)")
    parser.add_argument("--db", help="database URL (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    database = args.db or f"sqlite:///{folder.name}/soak.db"
    t0 = time.time() + 2.0  # the clock starts once both processes are up
    clock = Clock(t0, args.speed)
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=serve, args=(ports, t0, args.speed, args.minutes,
                                                         args.window),
                                     daemon=True)
    server.start()
    port = ports.get(timeout=10)
    fetch = FetchConfig(timeout=2.0, concurrency=32, per_host=32, allow_private_addresses=True)
    feeds = tuple(FeedConfig(f"http://127.0.0.1:{port}/f/{n}.rss", interval=args.interval * 60,
                             full_text=full_text(n)) for n in range(args.feeds))
    config = Config(database=database, watchlists=str(ROOT / "watchlists"), fetch=fetch,
                    feeds=feeds, digests=())
    store = Store(database)
    while time.time() < t0:
        time.sleep(0.01)
    sync_feeds(store, config.feeds, clock())
    logging.getLogger().setLevel(logging.CRITICAL)  # the faulty feeds' warnings, trafilatura
    daemon = Daemon(config, store, load_watchlists(config.watchlists), clock)
    sightings = Sightings()
    polls: list[float] = []  # seconds from asking for a feed to having it (slots included)
    observe = daemon.context.observe

    def timed(kind: str, seconds: float) -> None:
        if kind == "feed":
            polls.append(seconds)
        if observe is not None:
            observe(kind, seconds)

    daemon.context.observe = timed
    total = Summary()
    memory: list[tuple[datetime, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            memory.append((clock(), rss_mb()))

    threading.Thread(target=sample, daemon=True).start()
    end = START + timedelta(minutes=args.minutes)
    started = time.perf_counter()
    memory_start = 0.0
    give_up: datetime | None = None  # an hour of the clock after the first pass past the end
    while True:  # passes (each over what is due when it begins), as the poll job runs them
        began = clock()
        summary = daemon.poll()
        total.add(summary)
        memory_start = memory_start or rss_mb()  # after the first pass: warmed up
        if began >= end + timedelta(minutes=2):
            give_up = give_up or clock() + timedelta(hours=1)
            if sightings.caught_up(args.feeds, args.minutes) or clock() >= give_up:
                break
        if not summary.feeds_polled:
            time.sleep(0.02)
    elapsed = time.perf_counter() - started
    done.set()
    memory_end = rss_mb()
    peak = max((mb for _, mb in memory), default=memory_end)
    with store.engine.connect() as c:
        rows = c.execute(select(Article.first_seen, Article.published)).all()
    delays = sorted((first - published).total_seconds() for first, published in rows
                    if published is not None)
    p95 = delays[int(0.95 * (len(delays) - 1))] if delays else 0.0
    problems, notes = invariants(store, args.feeds, args.minutes, sightings)
    bad = sum(1 for n in range(args.feeds) if faulty(n))
    print(f"{args.feeds} feeds ({bad} faulty), {args.minutes} min at {args.speed:g}x "
          f"({elapsed:.1f} s real), database {store.engine.dialect.name}")
    print(f"polls/s:    {total.feeds_polled / elapsed:8.1f}   ({total.feeds_polled} polls, "
          f"{total.failed} failed, {total.not_modified} not modified)")
    spurious = Counter(error.partition(": ")[2] for error in total.errors
                       if (found := re.search(r"/f/(\d+)\.rss: ", error))
                       and faulty(int(found.group(1))) is None)
    print(f"failed polls of healthy feeds: {sum(spurious.values())} ("
          + (", ".join(f"{n} {why}" for why, n in spurious.most_common(3)) or "none") + ")")
    print(f"articles/s: {total.articles_new / elapsed:8.1f}   ({total.articles_new} articles, "
          f"{total.pages_failed} pages failed)")
    print(f"hits/s:     {total.hits_new / elapsed:8.1f}   ({total.hits_new} hits)")
    polls.sort()
    print(f"p95 poll latency (request to feed in hand, waiting for a slot included): "
          f"{polls[int(0.95 * (len(polls) - 1))] if polls else 0:.2f} s")
    print(f"p95 published -> stored: {p95:.0f} s of the accelerated clock "
          f"({p95 / args.speed:.1f} s real)")
    growth = memory_end / memory_start if memory_start else 0.0
    print(f"memory: {memory_start:.0f} MB after the first pass, {memory_end:.0f} MB at the "
          f"end, {peak:.0f} MB at most "
          f"(x{growth:.2f}; target <= 1.10 {'MET' if growth <= 1.10 else 'MISSED'})")
    print("\n".join(notes))
    print("invariants: " + ("OK (every item in a document the daemon fetched stored once; no "
                            "duplicate article or hit; no empty story)" if not problems
                            else "BROKEN: " + "; ".join(problems)))
    store.close()
    server.terminate()
    folder.cleanup()


if __name__ == "__main__":
    main()
