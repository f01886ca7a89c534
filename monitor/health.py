"""Health and metrics over HTTP (`server: {host, port}`), for the container and Prometheus.

    /healthz   200 {"status": "ok", ...} when the scheduler runs, the database answers and a
               poll cycle finished recently (3 x the shortest feed interval); else 503 with
               the reason in "checks"
    /metrics   Prometheus text: feeds by state, polls by outcome, fetch and extract
               durations, articles, stories, hits, deliveries by channel and outcome, the
               delivery queue, stored counts

`monitor health` asks /healthz and exits 0 or 1 (the image's HEALTHCHECK: no curl there).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from monitor.display import mask_url, safe
from monitor.errors import UsageError
from monitor.store import Store, queries
from monitor.web.server import ThreadedServer

_TIME_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60)


class Metrics:
    """The daemon's counters and histograms; gauges come from the store when scraped."""

    def __init__(self, store: Store | None = None) -> None:
        self.registry = CollectorRegistry()
        self.polls = Counter("monitor_polls", "Feed polls by outcome", ["outcome"],
                             registry=self.registry)
        self.fetch_seconds = Histogram("monitor_fetch_seconds", "Feed and page fetch time",
                                       ["kind"], buckets=_TIME_BUCKETS, registry=self.registry)
        self.extract_seconds = Histogram("monitor_extract_seconds", "Text extraction time",
                                         buckets=_TIME_BUCKETS, registry=self.registry)
        self.articles = Counter("monitor_articles", "New articles stored",
                                registry=self.registry)
        self.stories = Counter("monitor_stories", "New stories", registry=self.registry)
        self.hits = Counter("monitor_hits", "New hits", registry=self.registry)
        self.deliveries = Counter("monitor_deliveries", "Delivery attempts by outcome",
                                  ["channel", "outcome"], registry=self.registry)
        if store is not None:
            self.registry.register(_StoreCollector(store))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def observe(self, kind: str, seconds: float) -> None:
        """pipeline.Context.observe: "feed" and "page" fetches, "extract"."""
        if kind == "extract":
            self.extract_seconds.observe(seconds)
        else:
            self.fetch_seconds.labels(kind).observe(seconds)

    def record_poll(self, summary: Any) -> None:
        """Counts from a pipeline.Summary."""
        ok = summary.feeds_polled - summary.failed - summary.not_modified
        for outcome, n in (("ok", ok), ("not_modified", summary.not_modified),
                           ("failed", summary.failed)):
            if n:
                self.polls.labels(outcome).inc(n)
        self.articles.inc(summary.articles_new)
        self.stories.inc(summary.stories_new)
        self.hits.inc(summary.hits_new)
        self.record_deliveries(summary.deliveries)

    def record_deliveries(self, outcomes: list[tuple[str, str]]) -> None:
        for channel, outcome in outcomes:
            self.deliveries.labels(channel, outcome).inc()


class _StoreCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        feeds = GaugeMetricFamily("monitor_feeds", "Feeds by state", labels=["state"])
        queue = GaugeMetricFamily("monitor_delivery_queue", "Deliveries by status",
                                  labels=["status"])
        stored = GaugeMetricFamily("monitor_stored", "Rows in the store", labels=["table"])
        try:
            by_state, by_status = queries.feed_counts(self.store), queries.delivery_counts(
                self.store)
            counts = self.store.counts()
        except Exception:  # the database is away: /healthz says so; metrics stay scrapeable
            return
        for state in ("active", "failing", "disabled", "paused"):  # removed feeds: none
            feeds.add_metric([state], getattr(by_state, state))
        for status, n in by_status.as_json().items():
            queue.add_metric([status], n)
        for table, n in counts.as_json().items():
            stored.add_metric([table], n)
        yield from (feeds, queue, stored)


@dataclass
class Health:
    """What /healthz checks; the daemon updates ``last_cycle`` and ``running``."""

    store: Store
    clock: Callable[[], datetime]
    max_quiet: timedelta
    started: datetime
    running: Callable[[], bool] = lambda: True
    last_cycle: Callable[[], datetime | None] = lambda: None
    polls: bool = True  # False: `monitor web` alone (no scheduler here): the database only

    def check(self) -> tuple[bool, dict[str, Any]]:
        now = self.clock()
        checks = {"scheduler": "ok" if self.running() else "not running"} if self.polls else {}
        try:
            self.store.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"not answering: {type(exc).__name__}"
        last = self.last_cycle()
        if not self.polls:
            ok = checks["database"] == "ok"
            return ok, {"status": "ok" if ok else "fail", "checks": checks, "last_cycle": None}
        since = last or self.started
        if now - since <= self.max_quiet:
            checks["poll"] = "ok"
        else:
            what = f"last poll cycle finished at {since.isoformat()}" if last \
                else f"no poll cycle finished since the start at {since.isoformat()}"
            checks["poll"] = f"{what}, more than {self.max_quiet} ago"
        ok = all(v == "ok" for v in checks.values())
        return ok, {"status": "ok" if ok else "fail", "checks": checks,
                    "last_cycle": last.isoformat() if last else None}


def health_routes(health: Health, metrics: Metrics,
                  metrics_token: str | None = None) -> list[Route]:
    """/healthz (always open: the container's check) and /metrics (behind ``metrics_token``,
    as ``Authorization: Bearer``, when one is configured)."""

    def healthz(request: Request) -> Response:
        ok, body = health.check()
        return Response(json.dumps(body), 200 if ok else 503, media_type="application/json")

    def prometheus(request: Request) -> Response:
        if metrics_token and not bearer_matches(request.headers.get("authorization"),
                                                metrics_token):
            return PlainTextResponse("/metrics needs Authorization: Bearer <metrics token>\n",
                                     401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return [Route("/healthz", healthz), Route("/metrics", prometheus)]


def bearer_matches(header: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        hashlib.sha256(given.strip().encode()).digest(), hashlib.sha256(token.encode()).digest())


def _not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("not found: /healthz or /metrics\n", 404)


class HttpServer(ThreadedServer):
    """/healthz and /metrics alone (``web: false``), on uvicorn in a thread."""

    def __init__(self, host: str, port: int, health: Health, metrics: Metrics,
                 metrics_token: str | None = None) -> None:
        app = Starlette(routes=health_routes(health, metrics, metrics_token),
                        exception_handlers={404: _not_found})
        super().__init__(app, host, port)


_HEALTH_LIMIT = 65536  # bytes of an answer read: /healthz says a few hundred


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """/healthz answers itself: a redirect (to file:, ftp: or elsewhere) is not followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def check_health_url(url: str) -> str | None:
    """What is wrong with a /healthz URL (it must be http or https, with a host), or None."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        return (f"--url {mask_url(url)!r}: give the daemon's http(s) /healthz URL "
                "(e.g. http://127.0.0.1:8080/healthz)")
    return None


def probe(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    """GET /healthz: (healthy, what it said).  Healthy only when the answer is 200 and the
    health JSON with ``"status": "ok"``; another answer is described, never printed (a URL
    could point anywhere).  Only http(s): other URLs raise UsageError."""
    problem = check_health_url(url)
    if problem:
        raise UsageError(problem)
    shown = mask_url(url)
    opener = urllib.request.build_opener(_NoRedirects())
    try:
        with opener.open(url, timeout=timeout) as response:
            status, headers = response.status, response.headers
            body = response.read(_HEALTH_LIMIT + 1)
    except urllib.error.HTTPError as exc:
        status, headers = exc.code, exc.headers
        body = exc.read(_HEALTH_LIMIT + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"no answer from {shown}: {safe(str(reason))}"
    answer = _health_json(body)
    if answer is None:
        kind = (headers.get("Content-Type") or "no content type").split(";")[0]
        size = f"more than {_HEALTH_LIMIT}" if len(body) > _HEALTH_LIMIT else str(len(body))
        return False, (f"{shown} answered HTTP {status} ({kind}, {size} bytes), not monitor's "
                       "health JSON: is this the daemon's /healthz?")
    return status == 200 and answer.get("status") == "ok", safe(json.dumps(answer))


def _health_json(body: bytes) -> dict[str, Any] | None:
    """The health answer ({"status": ..., "checks": {...}}), or None for anything else."""
    if len(body) > _HEALTH_LIMIT:
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if (isinstance(data, dict) and isinstance(data.get("status"), str)
            and isinstance(data.get("checks"), dict)):
        return data
    return None
