"""Backfill: re-matching stored articles and importing saved ones, on SQLite and PostgreSQL,
with real worker processes."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from monitor.backfill import Options, Report, _pipelined, import_files, rematch_stored
from monitor.cli import main
from monitor.extract import Extracted
from monitor.ingest import Analyser, analyse
from monitor.store import Store
from monitor.store.models import BackfillRun, Hit
from monitor.store.queries import article_rows, hit_rows
from monitor.watchlist import Watchlist
from tests.support import (
    ROOT,
    Receiver,
    Reply,
    Server,
    article_html,
    assert_consistent,
    rss,
    watchlist_from_yaml,
)
from tests.test_archive import http_response, response, write_warc
from tests.test_pipeline import OTHER, PARAGRAPHS, config_for, run
from tests.test_pipeline import Clock as PollClock

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
OLD = """watchlist: desk
entries:
  - {id: putin, kind: actor, name: Vladimir Putin, aliases: [Putin]}
"""
NEW = OLD + """  - {id: zelensky, kind: actor, name: Volodymyr Zelensky, aliases: [Zelensky]}
  - {id: pyongyang, kind: place, name: Pyongyang}
"""


def clock() -> datetime:
    return NOW


def watchlists(text: str) -> list[Watchlist]:
    return [watchlist_from_yaml(text)]


def stored(store: Store, n: int, text: str, *, published: datetime | None = None,
           watchlist: str = OLD, page: bytes | None = None) -> int:
    analyser = Analyser.create(watchlists(watchlist))
    extracted = Extracted(text=text, title=f"Article {n}", author=None, published=published,
                          language="en", canonical_url=None, source="page")
    new = analyse(analyser, extracted, url=f"https://n.example/{n}", feed_id=None, item=None,
                  key=None, page=page, content_type="text/html")
    return store.add_article(new, NOW - timedelta(days=1)).article_id


def entries(store: Store) -> list[tuple[str, str, bool]]:
    return sorted((h["entry"], h["found_by"], h["notify"]) for h in hit_rows(store))


# --- re-matching stored articles ---------------------------------------------------------


def test_rematch_adds_the_new_entries_hits_and_leaves_the_old_ones(store: Store) -> None:
    stored(store, 1, " ".join(PARAGRAPHS))
    stored(store, 2, " ".join(OTHER))
    before = {h["entry"]: h for h in hit_rows(store)}
    assert set(before) == {"putin"}
    report = rematch_stored(store, watchlists(NEW), Options(workers=2), clock)
    assert (report.read, report.new_hits, report.interrupted) == (2, 2, False)
    assert entries(store) == [("putin", "poll", True), ("pyongyang", "backfill", False),
                              ("zelensky", "backfill", False)]
    after = {h["entry"]: h for h in hit_rows(store)}
    assert after["putin"] == before["putin"]  # untouched: same id, time, version, snippet
    assert after["zelensky"]["watchlist_version"] != after["putin"]["watchlist_version"]
    again = rematch_stored(store, watchlists(NEW), Options(), clock)
    assert (again.read, again.new_hits) == (2, 0)  # idempotent


def test_rematch_with_notify_marks_hits_for_the_next_digest(store: Store) -> None:
    stored(store, 1, " ".join(PARAGRAPHS))
    rematch_stored(store, watchlists(NEW), Options(notify=True), clock)
    assert ("pyongyang", "backfill", True) in entries(store)


@pytest.mark.parametrize("notify", [False, True])
def test_backfill_hits_reach_the_next_digest_only_with_notify(
        store: Store, receiver: Receiver, notify: bool) -> None:
    from monitor.channels import channel as make_channel
    from monitor.config import Config
    from monitor.config.delivery import DigestConfig
    from monitor.deliver import deliver, ensure_schedules, run_digests
    from monitor.render import Renderer

    hook = make_channel("webhook", url=receiver.url(), allow_private_addresses=True)
    config = Config(digests=(DigestConfig("daily", "0 7 * * *", channels=(hook,)),))
    ensure_schedules(store, config, NOW - timedelta(days=2))
    stored(store, 1, " ".join(PARAGRAPHS))  # polled a day ago: its putin hit is notified
    rematch_stored(store, watchlists(NEW), Options(notify=notify), clock)
    run_digests(store, config, Renderer(), NOW + timedelta(days=1))
    deliver(store, config, NOW + timedelta(days=1))
    [got] = receiver.received
    body = json.loads(got.body)
    listed = {w["entry"] for wl in body["watchlists"] for e in wl["entries"]
              for s in e["stories"] for w in s["why"]}
    assert listed == ({"putin", "pyongyang"} if notify else {"putin"})


def test_rematch_window_and_feed(store: Store) -> None:
    june = datetime(2024, 6, 19, tzinfo=UTC)
    stored(store, 1, " ".join(PARAGRAPHS), published=june)
    stored(store, 2, " ".join(OTHER), published=june + timedelta(days=30))
    report = rematch_stored(store, watchlists(NEW), Options(
        since=june - timedelta(days=1), until=june + timedelta(days=1)), clock)
    assert report.read == 1 and [e for e, *_ in entries(store)] == ["putin", "pyongyang"]
    feed, _ = store.add_feed("http://f.example/rss", NOW)
    assert rematch_stored(store, watchlists(NEW), Options(feed_id=feed.id), clock).read == 0


def test_an_interrupted_rematch_resumes_where_it_stopped(store: Store) -> None:
    for n in range(7):  # seven different stories, all naming Zelensky
        stored(store, n, " ".join(f"w{n}x{i}" for i in range(40)) + " Zelensky spoke.")
    batches: list[int] = []

    def stop_after_first_batch() -> bool:
        return bool(batches)

    def progress(report: Report, done: int) -> None:
        batches.append(done)

    first = rematch_stored(store, watchlists(NEW), Options(batch=3), clock,
                           stop_after_first_batch, progress)
    assert first.interrupted and first.read == 3
    with store.session() as s:
        run_state = s.scalars(select(BackfillRun)).one()
    assert not run_state.finished
    second = rematch_stored(store, watchlists(NEW), Options(batch=3), clock)
    assert second.resumed_after == run_state.last_article_id
    assert first.read + second.read == 7 and not second.interrupted
    assert first.new_hits + second.new_hits == 7
    with store.session() as s:
        assert len(s.scalars(select(Hit).where(Hit.entry == "zelensky")).all()) == 7
        assert s.scalars(select(BackfillRun)).one().finished
    # a finished run, run again, starts from the beginning (and adds nothing)
    third = rematch_stored(store, watchlists(NEW), Options(batch=3), clock)
    assert (third.resumed_after, third.read, third.new_hits) == (None, 7, 0)


def test_reextract_reads_the_kept_page(store: Store) -> None:
    page = article_html("Putin in Pyongyang", PARAGRAPHS)
    article = stored(store, 1, "An old, poorly extracted text about nothing in particular.",
                     page=page)
    report = rematch_stored(store, watchlists(NEW), Options(reextract=True), clock)
    assert (report.reextracted, report.new_hits) == (1, 2)
    text = next(a.text for a in article_rows(store) if a.article_id == article)
    assert "Comprehensive Strategic Partnership Treaty" in text


# --- importing saved articles ------------------------------------------------------------


def archive(folder: Path) -> Path:
    folder.mkdir()
    (folder / "pyongyang.html").write_bytes(
        article_html("Putin in Pyongyang", PARAGRAPHS, canonical="https://n.example/pyongyang"))
    (folder / "sub").mkdir()
    (folder / "sub" / "kyiv.htm.gz").write_bytes(gzip.compress(
        article_html("Zelensky asks for air defence", OTHER)))
    (folder / "hanoi.txt").write_text("Putin in Hanoi\n" + " ".join(PARAGRAPHS[3:]) * 3)
    (folder / "wire.jsonl").write_text(
        json.dumps({"url": "https://wire.example/1", "title": "Wire: Putin and Kim",
                    "text": " ".join(PARAGRAPHS[:2]), "published": "2024-06-19T02:00:00Z"})
        + "\n{not json\n")
    with (folder / "crawl.warc.gz").open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        body = article_html("Kim welcomes Putin", PARAGRAPHS[1:] + OTHER[:1])
        writer.write_record(writer.create_warc_record(
            "https://crawl.example/kim", "response", payload=io.BytesIO(body),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                          protocol="HTTP/1.1")))
    (folder / "image.html").write_bytes(b"\x89PNG\x00\x00" * 50)
    return folder


def test_import_every_format_then_again_adds_nothing(store: Store, tmp_path: Path) -> None:
    folder = archive(tmp_path / "saved")
    report = import_files(store, watchlists(NEW), Options(source=folder, workers=2), clock)
    assert (report.read, report.new_articles, report.skipped) == (5, 5, 2)
    assert {p.reason for p in report.problems} == {"binary, not text",
                                                   "not valid JSON: Expecting property name "
                                                   "enclosed in double quotes: line 1 column 2 "
                                                   "(char 1)"}
    urls = {a["url"]: a for a in (row.as_json() for row in article_rows(store))}
    assert {"https://n.example/pyongyang", "https://wire.example/1",
            "https://crawl.example/kim"} <= set(urls)
    assert urls["https://wire.example/1"]["published"] == "2024-06-19T02:00:00Z"
    assert urls["https://wire.example/1"]["title"] == "Wire: Putin and Kim"
    hanoi = next(a for u, a in urls.items() if u.endswith("hanoi.txt"))
    assert hanoi["title"] == "Putin in Hanoi" and hanoi["text_source"] == "text"
    hits = hit_rows(store)
    assert hits and all(h["found_by"] == "backfill" and not h["notify"] for h in hits)
    assert {"putin", "zelensky", "pyongyang"} <= {h["entry"] for h in hits}
    again = import_files(store, watchlists(NEW), Options(source=folder), clock)
    assert (again.read, again.new_articles, again.duplicates, again.new_hits) == (5, 0, 5, 0)


def test_a_copy_under_another_path_is_the_same_article(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "one.txt").write_text("Putin in Hanoi\n" + " ".join(PARAGRAPHS))
    (folder / "copy.html").write_bytes(article_html("Putin in Hanoi", PARAGRAPHS))
    import_files(store, watchlists(NEW), Options(source=folder / "one.txt"), clock)
    moved = tmp_path / "b"
    moved.mkdir()
    (moved / "renamed.txt").write_text("Putin in Hanoi\n" + " ".join(PARAGRAPHS))
    report = import_files(store, watchlists(NEW), Options(source=moved), clock)
    assert (report.new_articles, report.duplicates) == (0, 1)
    assert store.counts().articles == 1


def test_import_of_a_page_the_daemon_polled_adds_nothing(store: Store, server: Server,
                                                         hosts: dict[str, str],
                                                         tmp_path: Path) -> None:
    page = article_html("Putin in Pyongyang", PARAGRAPHS, canonical="https://n.example/p")
    server.routes["/p"] = Reply(200, page)
    hosts["n.example"] = "127.0.0.1"  # polled from its own site: its canonical link counts
    server.routes["/world.rss"] = Reply(200, rss([{
        "title": "Putin in Pyongyang", "link": f"http://n.example:{server.port}/p"}]))
    summary = run(store, config_for(store.url, [server.url("/world.rss")]), PollClock())
    assert summary.articles_new == 1
    (tmp_path / "saved.html").write_bytes(page)
    report = import_files(store, watchlists(NEW), Options(source=tmp_path / "saved.html"),
                          clock)
    assert (report.read, report.duplicates, report.new_articles) == (1, 1, 0)
    assert store.counts().articles == 1


def test_import_notify_and_window(store: Store, tmp_path: Path) -> None:
    lines = [{"url": f"https://w.example/{m}", "text": " ".join(PARAGRAPHS),
              "published": f"2024-{m:02d}-15T00:00:00Z"} for m in (5, 6, 7)]
    (tmp_path / "w.jsonl").write_text("\n".join(json.dumps(x) for x in lines))
    report = import_files(store, watchlists(OLD), Options(
        source=tmp_path / "w.jsonl", notify=True, since=datetime(2024, 6, 1, tzinfo=UTC),
        until=datetime(2024, 7, 1, tzinfo=UTC)), clock)
    assert (report.new_articles, report.outside) == (1, 2)
    assert entries(store) == [("putin", "backfill", True)]


def test_an_interrupted_import_carries_on(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(12):
        (folder / f"{n:02d}.txt").write_text(f"Story {n}\nPutin said {n} things. " * 10)
    first = import_files(store, watchlists(OLD), Options(source=folder, batch=4), clock,
                         lambda: store.counts().articles > 0)
    assert first.interrupted and first.new_articles == 4
    second = import_files(store, watchlists(OLD), Options(source=folder, batch=4), clock)
    assert second.duplicates == first.new_articles
    assert first.new_articles + second.new_articles == 12
    assert store.counts().articles == 12 and store.counts().hits == 12


# --- the command --------------------------------------------------------------------------


def _config(tmp_path: Path, db_url: str, watchlist: str = NEW) -> str:
    (tmp_path / "wl").mkdir(exist_ok=True)
    (tmp_path / "wl" / "desk.yaml").write_text(watchlist)
    path = tmp_path / "monitor.yaml"
    path.write_text(f"database: {db_url}\nwatchlists: {tmp_path / 'wl'}\nfeeds: []\n")
    return str(path)


def test_backfill_command(tmp_path: Path, db_url: str,
                          capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, db_url)
    folder = archive(tmp_path / "saved")
    assert main(["-c", config, "backfill", "--from", str(folder), "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "backfill: read 5, new articles 5, duplicates 0" in captured.out
    assert "skipped 2" in captured.out
    assert "image.html: binary, not text" in captured.err
    assert main(["-c", config, "backfill", "--from", str(folder), "--strict"]) == 1
    assert "duplicates 5" in capsys.readouterr().out
    assert main(["-c", config, "backfill", "--since", "2024-01-01", "--until", "2030-01-01",
                 "--watchlist", "desk", "--workers", "1"]) == 0
    assert "read 5, new articles 0" in capsys.readouterr().out
    assert main(["-c", config, "hits", "--json"]) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert hits and {h["found_by"] for h in hits} == {"backfill"}
    for bad, message in [
        (["--from", str(tmp_path / "nope")], "no such file or folder"),
        (["--from", str(folder), "--reextract"], "cannot be combined with --from"),
        (["--watchlist", "desc"], "did you mean 'desk'"),
        (["--since", "2024-06-01", "--until", "2024-05-01"], "is not before --until"),
        (["--workers", "0"], "--workers 0: at least 1"),
        (["--feed", "99"], "no such feed"),
    ]:
        assert main(["-c", config, "backfill", *bad]) == 2, bad
        assert message in capsys.readouterr().err, bad


def test_a_warc_response_without_target_uri_is_a_reported_skip(
        tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15, item 12: it was an AttributeError inside warcio that ended the run."""
    config = _config(tmp_path, db_url)
    folder = tmp_path / "crawl"
    folder.mkdir()
    write_warc(folder / "a.warc.gz", [
        response("https://n.example/a", http_response(article_html("Putin", PARAGRAPHS))),
        response(None, http_response(article_html("Putin", PARAGRAPHS))),
        response("https://n.example/b", http_response(article_html("Zelensky", OTHER)))])
    (folder / "z.txt").write_text("Putin in Hanoi\n" + " ".join(PARAGRAPHS[3:]) * 3)
    assert main(["-c", config, "backfill", "--from", str(folder), "--workers", "1"]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert f"skipped {folder / 'a.warc.gz'}#2: response record without a WARC-Target-URI" \
        in err.splitlines()
    assert "read 3, new articles 3, duplicates 0" in out and "skipped 1" in out
    store = Store(db_url)
    try:
        assert {"https://n.example/a", "https://n.example/b"} <= {
            a.url for a in article_rows(store)}
    finally:
        store.close()
    assert main(["-c", config, "backfill", "--from", str(folder), "--strict"]) == 1


def test_the_issue_tree_is_read_once_and_large_files_are_skipped_unread(
        tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15, item 13: one .txt, sub/up -> .. and two 50 MB files ran 10 minutes at
    1.6 GB and stored nothing."""
    config = _config(tmp_path, db_url)
    folder = tmp_path / "tree"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "up").symlink_to("..")
    (folder / "a.txt").write_text("Putin in Hanoi\n" + " ".join(PARAGRAPHS[3:]) * 3)
    (folder / "again.txt").symlink_to("a.txt")
    for name in ("big.html", "big.txt"):
        with (folder / name).open("wb") as handle:
            handle.truncate(50_000_000)  # sparse: no disk used
    assert main(["-c", config, "backfill", "--from", str(folder), "--workers", "1"]) == 0
    out, err = capsys.readouterr()
    assert "read 1, new articles 1, duplicates 0" in out and "skipped 2" in out
    assert f"skipped {folder / 'big.html'}: file larger than fetch.max_bytes " \
           "(10,000,000 bytes)" in err
    # fetch.max_bytes is the limit, as for a polled page
    (tmp_path / "monitor.yaml").write_text(
        (tmp_path / "monitor.yaml").read_text() + "fetch: {max_bytes: 1KB}\n")
    (folder / "b.txt").write_text("Putin in Pyongyang\n" + " ".join(PARAGRAPHS) * 3)
    assert main(["-c", config, "backfill", "--from", str(folder), "--workers", "1"]) == 0
    out, err = capsys.readouterr()
    assert "read 1, new articles 0, duplicates 1" in out and "skipped 3" in out
    assert f"skipped {folder / 'b.txt'}: file larger than fetch.max_bytes (1,000 bytes)" in err


def test_the_work_in_flight_is_bounded_in_bytes() -> None:
    """However many tasks the window allows, no more than the budget (and one task) is
    held in flight: a folder of large pages does not pile up in the reading process."""
    in_flight, most = 0, 0

    def tasks() -> Iterator[tuple[Callable[..., Any], tuple[Any, ...], int]]:
        nonlocal in_flight, most
        for n in range(40):
            in_flight += 10
            most = max(most, in_flight)
            yield str, (n,), 10

    results = []
    with ThreadPoolExecutor(2) as pool:
        for result in _pipelined(pool, tasks(), 100, 25, lambda: False):
            in_flight -= 10
            results.append(result)
    assert results == [str(n) for n in range(40)]
    assert most == 30  # submitted while under 25


def test_ctrl_c_stops_after_the_batch_and_the_same_command_carries_on(
        tmp_path: Path, db_url: str) -> None:
    config = _config(tmp_path, db_url, OLD)
    folder = tmp_path / "pages"
    folder.mkdir()
    for n in range(150):
        (folder / f"{n:03d}.html").write_bytes(article_html(
            f"Story {n}", [f"Report number {n}.", *PARAGRAPHS, *OTHER],
            canonical=f"https://n.example/{n}"))
    command = [sys.executable, "-m", "monitor", "-c", config, "backfill", "--from",
               str(folder), "--workers", "1", "--batch", "5"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=tmp_path)
    store = Store(db_url)
    try:
        deadline = time.monotonic() + 60
        while store.counts().articles == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 130, (out, err)
        assert "stopping after the current batch" in err
        assert "interrupted" in out
        partial = store.counts().articles
        assert 0 < partial < 150
        again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                               timeout=120, check=False)
        assert again.returncode == 0, again.stderr
        assert f"duplicates {partial}" in again.stdout
        assert store.counts().articles == 150
        # the pages differ by one sentence: one story, so one hit
        assert (store.counts().stories, store.counts().hits) == (1, 1)
    finally:
        if process.poll() is None:
            process.kill()
        store.close()


def stories(folder: Path, count: int) -> Path:
    """``count`` pages of different stories, each naming Putin once."""
    folder.mkdir()
    for n in range(count):
        (folder / f"{n:04d}.html").write_bytes(article_html(
            f"Story {n}", [" ".join(f"w{n}x{p}y{i}" for i in range(40)) + "." for p in range(3)]
            + ["Putin spoke."], canonical=f"https://n.example/{n}"))
    return folder


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("target", ["process", "group"])
def test_sigterm_stores_the_batch_in_hand_exits_143_and_the_same_command_carries_on(
        tmp_path: Path, db_url: str, target: str) -> None:
    """Issue 15, item 14: SIGTERM (kill, docker stop: the process; systemd: its whole
    group, workers included) stopped a backfill at once and lost the batch in hand."""
    config = _config(tmp_path, db_url, OLD)
    folder = stories(tmp_path / "pages", 150)
    command = [sys.executable, "-m", "monitor", "-c", config, "backfill", "--from",
               str(folder), "--workers", "2", "--batch", "5"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=tmp_path, start_new_session=True)
    store = Store(db_url)
    try:
        deadline = time.monotonic() + 60
        while store.counts().articles == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        if target == "group":
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 143, (out, err)
        assert "Traceback" not in err
        assert "stopping after the current batch (SIGTERM again to quit at once)" in err
        assert "interrupted: run the same command again" in out
        partial = store.counts().articles
        assert 0 < partial < 150
        assert assert_consistent(store).hits == partial
        again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                               timeout=120, check=False)
        assert again.returncode == 0, again.stderr
        assert f"read 150, new articles {150 - partial}, duplicates {partial}" in again.stdout
        counts = assert_consistent(store)  # every page stored once, one hit per story
        assert (counts.articles, counts.stories, counts.hits) == (150, 150, 150)
    finally:
        if process.poll() is None:
            process.kill()
        store.close()


def test_a_worker_killed_under_the_run_ends_it_with_a_message_not_a_hang(
        tmp_path: Path, db_url: str) -> None:
    """Workers wait for their SIGTERM from the parent only; the pool still ends the others
    when one dies (out of memory, kill -9), and the run says so (exit 1, no traceback)."""
    config = _config(tmp_path, db_url, OLD)
    folder = stories(tmp_path / "pages", 600)
    command = [sys.executable, "-m", "monitor", "-c", config, "backfill", "--from",
               str(folder), "--workers", "2", "--batch", "5"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=tmp_path)
    store = Store(db_url)
    try:
        deadline = time.monotonic() + 60
        while store.counts().articles == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = [w for server in children(process.pid) for w in children(server)]
        assert workers, "no worker processes found"
        os.kill(workers[0], signal.SIGKILL)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 1, (out, err)
        assert "Traceback" not in err
        assert "a worker process died (killed, or out of memory?); what was stored is kept" \
            in err
        again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path,
                               timeout=180, check=False)
        assert again.returncode == 0, again.stderr
        counts = assert_consistent(store)
        assert (counts.articles, counts.stories, counts.hits) == (600, 600, 600)
    finally:
        if process.poll() is None:
            process.kill()
        store.close()
