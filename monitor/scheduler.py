"""The daemon (`monitor run`): APScheduler 3 drives the jobs, the store holds the state;
and ``cycle``, the one composition of a poll (ingest -> alerts -> deliver) that the daemon,
`run --once` and `poll --once` share: ingestion itself knows nothing of delivery.

    poll         every TICK: the feeds whose next_poll has come (each feed keeps its own
                 interval, jitter and back-off in the store), then alerts and deliveries
    digest:NAME  on the digest's cron schedule, in its timezone (and once at start, so a
                 window missed while the daemon was down is caught up)
    deliveries   every TICK: pending deliveries whose retry time has come
    housekeeping hourly: raw pages older than raw_retention

Each job is a method that takes the time from the injected clock, so tests drive them
directly; `monitor run --once` runs each once and exits.  A restart picks up where the
store says (next polls, windows sent, the delivery queue).
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from monitor import deliver as outbox
from monitor.cancel import Cancelled
from monitor.channels import Sender
from monitor.config import DEFAULT_INTERVAL, Config
from monitor.digest import cron_trigger
from monitor.health import Health, Metrics
from monitor.ingest import Context, Summary, ingest, sync_feeds, utc_now
from monitor.render import Renderer
from monitor.store import Store
from monitor.store.rows import FeedRow
from monitor.watchlist import Watchlist
from monitor.web.serve import serve

TICK = 30.0  # seconds between looks at due feeds and deliveries
GRACE = 20.0  # seconds in-flight work gets after SIGTERM
UNWIND = 3.0  # seconds cancelled work gets to unwind after the grace (then the process exits)
DELIVERIES_KEPT = timedelta(days=90)  # rendered digests kept for resends and inspection
LEASE = timedelta(minutes=10)  # a replica that dies holds its claimed feeds this long


def replica_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _dead_here(owner: str, me: str) -> bool:
    """A replica on this host (container) that is gone: its process no longer exists, or
    it had our pid (a restarted container is pid 1 again) but is not us."""
    host, _, rest = owner.partition(":")
    pid, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit() or owner == me:
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False

log = logging.getLogger("monitor")


@dataclass
class Dispatch:
    """What a cycle alerts and delivers with, after it ingested."""

    renderer: Renderer
    sender: Sender | None = None  # None: notify.Sender for the configured SMTP server


def cycle(ctx: Context, feeds: Sequence[FeedRow], dispatch: Dispatch | None = None) -> Summary:
    """One cycle, as the daemon and `poll --once` run it: ingest these feeds, alert on the
    high-priority hits they brought, and send every delivery that is due (retries included).
    Raises Cancelled if ``ctx.cancel`` is set meanwhile (what was stored stays)."""
    outbox.ensure_schedules(ctx.store, ctx.config, ctx.clock())  # before: this poll's hits count
    summary = ingest(ctx, feeds)
    now = ctx.clock()
    dispatch = dispatch or Dispatch(Renderer(ctx.config.templates))
    summary.alerts = len(outbox.make_alerts(ctx.store, ctx.config, dispatch.renderer, now))
    report = outbox.deliver(ctx.store, ctx.config, now, dispatch.sender, ctx.clock)
    summary.delivered = report.sent
    summary.delivery_errors = report.failures
    summary.deliveries = report.outcomes
    return summary


@dataclass
class Daemon:
    config: Config
    store: Store
    watchlists: list[Watchlist]
    clock: Callable[[], datetime] = utc_now
    sender: Sender | None = None
    owner: str = field(default_factory=replica_id)
    lease: timedelta = LEASE
    stopping: threading.Event = field(default_factory=threading.Event)
    metrics: Metrics = field(init=False)
    renderer: Renderer = field(init=False)
    last_cycle: datetime | None = None

    def __post_init__(self) -> None:
        self.metrics = Metrics(self.store)
        self.renderer = Renderer(self.config.templates)
        self.context = Context.create(self.config, self.store, self.watchlists, self.clock)
        self.dispatch = Dispatch(self.renderer, self.sender)
        self.context.observe = self.metrics.observe

    def health(self, running: Callable[[], bool]) -> Health:
        shortest = min((f.interval for f in self.config.feeds), default=DEFAULT_INTERVAL)
        quiet = timedelta(seconds=max(3 * shortest, 3 * TICK))
        return Health(self.store, self.clock, quiet, self.clock(), running,
                      lambda: self.last_cycle)

    # --- jobs -----------------------------------------------------------------------------

    @property
    def chunk(self) -> int:
        """Feeds claimed at a time: enough to keep the fetcher busy, few enough that other
        replicas get their share."""
        return self.config.fetch.concurrency * 4

    def poll(self) -> Summary:
        """Claim due feeds a chunk at a time (no other replica polls them meanwhile), poll
        them, alert on what they brought, send what is due.  One pass over the feeds due
        when it began: under more load than it can take, each pass still ends (and counts
        for /healthz); feeds that fell due meanwhile are the next pass's.  Logs nothing
        (`poll --once` prints the summary); a pass cancelled at the stop deadline gives its
        unfinished feeds back at once and counts for nothing."""
        summary = Summary()
        began = self.clock()
        try:
            while not self.stopping.is_set():
                feeds = self.store.claim_feeds(self.clock(), self.owner, self.lease,
                                               self.chunk, due_by=began)
                summary.add(cycle(self.context, feeds, self.dispatch))
                if len(feeds) < self.chunk:
                    break
        except Cancelled:
            self.store.release_leases([self.owner])
            return summary
        self.last_cycle = self.clock()
        self.metrics.record_poll(summary)
        return summary

    def poll_job(self) -> Summary:
        """The daemon's poll: a pass, then its summary and errors logged (each error once,
        with the feed or channel it is about); nothing from a pass that was cancelled."""
        summary = self.poll()
        if self.context.cancel.is_set():
            return summary
        if summary.feeds_polled or summary.alerts or summary.delivered:
            log.info("poll: %s", summary.line(), extra={"job": "poll"})
        for error in summary.errors[:20]:
            url, _, reason = error.partition(": ")
            log.warning("%s", reason or error, extra={"job": "poll", "feed": url})
        _log_delivery_errors(summary.delivery_errors)
        return summary

    def digests(self, name: str | None = None) -> list[outbox.Made]:
        now = self.clock()
        made = outbox.run_digests(self.store, self.config, self.renderer, now,
                                  None if name is None else [name])
        for m in made:
            log.info("digest %s: %s (%d hits, %d deliveries)", m.name, m.digest.subject,
                     len(m.digest.hit_ids), m.deliveries, extra={"digest": m.name})
        self.deliveries()
        return made

    def deliveries(self) -> outbox.DeliveryReport:
        report = outbox.deliver(self.store, self.config, self.clock(), self.sender, self.clock)
        self.metrics.record_deliveries(report.outcomes)
        _log_delivery_errors(report.failures)
        return report

    def housekeeping(self) -> int:
        """Raw pages past raw_retention; rendered digests older than DELIVERIES_KEPT."""
        now = self.clock()
        bodies = outbox.prune(self.store, now - DELIVERIES_KEPT)
        if bodies:
            log.info("housekeeping: %d old digests' rendered bodies removed", bodies)
        if self.config.raw_retention <= 0:
            return 0
        pruned = self.store.prune_pages(now - timedelta(seconds=self.config.raw_retention))
        if pruned:
            log.info("housekeeping: %d raw pages past raw_retention removed", pruned)
        return pruned

    def recover(self) -> int:
        """At start: release the feeds a replica of this host held when it died (kill -9),
        instead of waiting for their leases to expire.  Other hosts' leases expire."""
        dead = [o for o in self.store.lease_owners(self.clock()) if _dead_here(o, self.owner)]
        released = self.store.release_leases(dead)
        if released:
            log.info("released %d feeds held by %s (no longer running)", released,
                     ", ".join(dead))
        return released

    def once(self) -> Summary:
        """One cycle of everything (cron, tests): poll, digests due, deliveries, pruning."""
        sync_feeds(self.store, self.config.feeds, self.clock())
        self.recover()
        summary = self.poll_job()
        self.digests()
        self.housekeeping()
        return summary

    # --- the schedule ---------------------------------------------------------------------

    def schedule(self, scheduler: BackgroundScheduler) -> None:
        def guarded(job: Callable[[], Any], name: str) -> Callable[[], None]:
            def run() -> None:  # a failing job is logged; the daemon goes on
                try:
                    job()
                except Exception:
                    log.exception("job %s failed; it runs again on schedule", name)
            return run

        now = self.clock()
        common: dict[str, Any] = {"max_instances": 1, "coalesce": True,
                                  "misfire_grace_time": None}
        scheduler.add_job(guarded(self.poll_job, "poll"), "interval", seconds=TICK, id="poll",
                          next_run_time=now, **common)
        scheduler.add_job(guarded(self.deliveries, "deliveries"), "interval", seconds=TICK,
                          id="deliveries", **common)
        scheduler.add_job(guarded(self.housekeeping, "housekeeping"), "interval", hours=1,
                          id="housekeeping", next_run_time=now, **common)
        for digest in self.config.digests:
            job = guarded(functools.partial(self.digests, digest.name), f"digest {digest.name}")
            trigger = cron_trigger(digest.schedule, ZoneInfo(digest.timezone))
            scheduler.add_job(job, trigger, id=f"digest:{digest.name}", **common)
            scheduler.add_job(job, "date", run_date=now, id=f"catch-up:{digest.name}")


def _log_delivery_errors(failures: list[tuple[str, str]]) -> None:
    for channel, error in failures:
        log.warning("delivery failed: %s", error, extra={"job": "deliver", "channel": channel})


def _finish(scheduler: BackgroundScheduler, daemon: Daemon, grace: float) -> bool:
    """Let the running jobs finish within ``grace`` seconds; at the deadline cancel the
    polls in flight and give them UNWIND seconds to give their feeds back.  True if every
    job has ended."""
    finisher = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True},
                                daemon=True)
    finisher.start()
    finisher.join(grace)
    if not finisher.is_alive():
        return True
    daemon.context.cancel.set()
    finisher.join(UNWIND)
    log.warning("in-flight work did not finish within %gs: cancelled; it is redone on the "
                "next start (nothing half-written is kept)", grace)
    return not finisher.is_alive()


def run(config: Config, store: Store, watchlists: list[Watchlist],
        grace: float = GRACE) -> int:
    """Run until SIGTERM or SIGINT: then stop taking work, give in-flight jobs ``grace``
    seconds, cancel what is still running, exit 0 (within grace + UNWIND seconds: a job
    stuck outside asyncio, in a database call or an SMTP exchange, is ended with the
    process, which each article's and delivery's own transaction makes as safe as kill -9).
    A second signal exits at once (130)."""
    daemon = Daemon(config, store, watchlists)
    sync_feeds(store, config.feeds, utc_now())
    daemon.recover()
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():
            log.warning("second signal: exiting now")
            logging.shutdown()
            os._exit(130)  # running jobs' threads would otherwise be waited for
        log.info("%s: stopping (in-flight work gets %gs)", signal.Signals(signum).name, grace)
        stop.set()
        daemon.stopping.set()

    scheduler = BackgroundScheduler(timezone="UTC")
    server = None
    if config.server.enabled:  # before any work starts: a port in use stops the start
        server = serve(config, store, daemon.health(lambda: bool(scheduler.running)),
                       daemon.metrics, config.server.host, config.server.port)
        log.info("health and metrics on http://%s:%d/ (/healthz, /metrics%s)",
                 config.server.host, server.port,
                 "; the web interface at /" if config.web.enabled else "")
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    daemon.schedule(scheduler)
    scheduler.start()
    polled = sum(f.polling == "on" for f in store.feeds())
    log.info("monitor running: %d feeds, %d digests, database %s", polled,
             len(config.digests), store.shown_url)
    try:
        while not stop.wait(1.0):
            pass
        ended = _finish(scheduler, daemon, grace)
    finally:
        if server is not None:
            server.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("stopped")
    if not ended:  # a job thread still blocked: interpreter exit would wait for it
        logging.shutdown()
        os._exit(0)
    return 0
