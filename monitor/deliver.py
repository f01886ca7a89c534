"""Digests and alerts, recorded and delivered: the store side of digest.py and the channels.

Making a digest is one transaction: the run (unique per window), the claims on its hits
(unique per digest definition: a hit goes into one digest at most) and one pending delivery
per channel.  Delivering claims a pending row (attempts + 1, a lease on ``next_attempt``),
sends, then records the outcome.  A crash between sending and recording leaves the row
pending; after the lease it is sent again, the same bytes with the same Message-ID and
Idempotency-Key, so receivers can drop the repeat; no hit is lost or moved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from monitor.channels import Channel, DeliveryError, Outgoing, Sender
from monitor.config import Config
from monitor.config.delivery import DigestConfig
from monitor.digest import Digest, build, cron_trigger, due_window, last_fire
from monitor.digesttrends import with_trends
from monitor.render import Rendered, Renderer, email_message
from monitor.spikealerts import spike_alerts
from monitor.store import Store
from monitor.store import digests as db
from monitor.store.digests import HitFilter, NewRun, StoredRun
from monitor.store.events import with_event_outlets
from monitor.store.queries import feed_health

ALERTS = "@alerts"  # the alerts' name in the tables (not a valid digest name)
LEASE = timedelta(minutes=10)  # a claimed delivery not recorded by then is tried again


@dataclass
class Made:
    name: str
    run_id: int | None  # None: another process made this window first
    digest: Digest
    deliveries: int


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (channel ident, error)
    outcomes: list[tuple[str, str]] = field(default_factory=list)  # (channel kind, outcome)


def domain(config: Config) -> str:
    address = parseaddr(config.smtp.sender)[1] if config.smtp else ""
    return address.rpartition("@")[2] or "monitor.invalid"


# --- windows --------------------------------------------------------------------------------


def ensure_schedules(store: Store, config: Config, now: datetime) -> None:
    """Record when each digest (and the alerts) started, the first time it is seen."""
    names = [(d.name, start_anchor(d, now)) for d in config.digests]
    if config.alerts.channels:
        names.append((ALERTS, now))
    known = db.schedule_names(store)
    for name, anchor in names:
        if name not in known:
            db.add_schedule(store, name, anchor)  # False: another process recorded it first


def start_anchor(digest: DigestConfig, now: datetime) -> datetime:
    return last_fire(cron_trigger(digest.schedule, ZoneInfo(digest.timezone)), now) or now


def window_start(store: Store, name: str, default: datetime) -> datetime:
    """Where the next window opens: the end of the last one, else the schedule's anchor."""
    return db.last_window_end(store, name) or db.schedule_anchor(store, name) or default


def due(store: Store, digest: DigestConfig, now: datetime) -> tuple[datetime, datetime] | None:
    trigger = cron_trigger(digest.schedule, ZoneInfo(digest.timezone))
    return due_window(trigger, window_start(store, digest.name, start_anchor(digest, now)),
                      now)


# --- making digests and alerts ---------------------------------------------------------------


def compose(store: Store, digest: DigestConfig, window: tuple[datetime, datetime],
            anchor: datetime) -> Digest:
    """The digest of a window: the hits no earlier digest of this name took, found from the
    schedule's start up to the window's end (so a hit written late is not lost)."""
    start, end = window
    rows = with_event_outlets(store, db.unclaimed_hits(
        store, digest.name, anchor, end,
        HitFilter(digest.watchlists, digest.kinds, digest.entries)))
    key = f"digest:{digest.name}:{end.isoformat()}"
    return build(digest.name, "digest", key, (start, end), digest.timezone, rows,
                 feed_health(store, end))


def make_digest(store: Store, config: Config, renderer: Renderer, digest: DigestConfig,
                window: tuple[datetime, datetime], now: datetime) -> Made:
    anchor = db.schedule_anchor(store, digest.name) or window[0]
    built = with_trends(store, config, digest, compose(store, digest, window,
                                                      min(anchor, window[0])))
    channels = digest.channels if built.stories or digest.send_empty else ()
    run_id = _record(store, config, renderer, built, channels, now)
    return Made(digest.name, run_id, built, len(channels) if run_id else 0)


def _record(store: Store, config: Config, renderer: Renderer, built: Digest,
            channels: Sequence[Channel], now: datetime) -> int | None:
    """Run, claims and deliveries in one transaction; None if the window (or a hit) was
    taken by another process meanwhile."""
    formats = [fmt for channel in channels for fmt in channel.formats]
    rendered = renderer.render(built, domain(config), formats)
    run = NewRun(
        name=built.name if built.kind == "digest" else ALERTS, kind=built.kind, key=built.key,
        window_start=built.window_start, window_end=built.window_end,
        timezone=built.timezone, subject=rendered.subject, hit_count=len(built.hit_ids),
        story_count=len(built.stories), message_id=rendered.message_id,
        bodies=rendered.bodies)
    return db.record_run(store, run, built.hit_ids, [ch.ident for ch in channels], now)


def run_digests(store: Store, config: Config, renderer: Renderer, now: datetime,
                names: Sequence[str] | None = None) -> list[Made]:
    """Make every digest whose window has closed (missed windows come as one)."""
    ensure_schedules(store, config, now)
    made = []
    for digest in config.digests:
        if names is not None and digest.name not in names:
            continue
        window = due(store, digest, now)
        if window is not None:
            made.append(make_digest(store, config, renderer, digest, window, now))
    return made


def make_alerts(store: Store, config: Config, renderer: Renderer, now: datetime) -> list[Made]:
    """One alert per event (or story outside any event) for new hits of high-priority
    entries; an event already alerted on takes its later hits quietly (once per event)."""
    if not config.alerts.channels:
        return []
    ensure_schedules(store, config, now)
    anchor = db.schedule_anchor(store, ALERTS) or now
    by_story: dict[str, list[dict[str, Any]]] = {}  # one alert per event (or lone story)
    for row in with_event_outlets(store, db.unclaimed_high_priority(store, ALERTS, anchor)):
        by_story.setdefault(f"event:{row['event_id']}" if row.get("event_id") is not None
                            else str(row["story_id"]), []).append(row)
    made = []
    for story_id, hits in by_story.items():
        built = build("alert", "alert", f"alert:{story_id}", (None, now), "UTC", hits)
        run_id = _record(store, config, renderer, built, config.alerts.channels, now)
        if run_id is None:
            db.claim_quietly(store, f"alert:{story_id}", ALERTS, [h["hit_id"] for h in hits])
        made.append(Made(ALERTS, run_id, built, len(config.alerts.channels) if run_id else 0))
    for spike in spike_alerts(store, config, now):  # trends: once per entry and day
        run_id = _record(store, config, renderer, spike, config.alerts.channels, now)
        made.append(Made(ALERTS, run_id, spike, len(config.alerts.channels) if run_id else 0))
    return [m for m in made if m.run_id is not None]


# --- delivering -----------------------------------------------------------------------------


def channel_for(config: Config, run_name: str, ident: str) -> Channel | None:
    if run_name == ALERTS:
        channels = config.alerts.channels
    else:
        digest = config.digest(run_name)
        channels = digest.channels if digest else ()
    return next((c for c in channels if c.ident == ident), None)


def backoff(config: Config, attempts: int) -> timedelta:
    seconds = config.delivery.backoff * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, config.delivery.max_backoff))


def deliver(store: Store, config: Config, now: datetime, sender: Sender | None = None,
            clock: Callable[[], datetime] | None = None) -> DeliveryReport:
    """Send every pending delivery that is due; record each outcome as it happens."""
    sender = sender or Sender(config.smtp)
    report = DeliveryReport()
    for due_row in db.due_deliveries(store, now):
        delivery_id, attempts, ident = due_row.id, due_row.attempts, due_row.channel
        if attempts >= config.delivery.max_attempts:  # claimed that often, never recorded
            db.finish_delivery(store, delivery_id, "failed", f"gave up after {attempts} "
                               "attempts that ended without an outcome (the process died "
                               "while sending?)", None)
            report.failed += 1
            continue
        if not db.claim_delivery(store, delivery_id, attempts, now, LEASE):
            continue  # another process has it
        channel = channel_for(config, due_row.run_name, ident)
        if channel is None:
            db.finish_delivery(store, delivery_id, "failed", f"channel {ident} is no longer "
                               f"configured for {due_row.run_name}", None)
            report.failed += 1
            continue
        run = db.stored_run(store, due_row.run_id)
        assert run is not None  # a delivery's run is deleted with it (ON DELETE CASCADE)
        try:
            sender.send(channel, _outgoing(config, run), clock() if clock else now)
        except Exception as exc:  # a bug or an odd reply must not stop the other deliveries
            error = exc if isinstance(exc, DeliveryError) else DeliveryError(
                f"{ident}: {type(exc).__name__}: {exc}")
            _failed(store, config, delivery_id, attempts + 1, error, now, report)
            report.failures.append((ident, str(error)))
            report.outcomes.append((channel.kind, "error"))
            continue
        db.finish_delivery(store, delivery_id, "sent", None, now)
        report.sent += 1
        report.outcomes.append((channel.kind, "sent"))
    return report


def _outgoing(config: Config, run: StoredRun) -> Outgoing:
    row = run.row
    rendered = Rendered(row.subject, row.message_id, run.bodies)
    sender = config.smtp.sender if config.smtp else "monitor <monitor@localhost>"
    message: EmailMessage = email_message(rendered, sender, ("undisclosed-recipients:;",),
                                          row.created, row.name)
    key = row.message_id.strip("<>").split(".", 1)[0]
    return Outgoing(row.name, row.kind, key, row.window_end, message, run.bodies)


def _failed(store: Store, config: Config, delivery_id: int, attempts: int, exc: DeliveryError,
            now: datetime, report: DeliveryReport) -> None:
    report.errors.append(str(exc))
    if exc.retryable and attempts < config.delivery.max_attempts:
        db.finish_delivery(store, delivery_id, "pending", f"attempt {attempts}: {exc}", None,
                           now + backoff(config, attempts))
        report.retrying += 1
    else:
        why = "gave up after" if exc.retryable else "not retried:"
        db.finish_delivery(store, delivery_id, "failed", f"{why} attempt {attempts}: {exc}",
                           None)
        report.failed += 1


def resend(store: Store, delivery_id: int, now: datetime) -> str | None:
    """Queue a failed delivery again (the web's "resend"): pending, attempts from 0, due
    now; the daemon's next deliveries pass sends the stored bytes.  None when queued, else
    why not (no such delivery, not failed, its rendered body pruned)."""
    found = db.delivery(store, delivery_id)
    if found is None:
        return f"no delivery {delivery_id}"
    if found.status != "failed":
        return f"delivery {delivery_id} is {found.status}: only a failed delivery is resent"
    if not db.has_bodies(store, found.run_id):
        return (f"delivery {delivery_id}: its digest's rendered body was removed by "
                "housekeeping (old digests keep none); nothing to resend")
    if not db.requeue_failed(store, delivery_id, now):
        return f"delivery {delivery_id} is no longer failed: only a failed delivery is resent"
    return None


def prune(store: Store, before: datetime) -> int:
    """Drop the rendered bodies of runs made before ``before`` whose deliveries are all
    done (sent or failed).  The runs and their claims stay: they are what keeps every hit
    in one digest."""
    return db.prune_bodies(store, before)
