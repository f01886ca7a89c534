"""Digests and alerts, recorded and delivered: the store side of digest.py and notify.py.

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

from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from monitor.config import Config
from monitor.config_delivery import ChannelConfig, DigestConfig
from monitor.digest import Digest, build, cron_trigger, due_window, last_fire
from monitor.digesttrends import with_trends
from monitor.notify import DeliveryError, Outgoing, Sender
from monitor.render import Rendered, Renderer, email_message
from monitor.spikealerts import spike_alerts
from monitor.store import Store
from monitor.store.models import Delivery, DigestHit, DigestRun, DigestSchedule, Hit
from monitor.store.queries import feed_health, hit_rows

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
    with store.engine.begin() as c:
        known = set(c.execute(select(DigestSchedule.name)).scalars())
    for name, anchor in names:
        if name not in known:
            try:
                with store.engine.begin() as c:
                    c.execute(insert(DigestSchedule).values(name=name, anchor=anchor))
            except IntegrityError:
                pass  # another process recorded it first


def start_anchor(digest: DigestConfig, now: datetime) -> datetime:
    return last_fire(cron_trigger(digest.schedule, ZoneInfo(digest.timezone)), now) or now


def window_start(store: Store, name: str, default: datetime) -> datetime:
    """Where the next window opens: the end of the last one, else the schedule's anchor."""
    with store.engine.begin() as c:
        end = c.execute(select(func.max(DigestRun.window_end))
                        .where(DigestRun.name == name)).scalar()
        anchor = c.execute(select(DigestSchedule.anchor)
                           .where(DigestSchedule.name == name)).scalar()
    return end or anchor or default


def due(store: Store, digest: DigestConfig, now: datetime) -> tuple[datetime, datetime] | None:
    trigger = cron_trigger(digest.schedule, ZoneInfo(digest.timezone))
    return due_window(trigger, window_start(store, digest.name, start_anchor(digest, now)),
                      now)


# --- making digests and alerts ---------------------------------------------------------------


def _filters(digest: DigestConfig) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if digest.watchlists:
        where.append(Hit.watchlist.in_(digest.watchlists))
    if digest.kinds:
        where.append(Hit.kind.in_(digest.kinds))
    if digest.entries:
        plain = [e for e in digest.entries if "/" not in e]
        qualified = [e.split("/", 1) for e in digest.entries if "/" in e]
        where.append(or_(Hit.entry.in_(plain),
                         *(and_(Hit.watchlist == w, Hit.entry == e) for w, e in qualified)))
    return where


def _unclaimed(name: str, start: datetime, end: datetime | None = None
               ) -> list[ColumnElement[bool]]:
    claimed = exists().where(DigestHit.name == name, DigestHit.hit_id == Hit.id)
    where = [Hit.notify == true(), Hit.first_seen >= start, ~claimed]
    return where if end is None else [*where, Hit.first_seen < end]


def compose(store: Store, digest: DigestConfig, window: tuple[datetime, datetime],
            anchor: datetime) -> Digest:
    """The digest of a window: the hits no earlier digest of this name took, found from the
    schedule's start up to the window's end (so a hit written late is not lost)."""
    start, end = window
    rows = hit_rows(store, where=[*_unclaimed(digest.name, anchor, end), *_filters(digest)],
                    marks=True)
    key = f"digest:{digest.name}:{end.isoformat()}"
    return build(digest.name, "digest", key, (start, end), digest.timezone, rows,
                 feed_health(store, end))


def make_digest(store: Store, config: Config, renderer: Renderer, digest: DigestConfig,
                window: tuple[datetime, datetime], now: datetime) -> Made:
    with store.engine.begin() as c:
        anchor = c.execute(select(DigestSchedule.anchor)
                           .where(DigestSchedule.name == digest.name)).scalar() or window[0]
    built = with_trends(store, config, digest, compose(store, digest, window,
                                                      min(anchor, window[0])))
    channels = digest.channels if built.stories or digest.send_empty else ()
    run_id = _record(store, config, renderer, built, channels, now)
    return Made(digest.name, run_id, built, len(channels) if run_id else 0)


def _record(store: Store, config: Config, renderer: Renderer, built: Digest,
            channels: Sequence[ChannelConfig], now: datetime) -> int | None:
    """Run, claims and deliveries in one transaction; None if the window (or a hit) was
    taken by another process meanwhile."""
    rendered = renderer.render(built, domain(config))
    try:
        with store.engine.begin() as c:
            run_id = c.execute(insert(DigestRun).values(
                name=built.name if built.kind == "digest" else ALERTS, kind=built.kind,
                key=built.key, window_start=built.window_start, window_end=built.window_end,
                timezone=built.timezone, created=now, subject=rendered.subject,
                hit_count=len(built.hit_ids), story_count=len(built.stories),
                message_id=rendered.message_id, body_text=rendered.text,
                body_html=rendered.html, payload=rendered.payload, slack=rendered.slack,
            ).returning(DigestRun.id)).scalar_one()
            name = built.name if built.kind == "digest" else ALERTS
            if built.hit_ids:
                c.execute(insert(DigestHit), [{"name": name, "hit_id": h, "run_id": run_id}
                                              for h in built.hit_ids])
            if channels:
                c.execute(insert(Delivery), [
                    {"run_id": run_id, "channel": ch.ident, "status": "pending", "attempts": 0,
                     "next_attempt": now, "created": now} for ch in channels])
    except IntegrityError:
        return None
    return int(run_id)


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
    """One alert per story for new hits of high-priority entries; a story already alerted
    on takes its later hits quietly (once per story)."""
    if not config.alerts.channels:
        return []
    ensure_schedules(store, config, now)
    with store.engine.begin() as c:
        anchor = c.execute(select(DigestSchedule.anchor)
                           .where(DigestSchedule.name == ALERTS)).scalar() or now
    rows = hit_rows(store, where=[*_unclaimed(ALERTS, anchor), Hit.priority == "high"],
                    marks=True)
    by_story: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_story.setdefault(row["story_id"], []).append(row)
    made = []
    for story_id, hits in by_story.items():
        built = build("alert", "alert", f"alert:{story_id}", (None, now), "UTC", hits)
        run_id = _record(store, config, renderer, built, config.alerts.channels, now)
        if run_id is None:
            _claim_quietly(store, story_id, [h["hit_id"] for h in hits])
        made.append(Made(ALERTS, run_id, built, len(config.alerts.channels) if run_id else 0))
    for spike in spike_alerts(store, config, now):  # trends: once per entry and day
        run_id = _record(store, config, renderer, spike, config.alerts.channels, now)
        made.append(Made(ALERTS, run_id, spike, len(config.alerts.channels) if run_id else 0))
    return [m for m in made if m.run_id is not None]


def _claim_quietly(store: Store, story_id: int, hit_ids: list[int]) -> None:
    with store.engine.begin() as c:
        run_id = c.execute(select(DigestRun.id).where(DigestRun.key == f"alert:{story_id}")
                           ).scalar()
        if run_id is None:
            return
        for hit_id in hit_ids:
            try:
                with c.begin_nested():
                    c.execute(insert(DigestHit).values(name=ALERTS, hit_id=hit_id,
                                                       run_id=run_id))
            except IntegrityError:
                pass


# --- delivering -----------------------------------------------------------------------------


def channel_for(config: Config, run_name: str, ident: str) -> ChannelConfig | None:
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
    with store.engine.begin() as c:
        due_rows = c.execute(
            select(Delivery.id, Delivery.attempts, Delivery.channel, DigestRun.name)
            .join(DigestRun, DigestRun.id == Delivery.run_id)
            .where(Delivery.status == "pending", Delivery.next_attempt <= now)
            .order_by(Delivery.id)).all()
    for delivery_id, attempts, ident, run_name in due_rows:
        if attempts >= config.delivery.max_attempts:  # claimed that often, never recorded
            _finish(store, delivery_id, "failed", f"gave up after {attempts} attempts that "
                    "ended without an outcome (the process died while sending?)", None)
            report.failed += 1
            continue
        if not _claim(store, delivery_id, attempts, now):
            continue  # another process has it
        channel = channel_for(config, run_name, ident)
        if channel is None:
            _finish(store, delivery_id, "failed", f"channel {ident} is no longer configured "
                    f"for {run_name}", None)
            report.failed += 1
            continue
        with store.session() as s:
            run = s.get(DigestRun, _run_id(store, delivery_id))
            assert run is not None
            out = _outgoing(config, run)
        try:
            sender.send(channel, out, clock() if clock else now)
        except DeliveryError as exc:
            _failed(store, config, delivery_id, attempts + 1, exc, now, report)
            report.failures.append((ident, str(exc)))
            report.outcomes.append((channel.kind, "error"))
            continue
        except Exception as exc:  # a bug or an odd reply must not stop the other deliveries
            error = DeliveryError(f"{ident}: {type(exc).__name__}: {exc}")
            _failed(store, config, delivery_id, attempts + 1, error, now, report)
            report.failures.append((ident, str(error)))
            report.outcomes.append((channel.kind, "error"))
            continue
        _finish(store, delivery_id, "sent", None, now)
        report.sent += 1
        report.outcomes.append((channel.kind, "sent"))
    return report


def _outgoing(config: Config, run: DigestRun) -> Outgoing:
    rendered = Rendered(run.subject, run.body_text, run.body_html, run.payload, run.slack,
                        run.message_id)
    sender = config.smtp.sender if config.smtp else "monitor <monitor@localhost>"
    message: EmailMessage = email_message(rendered, sender, ("undisclosed-recipients:;",),
                                          run.created, run.name)
    key = run.message_id.strip("<>").split(".", 1)[0]
    return Outgoing(run.name, run.kind, key, run.window_end, message, run.payload, run.slack)


def _run_id(store: Store, delivery_id: int) -> int:
    with store.engine.begin() as c:
        return int(c.execute(select(Delivery.run_id).where(Delivery.id == delivery_id)
                             ).scalar_one())


def _claim(store: Store, delivery_id: int, attempts: int, now: datetime) -> bool:
    with store.engine.begin() as c:
        result = c.execute(update(Delivery).where(
            Delivery.id == delivery_id, Delivery.status == "pending",
            Delivery.attempts == attempts, Delivery.next_attempt <= now,
        ).values(attempts=attempts + 1, next_attempt=now + LEASE))
        return result.rowcount == 1


def _finish(store: Store, delivery_id: int, status: str, error: str | None,
            sent: datetime | None, next_attempt: datetime | None = None) -> None:
    with store.engine.begin() as c:
        c.execute(update(Delivery).where(Delivery.id == delivery_id).values(
            status=status, last_error=error, sent=sent, next_attempt=next_attempt))


def _failed(store: Store, config: Config, delivery_id: int, attempts: int, exc: DeliveryError,
            now: datetime, report: DeliveryReport) -> None:
    report.errors.append(str(exc))
    if exc.retryable and attempts < config.delivery.max_attempts:
        _finish(store, delivery_id, "pending", f"attempt {attempts}: {exc}", None,
                now + backoff(config, attempts))
        report.retrying += 1
    else:
        why = "gave up after" if exc.retryable else "not retried:"
        _finish(store, delivery_id, "failed", f"{why} attempt {attempts}: {exc}", None)
        report.failed += 1


def resend(store: Store, delivery_id: int, now: datetime) -> str | None:
    """Queue a failed delivery again (the web's "resend"): pending, attempts from 0, due
    now; the daemon's next deliveries pass sends the stored bytes.  None when queued, else
    why not (no such delivery, not failed, its rendered body pruned)."""
    with store.engine.begin() as c:
        row = c.execute(select(Delivery.status, DigestRun.body_text, DigestRun.payload)
                        .join(DigestRun, DigestRun.id == Delivery.run_id)
                        .where(Delivery.id == delivery_id)).first()
        if row is None:
            return f"no delivery {delivery_id}"
        status, text, payload = row
        if status != "failed":
            return f"delivery {delivery_id} is {status}: only a failed delivery is resent"
        if not text and not payload:
            return (f"delivery {delivery_id}: its digest's rendered body was removed by "
                    "housekeeping (old digests keep none); nothing to resend")
        c.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "failed")
                  .values(status="pending", attempts=0, next_attempt=now))
    return None


def prune(store: Store, before: datetime) -> int:
    """Drop the rendered bodies of runs made before ``before`` whose deliveries are all
    done (sent or failed).  The runs and their claims stay: they are what keeps every hit
    in one digest."""
    pending = exists().where(Delivery.run_id == DigestRun.id, Delivery.status == "pending")
    with store.engine.begin() as c:
        result = c.execute(update(DigestRun).where(
            DigestRun.created < before, DigestRun.body_html != "", ~pending,
        ).values(body_text="", body_html="", payload="", slack=""))
        return int(result.rowcount or 0)
