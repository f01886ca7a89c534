"""The digests' and deliveries' SQL: schedules, runs with their rendered bodies, the hits
they claim and the delivery queue.  deliver.py holds the logic and calls these; every
answer is a typed frozen row, never an ORM object or a dict (hit rows excepted: they are
queries.hit_rows', shared with the CLI)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, insert, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from monitor.store import Store
from monitor.store.models import (
    Delivery,
    DigestBody,
    DigestHit,
    DigestRun,
    DigestSchedule,
    Hit,
)
from monitor.store.queries import hit_rows


@dataclass(frozen=True, slots=True)
class DigestRow:
    """One run: a digest window or an alert, as recorded (its bodies apart)."""

    id: int
    name: str
    kind: str
    key: str
    window_start: datetime | None
    window_end: datetime
    timezone: str
    created: datetime
    subject: str
    hit_count: int
    story_count: int
    message_id: str


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One run to one channel, as the queue holds it."""

    id: int
    run_id: int
    channel: str
    status: str  # pending | sent | failed
    attempts: int
    next_attempt: datetime | None
    last_error: str | None
    sent: datetime | None
    created: datetime


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A pending delivery whose time has come, with the name of its run."""

    id: int
    run_id: int
    run_name: str
    channel: str
    attempts: int


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A run and its rendered bodies by format: what a delivery sends, byte for byte."""

    row: DigestRow
    bodies: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class NewRun:
    """A run to record, rendered: ``bodies`` maps each format to its text."""

    name: str
    kind: str
    key: str
    window_start: datetime | None
    window_end: datetime
    timezone: str
    subject: str
    hit_count: int
    story_count: int
    message_id: str
    bodies: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class HitFilter:
    """Which hits a digest takes: empty means every one."""

    watchlists: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()  # entry ids, or watchlist/id


def _digest_row(run: DigestRun) -> DigestRow:
    return DigestRow(run.id, run.name, run.kind, run.key, run.window_start, run.window_end,
                     run.timezone, run.created, run.subject, run.hit_count, run.story_count,
                     run.message_id)


def _delivery_row(d: Delivery) -> DeliveryRow:
    return DeliveryRow(d.id, d.run_id, d.channel, d.status, d.attempts, d.next_attempt,
                       d.last_error, d.sent, d.created)


# --- schedules ------------------------------------------------------------------------------


def schedule_names(store: Store) -> set[str]:
    with store.engine.begin() as c:
        return set(c.execute(select(DigestSchedule.name)).scalars())


def add_schedule(store: Store, name: str, anchor: datetime) -> bool:
    """Record when ``name`` started; False if another process recorded it first."""
    try:
        with store.engine.begin() as c:
            c.execute(insert(DigestSchedule).values(name=name, anchor=anchor))
    except IntegrityError:
        return False
    return True


def schedule_anchor(store: Store, name: str) -> datetime | None:
    with store.engine.begin() as c:
        anchor: datetime | None = c.execute(select(DigestSchedule.anchor)
                                            .where(DigestSchedule.name == name)).scalar()
    return anchor


def last_window_end(store: Store, name: str) -> datetime | None:
    with store.engine.begin() as c:
        end: datetime | None = c.execute(select(func.max(DigestRun.window_end))
                                         .where(DigestRun.name == name)).scalar()
    return end


# --- hits to take ---------------------------------------------------------------------------


def _filters(chosen: HitFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if chosen.watchlists:
        where.append(Hit.watchlist.in_(chosen.watchlists))
    if chosen.kinds:
        where.append(Hit.kind.in_(chosen.kinds))
    if chosen.entries:
        plain = [e for e in chosen.entries if "/" not in e]
        qualified = [e.split("/", 1) for e in chosen.entries if "/" in e]
        where.append(or_(Hit.entry.in_(plain),
                         *(and_(Hit.watchlist == w, Hit.entry == e) for w, e in qualified)))
    return where


def _unclaimed(name: str, start: datetime, end: datetime | None = None
               ) -> list[ColumnElement[bool]]:
    claimed = exists().where(DigestHit.name == name, DigestHit.hit_id == Hit.id)
    where = [Hit.notify == true(), Hit.first_seen >= start, ~claimed]
    return where if end is None else [*where, Hit.first_seen < end]


def unclaimed_hits(store: Store, name: str, start: datetime, end: datetime,
                   chosen: HitFilter) -> list[dict[str, Any]]:
    """The hits to notify of, first seen in [start, end), that no run of ``name`` took."""
    return hit_rows(store, where=[*_unclaimed(name, start, end), *_filters(chosen)],
                    marks=True)


def unclaimed_high_priority(store: Store, name: str, start: datetime) -> list[dict[str, Any]]:
    """The high-priority hits first seen since ``start`` that no run of ``name`` took."""
    return hit_rows(store, where=[*_unclaimed(name, start), Hit.priority == "high"],
                    marks=True)


# --- runs -----------------------------------------------------------------------------------


def record_run(store: Store, run: NewRun, hit_ids: Sequence[int], channels: Sequence[str],
               now: datetime) -> int | None:
    """The run, its claims on ``hit_ids`` and one pending delivery per channel, in one
    transaction; None if the window (or a hit) was taken by another process meanwhile."""
    try:
        with store.engine.begin() as c:
            run_id = c.execute(insert(DigestRun).values(
                name=run.name, kind=run.kind, key=run.key, window_start=run.window_start,
                window_end=run.window_end, timezone=run.timezone, created=now,
                subject=run.subject, hit_count=run.hit_count, story_count=run.story_count,
                message_id=run.message_id,
            ).returning(DigestRun.id)).scalar_one()
            c.execute(insert(DigestBody), [{"run_id": run_id, "format": fmt, "body": body}
                                           for fmt, body in run.bodies.items()])
            if hit_ids:
                c.execute(insert(DigestHit), [{"name": run.name, "hit_id": h, "run_id": run_id}
                                              for h in hit_ids])
            if channels:
                c.execute(insert(Delivery), [
                    {"run_id": run_id, "channel": ident, "status": "pending", "attempts": 0,
                     "next_attempt": now, "created": now} for ident in channels])
    except IntegrityError:
        return None
    return int(run_id)


def claim_quietly(store: Store, key: str, name: str, hit_ids: Sequence[int]) -> None:
    """Give ``hit_ids`` to the run with ``key`` (if there is one), skipping those taken."""
    with store.engine.begin() as c:
        run_id = c.execute(select(DigestRun.id).where(DigestRun.key == key)).scalar()
        if run_id is None:
            return
        for hit_id in hit_ids:
            try:
                with c.begin_nested():
                    c.execute(insert(DigestHit).values(name=name, hit_id=hit_id,
                                                       run_id=run_id))
            except IntegrityError:
                pass


def stored_run(store: Store, run_id: int) -> StoredRun | None:
    """A run with its bodies (formats whose body was pruned are absent)."""
    with store.session() as s:
        run = s.get(DigestRun, run_id)
        if run is None:
            return None
        bodies = s.execute(select(DigestBody.format, DigestBody.body)
                           .where(DigestBody.run_id == run_id)).all()
        return StoredRun(_digest_row(run), {fmt: body for fmt, body in bodies})


def runs(store: Store, limit: int = 50, before: int | None = None) -> list[DigestRow]:
    """The latest runs, newest first; ``before``: only runs older than this id."""
    query = select(DigestRun).order_by(DigestRun.id.desc()).limit(limit)
    if before is not None:
        query = query.where(DigestRun.id < before)
    with store.session() as s:
        return [_digest_row(r) for r in s.execute(query).scalars()]


def deliveries_of(store: Store, run_ids: Sequence[int]) -> list[DeliveryRow]:
    """The deliveries of these runs, in the order they were queued."""
    if not run_ids:
        return []
    with store.session() as s:
        return [_delivery_row(d) for d in s.execute(
            select(Delivery).where(Delivery.run_id.in_(run_ids)).order_by(Delivery.id)
        ).scalars()]


def prune_bodies(store: Store, before: datetime) -> int:
    """Drop the bodies of runs made before ``before`` whose deliveries are all done; the
    number of runs that lost theirs."""
    pending = exists().where(Delivery.run_id == DigestRun.id, Delivery.status == "pending")
    old = (select(DigestRun.id).where(DigestRun.created < before, ~pending)
           .where(exists().where(DigestBody.run_id == DigestRun.id)))
    with store.engine.begin() as c:
        run_ids = list(c.execute(old).scalars())
        for i in range(0, len(run_ids), 500):
            c.execute(delete(DigestBody).where(DigestBody.run_id.in_(run_ids[i:i + 500])))
    return len(run_ids)


def has_bodies(store: Store, run_id: int) -> bool:
    with store.engine.begin() as c:
        return c.execute(select(DigestBody.run_id).where(DigestBody.run_id == run_id)
                         .limit(1)).first() is not None


def digest_bodies(store: Store, run_id: int) -> tuple[str, str] | None:
    """A digest run's stored (html, text), as it was sent (empty once pruned); None if
    there is no such run."""
    with store.engine.begin() as c:
        if c.execute(select(DigestRun.id).where(DigestRun.id == run_id)).first() is None:
            return None
        found = dict(c.execute(select(DigestBody.format, DigestBody.body).where(
            DigestBody.run_id == run_id, DigestBody.format.in_(("html", "text")))).all())
    return found.get("html", ""), found.get("text", "")


# --- the delivery queue ---------------------------------------------------------------------


def due_deliveries(store: Store, now: datetime) -> list[DueDelivery]:
    with store.engine.begin() as c:
        rows = c.execute(
            select(Delivery.id, Delivery.run_id, DigestRun.name, Delivery.channel,
                   Delivery.attempts)
            .join(DigestRun, DigestRun.id == Delivery.run_id)
            .where(Delivery.status == "pending", Delivery.next_attempt <= now)
            .order_by(Delivery.id)).all()
    return [DueDelivery(*row) for row in rows]


def delivery(store: Store, delivery_id: int) -> DeliveryRow | None:
    with store.session() as s:
        found = s.get(Delivery, delivery_id)
        return None if found is None else _delivery_row(found)


def claim_delivery(store: Store, delivery_id: int, attempts: int, now: datetime,
                   lease: timedelta) -> bool:
    """Take a due delivery (attempts + 1, due again after ``lease``); False if another
    process took it first."""
    with store.engine.begin() as c:
        result = c.execute(update(Delivery).where(
            Delivery.id == delivery_id, Delivery.status == "pending",
            Delivery.attempts == attempts, Delivery.next_attempt <= now,
        ).values(attempts=attempts + 1, next_attempt=now + lease))
        return result.rowcount == 1


def finish_delivery(store: Store, delivery_id: int, status: str, error: str | None,
                    sent: datetime | None, next_attempt: datetime | None = None) -> None:
    with store.engine.begin() as c:
        c.execute(update(Delivery).where(Delivery.id == delivery_id).values(
            status=status, last_error=error, sent=sent, next_attempt=next_attempt))


def requeue_failed(store: Store, delivery_id: int, now: datetime) -> bool:
    """A failed delivery pending again, attempts from 0, due now; False if not failed."""
    with store.engine.begin() as c:
        result = c.execute(update(Delivery).where(Delivery.id == delivery_id,
                                                  Delivery.status == "failed")
                           .values(status="pending", attempts=0, next_attempt=now))
        return result.rowcount == 1



def runs_made(store: Store, keys: Sequence[str]) -> set[str]:
    """Which of these run keys a run was recorded under (an alert made once per key)."""
    if not keys:
        return set()
    with store.engine.connect() as c:
        return set(c.scalars(select(DigestRun.key).where(DigestRun.key.in_(list(keys)))))
