"""/healthz and /metrics, `monitor health` and `monitor status`: health follows the
database (taken away through a proxy and brought back) and the poll cycle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.channels import channel as make_channel
from monitor.cli import main
from monitor.config.delivery import DigestConfig
from monitor.health import HttpServer
from monitor.scheduler import Daemon
from monitor.store import Store
from monitor.watchlist import load_watchlists
from tests.support import ROOT, Proxy, Server, free_port, postgres_or_skip
from tests.test_pipeline import config_for, one_article_feed


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture
def proxied_postgres() -> Iterator[tuple[str, Proxy]]:
    url = postgres_or_skip()
    proxy = Proxy(("127.0.0.1", 5432))
    yield url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"), proxy
    proxy.stop()


def test_healthz_follows_the_database_and_the_poll_cycle(
        proxied_postgres: tuple[str, Proxy], capsys: pytest.CaptureFixture[str]) -> None:
    url, proxy = proxied_postgres
    store = Store(url)
    clock = Clock()
    config = replace(config_for(url, []), digests=())
    daemon = Daemon(config, store, load_watchlists(config.watchlists), clock)
    server = HttpServer("127.0.0.1", 0, daemon.health(lambda: True), daemon.metrics)
    healthz = f"http://127.0.0.1:{server.port}/healthz"
    try:
        daemon.poll()
        status, body = get(healthz)
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert main(["health", "--url", healthz]) == 0
        proxy.stop()  # the database goes away
        status, body = get(healthz)
        assert status == 503
        assert json.loads(body)["checks"]["database"].startswith("not answering")
        assert main(["health", "--url", healthz]) == 1
        assert '"database": "not answering' in capsys.readouterr().out
        proxy.start()  # and comes back
        status, body = get(healthz)
        assert status == 200, body
        clock.now += timedelta(hours=1)  # no poll cycle for 4 x the 15-minute interval
        status, body = get(healthz)
        assert status == 503 and "last poll cycle finished at" in \
            json.loads(body)["checks"]["poll"]
        daemon.poll()
        assert get(healthz)[0] == 200
    finally:
        server.close()
        store.close()


def test_metrics(server: Server, store: Store, tmp_path: Path) -> None:
    one_article_feed(server)
    digest = DigestConfig("daily", "0 7 * * *", "UTC",
                          channels=(make_channel("file", dir=str(tmp_path / "outbox")),))
    config = replace(config_for(str(store.engine.url), [server.url("/feed")]),
                     digests=(digest,))
    clock = Clock()
    daemon = Daemon(config, store, load_watchlists(config.watchlists), clock)
    daemon.once()
    clock.now = datetime(2026, 11, 25, 7, 0, 30, tzinfo=UTC)
    daemon.once()
    http = HttpServer("127.0.0.1", 0, daemon.health(lambda: True), daemon.metrics)
    try:
        status, text = get(f"http://127.0.0.1:{http.port}/metrics")
    finally:
        http.close()
    assert status == 200
    for line in ('monitor_polls_total{outcome="ok"} 1.0',
                 'monitor_polls_total{outcome="not_modified"} 1.0',
                 'monitor_feeds{state="active"} 1.0', 'monitor_feeds{state="failing"} 0.0',
                 'monitor_fetch_seconds_count{kind="page"} 1.0',
                 'monitor_fetch_seconds_count{kind="feed"} 2.0',
                 "monitor_extract_seconds_count 1.0", "monitor_articles_total 1.0",
                 "monitor_stories_total 1.0",
                 'monitor_deliveries_total{channel="file",outcome="sent"} 1.0',
                 'monitor_delivery_queue{status="sent"} 1.0',
                 'monitor_stored{table="articles"} 1.0'):
        assert line in text, f"{line!r} not in /metrics"
    assert "monitor_hits_total" in text


def test_status_command(server: Server, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(f"database: sqlite:///{tmp_path / 'm.db'}\n"
                      f"watchlists: {ROOT / 'watchlists'}\n"
                      f"fetch: {{allow_private_addresses: true, timeout: 2s}}\n"
                      f"feeds: ['{server.url('/missing')}']\n")
    assert main(["-c", str(config), "poll", "--once"]) == 1  # its only feed failed
    capsys.readouterr()
    assert main(["-c", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert "feeds: 0 ok, 1 failing, 0 disabled; last poll 20" in out
    assert "deliveries: 0 pending" in out and "404" in out
    assert main(["-c", str(config), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["feeds"]["failing"] == 1


def test_the_daemon_serves_healthz(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "monitor.yaml"
    config.write_text(f"database: sqlite:///{tmp_path / 'm.db'}\n"
                      f"watchlists: {ROOT / 'watchlists'}\nfeeds: []\n"
                      f"server: {{host: 127.0.0.1, port: {port}}}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "monitor", "-c", str(config), "run"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while main(["-c", str(config), "health"]) != 0:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the daemon never became healthy"
            time.sleep(0.2)
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
