"""`monitor backfill`: match stored articles again (after a watchlist change), or import saved
articles (`--from PATH`), with the pipeline's own stages.

Extraction and matching run in ``workers`` processes (pure: records in, NewArticles or hits
out); this process reads the input lazily, keeps at most a window of tasks in flight, and
stores results in batches of ``batch``, one transaction each.  A stop request (Ctrl-C,
SIGTERM) ends the run after the batch in hand; the same command then carries on: imports
skip what is stored (checked by URL before any extraction), and re-matching resumes after
the last article of the last stored batch (recorded in ``backfill_runs``).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import select
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from monitor.dedupe import canonical_url, content_hash
from monitor.errors import MonitorError
from monitor.extract import Extracted, decode_page, extract_page
from monitor.ingest import Analyser, analyse
from monitor.language import resolve_language
from monitor.sources import archive
from monitor.sources.archive import Record, Skipped
from monitor.store import NewArticle, NewHit, Store, StoredArticle, compress_page
from monitor.store.search import article_meta
from monitor.watchlist import Watchlist

FOUND_BY = "backfill"


@dataclass(frozen=True)
class Options:
    source: Path | None = None  # --from: import these files; None: match stored articles
    since: datetime | None = None
    until: datetime | None = None
    feed_id: int | None = None
    reextract: bool = False
    workers: int = 1
    notify: bool = False
    batch: int = 100
    max_bytes: int = archive.MAX_ARTICLE  # a larger page or text is skipped (fetch.max_bytes)


PROBLEMS_KEPT = 50


@dataclass
class Report:
    read: int = 0
    new_articles: int = 0
    duplicates: int = 0
    new_stories: int = 0
    new_hits: int = 0
    skipped: int = 0
    outside: int = 0  # imported records published outside --since/--until
    reextracted: int = 0
    elapsed: float = 0.0
    interrupted: bool = False
    resumed_after: int | None = None
    problems: list[Skipped] = field(default_factory=list)  # the first PROBLEMS_KEPT

    def skip(self, problem: Skipped) -> None:
        """Count a skipped file or record; keep the first ones with their reasons (a million
        bad lines must not fill the memory)."""
        self.skipped += 1
        if len(self.problems) < PROBLEMS_KEPT:
            self.problems.append(problem)

    def line(self) -> str:
        extra = f", outside the window {self.outside}" if self.outside else ""
        extra += f", re-extracted {self.reextracted}" if self.reextracted else ""
        return (f"read {self.read}, new articles {self.new_articles}, duplicates "
                f"{self.duplicates}, new stories {self.new_stories}, new hits {self.new_hits}, "
                f"skipped {self.skipped}{extra}, elapsed {self.elapsed:.1f}s"
                + (" (interrupted: run the same command again to go on)"
                   if self.interrupted else ""))


# --- worker side (pure: values in, values out) --------------------------------------------

_analyser: Analyser | None = None


def _init_worker(watchlists: Sequence[Watchlist], parent: int) -> None:
    global _analyser
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _terminate_only_from(parent)
    _exit_with(parent)
    _analyser = Analyser.create(watchlists)


def _terminate_only_from(parent: int) -> None:
    """Let a SIGTERM end this worker only when the parent sends it (the pool terminating a
    broken pool).  systemd stops a service with a SIGTERM to every process of it: the
    workers must not die under the parent, which stores the batch in hand and then ends
    them (were they gone, the pool would break as it cancels, and say so on stderr)."""
    if not hasattr(signal, "sigwaitinfo"):  # not on macOS: workers end with the signal
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # threads started later too

    def wait() -> None:
        while signal.sigwaitinfo({signal.SIGTERM}).si_pid != parent:
            pass
        os._exit(128 + signal.SIGTERM)

    threading.Thread(target=wait, name="sigterm-from-parent", daemon=True).start()


def _exit_with(parent: int) -> None:
    """End this worker when the process that started the pool ends, even by kill -9: a
    worker waits for tasks on a pipe it holds both ends of, so it would wait forever (with
    its memory, and the forkserver it keeps alive)."""

    def watch() -> None:
        try:  # Linux: a handle on that very process, readable once it has ended
            handle = os.pidfd_open(parent)
        except (AttributeError, OSError):
            while _alive(parent):
                time.sleep(1.0)
        else:
            select.select([handle], [], [])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_analyser() -> Analyser:
    assert _analyser is not None, "worker not initialised"
    return _analyser


def prepare(analyser: Analyser, record: Record, notify: bool) -> NewArticle | Skipped:
    """An imported record as the store's NewArticle (extracted, matched, fingerprinted)."""
    extracted: Extracted | None
    if record.html is not None:
        page = decode_page(record.html, record.content_type)
        extracted = extract_page(page, record.url, search_date=record.published is None)
        if extracted is None:
            return Skipped(record.origin, "no article text found in the page")
        extracted = replace(extracted, title=record.title or extracted.title,
                            published=record.published or extracted.published)
    else:
        extracted = Extracted(text=record.text or "", title=record.title, author=None,
                              published=record.published,
                              language=resolve_language(None, record.text or ""),
                              canonical_url=None, source="text")
    new = analyse(analyser, extracted, url=record.url, feed_id=None, item=None, key=None,
                  page=record.html, content_type=record.content_type or "text/html")
    if record.url_is_path and extracted.canonical_url is None:
        new = replace(new, same_text_is_duplicate=True)
    if new.page is not None:  # compressed here, in parallel, not in the storing process
        new = replace(new, page=None, packed_page=compress_page(new.page))
    return replace(new, hits=[replace(h, found_by=FOUND_BY, notify=notify) for h in new.hits])


def _prepare_many(records: list[Record], notify: bool) -> list[NewArticle | Skipped]:
    return [prepare(_worker_analyser(), r, notify) for r in records]


@dataclass(frozen=True, slots=True)
class Rematched:
    article_id: int
    story_id: int
    hits: list[NewHit]
    extracted: Extracted | None = None  # with --reextract, when the kept page yields text


def rematch(analyser: Analyser, article: StoredArticle, reextract: bool,
            notify: bool, meta: dict[str, Any] | None = None) -> Rematched:
    extracted = None
    title, text = article.title, article.text
    if reextract and article.page is not None:
        extracted = extract_page(decode_page(article.page, None), article.url,
                                 search_date=False)
        if extracted is not None:
            title, text = extracted.title or title, extracted.text
    hits = [replace(h, found_by=FOUND_BY, notify=notify)
            for h in analyser.hits(title, text, **(meta or {}))]
    return Rematched(article.id, article.story_id, hits, extracted)


def _rematch_many(articles: list[StoredArticle], reextract: bool, notify: bool,
                  metas: dict[int, dict[str, Any]] | None = None) -> list[Rematched]:
    metas = metas or {}
    return [rematch(_worker_analyser(), a, reextract, notify, metas.get(a.id))
            for a in articles]


# --- this process: read, dispatch, store --------------------------------------------------

StopCheck = Callable[[], bool]
Progress = Callable[[Report, int], None]  # the report so far, and units done (files/articles)


def _never() -> bool:
    return False


def run_key(options: Options, watchlists: Sequence[Watchlist]) -> tuple[str, str]:
    """A re-matching run's identity: the same options and watchlist versions resume it."""
    data = {"since": str(options.since), "until": str(options.until), "feed": options.feed_id,
            "reextract": options.reextract,
            "watchlists": {w.name: sorted(e.version for e in w.entries)
                           + sorted(r.version for r in w.rules) for w in watchlists}}
    text = json.dumps(data, sort_keys=True)
    described = (f"watchlists {', '.join(w.name for w in watchlists)}; since {options.since}; "
                 f"until {options.until}; feed {options.feed_id}; reextract {options.reextract}")
    return hashlib.sha256(text.encode()).hexdigest()[:32], described


@contextmanager
def _pool(workers: int, watchlists: Sequence[Watchlist]) -> Iterator[ProcessPoolExecutor]:
    context: BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        server = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has imported these once (not from this process,
        # whose threads and open database connections a fork would copy).
        server.set_forkserver_preload(["monitor.backfill", "trafilatura"])
        context = server
    else:
        context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context,
                               initializer=_init_worker,
                               initargs=(list(watchlists), os.getpid()))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _chunks(items: Iterable[Any], size: int, weigh: Callable[[Any], int] = lambda _: 0,
            most: int = 1) -> Iterator[list[Any]]:
    """Lists of at most ``size`` items, closed early once they weigh ``most`` (bytes)."""
    chunk: list[Any] = []
    weight = 0
    for item in items:
        chunk.append(item)
        weight += weigh(item)
        if len(chunk) >= size or weight >= most:
            yield chunk
            chunk, weight = [], 0
    if chunk:
        yield chunk


Task = tuple[Callable[..., Any], tuple[Any, ...], int]  # function, arguments, bytes held
IN_FLIGHT = 32 * 2**20  # bytes of input in flight per worker (their results are no larger)


def _pipelined(pool: Executor, tasks: Iterator[Task], window: int, budget: int,
               stop: StopCheck) -> Iterator[Any]:
    """Results of tasks in submission order, at most ``window`` in flight and, beyond the
    first, at most ``budget`` bytes (a folder of large pages must not pile up here).  After
    a stop request no result is returned: what is in flight is cancelled (and done again by
    the next run), so the caller stores only the batch in hand."""
    pending: deque[tuple[Future[Any], int]] = deque()
    held = 0
    while True:
        try:
            while len(pending) < window and (not pending or held < budget) and not stop():
                task = next(tasks, None)
                if task is None:
                    break
                pending.append((pool.submit(task[0], *task[1]), task[2]))
                held += task[2]
            if not pending or stop():
                for future, _ in pending:
                    future.cancel()
                return
            future, weight = pending.popleft()
            held -= weight
            result = future.result()
        except BrokenProcessPool as exc:
            if stop():  # a SIGTERM to the whole process group (systemd) ends workers too
                return
            raise MonitorError("backfill: a worker process died (killed, or out of "
                               "memory?); what was stored is kept: run the same command "
                               "again to carry on") from exc
        yield result


def import_files(store: Store, watchlists: Sequence[Watchlist], options: Options,
                 clock: Callable[[], datetime], stop: StopCheck = _never,
                 progress: Progress | None = None) -> Report:
    """`backfill --from`: read, skip what is stored, extract and match in the workers,
    store in batches."""
    assert options.source is not None
    report, done, started = Report(), 0, time.monotonic()

    def records() -> Iterator[Record]:
        nonlocal done
        for path in archive.files(options.source):  # type: ignore[arg-type]
            for found in (archive.read(path, options.max_bytes) if isinstance(path, Path)
                          else [path]):
                if isinstance(found, Skipped):
                    report.skip(found)
                    continue
                report.read += 1
                if _already_stored(store, found):
                    report.duplicates += 1
                    continue
                yield found
            done += 1
            if progress is not None:
                progress(report, done)

    tasks = ((_prepare_many, (chunk, options.notify), sum(map(_size, chunk)))
             for chunk in _chunks(records(), min(4, options.batch), _size, 2**20))
    batch: list[NewArticle] = []
    with _pool(options.workers, watchlists) as pool:
        # Eight chunks in flight per worker: it stays busy while this process stores a batch.
        for results in _pipelined(pool, tasks, options.workers * 8,
                                  options.workers * IN_FLIGHT, stop):
            for result in results:
                if isinstance(result, Skipped):
                    report.skip(result)
                elif _outside(result.published, options):
                    report.outside += 1
                else:
                    batch.append(result)
            if len(batch) >= options.batch:
                _store_batch(store, batch, report, clock())
                batch = []
        _store_batch(store, batch, report, clock())
    report.interrupted = stop()
    report.elapsed = time.monotonic() - started
    return report


def _size(item: Record | StoredArticle) -> int:
    """Roughly the bytes an article holds (its text counted once per character)."""
    if isinstance(item, Record):
        return len(item.html or b"") + len(item.text or "")
    return len(item.page or b"") + len(item.text) + len(item.title or "")


def _already_stored(store: Store, record: Record) -> bool:
    if store.article_id_by_url(canonical_url(record.url)) is not None:
        return True
    return bool(record.url_is_path and record.text is not None
                and store.article_id_by_hash(content_hash(record.text)) is not None)


def _outside(published: datetime | None, options: Options) -> bool:
    if published is None:
        return False
    return bool((options.since and published < options.since)
                or (options.until and published >= options.until))


def _store_batch(store: Store, batch: list[NewArticle], report: Report, now: datetime) -> None:
    if not batch:
        return
    for stored in store.add_articles(batch, now):
        if stored.duplicate:
            report.duplicates += 1
        else:
            report.new_articles += 1
            report.new_stories += int(stored.new_story)
            report.new_hits += stored.new_hits


def rematch_stored(store: Store, watchlists: Sequence[Watchlist], options: Options,
                   clock: Callable[[], datetime], stop: StopCheck = _never,
                   progress: Progress | None = None) -> Report:
    """`backfill` without --from: match stored articles again, resuming an unfinished run."""
    report, started = Report(), time.monotonic()
    key, described = run_key(options, watchlists)
    run = store.backfill_run(key)
    start = run.last_article_id if run is not None and not run.finished else 0
    report.resumed_after = start or None

    def articles() -> Iterator[list[StoredArticle]]:
        after = start
        while page := store.articles_after(after, options.batch, since=options.since,
                                           until=options.until, feed_id=options.feed_id,
                                           pages=options.reextract):
            after = page[-1].id
            yield page

    chunk = min(options.batch, 25 if not options.reextract else 4)
    with_rules = any(w.rules for w in watchlists)  # rules' lang:, country:, feed: need these
    tasks = ((_rematch_many, (part, options.reextract, options.notify,
                              article_meta(store, [a.id for a in part]) if with_rules else None),
              sum(map(_size, part)))
             for page in articles() for part in _chunks(page, chunk, _size, 2**20))
    found: list[Rematched] = []
    with _pool(options.workers, watchlists) as pool:
        for results in _pipelined(pool, tasks, options.workers * 8,
                                  options.workers * IN_FLIGHT, stop):
            found += results
            if len(found) >= options.batch:
                _store_hits(store, found, report, key, described, clock())
                if progress is not None:
                    progress(report, report.read)
                found = []
        _store_hits(store, found, report, key, described, clock())
    report.interrupted = stop()
    if not report.interrupted:
        store.finish_backfill_run(key, described, clock())
    report.elapsed = time.monotonic() - started
    return report


def _store_hits(store: Store, found: list[Rematched], report: Report, key: str,
                described: str, now: datetime) -> None:
    if not found:
        return
    for item in found:
        if item.extracted is not None:
            e = item.extracted
            store.update_text(item.article_id, e.title, e.text, e.author, e.language)
            report.reextracted += 1
    report.new_hits += store.add_hits([(f.article_id, f.story_id, f.hits) for f in found], now)
    report.read += len(found)
    store.save_backfill_run(key, described, found[-1].article_id, now)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)
