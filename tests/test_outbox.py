"""Digest and alert delivery guarantees, on SQLite and PostgreSQL, against real servers:
each hit in exactly one digest per definition, windows across DST and downtime, retries that
survive a restart, a crash between sending and recording, once-per-story alerts."""

from __future__ import annotations

import email
import json
import random
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy

import pytest
import wordfreq
from sqlalchemy import func, select

from monitor.channels import Outgoing, Sender
from monitor.channels import channel as make_channel
from monitor.channels.webhook import verify
from monitor.cli.digests import history
from monitor.config import Config
from monitor.config.delivery import (
    AlertsConfig,
    ChannelConfig,
    DeliveryConfig,
    DigestConfig,
    SmtpConfig,
)
from monitor.dedupe import fingerprint
from monitor.deliver import deliver, ensure_schedules, make_alerts, make_digest, run_digests
from monitor.render import Renderer
from monitor.store import NewArticle, NewHit, Store
from monitor.store.models import DigestBody, DigestHit, DigestRun, Hit
from tests.support import SMTP_PASSWORD, SMTP_USER, Mailbox, Receiver

SECRET = "hook-secret"
# A broad vocabulary: two reports drawn from it are different happenings (a handful of words
# in common), not one event; a copy of a report is the same story.
WORDS = tuple(w for w in wordfreq.top_n_list("en", 3000) if w.isalpha() and len(w) > 3)
RENDER = Renderer()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc, arg-type]


def text_of(n: int) -> str:
    rng = random.Random(n)
    return f"Report {n}. " + " ".join(rng.choice(WORDS) for _ in range(120)) + "."


def add_story(store: Store, n: int, at: datetime, entries: tuple[str, ...] = ("putin",), *,
              priority: str = "normal", notify: bool = True, url: str | None = None,
              text: str | None = None) -> int:
    text = text or text_of(n)
    hits = [NewHit(watchlist="desk", entry=e, kind="topic" if e == "sanctions" else "actor",
                   name=e.title(), matched=e.title(), alias=e.title(), score=100.0,
                   start=0, end=5, snippet=f"{e.title()} in report {n}.",
                   priority=priority, entry_version="v1", notify=notify,
                   found_by="poll" if notify else "backfill") for e in entries]
    link = url or f"https://news.example/{n}"
    new = NewArticle(feed_id=None, item_key=None, item_url=link, url=link, canonical_url=link,
                     title=f"Story {n}", author=None, published=at, language="en",
                     text_source="page", text=text, fingerprint=fingerprint(text), hits=hits)
    return store.add_article(new, at).story_id


def daily(*channels: ChannelConfig, **changes: object) -> DigestConfig:
    base: dict[str, object] = {"name": "daily", "schedule": "0 7 * * *",
                               "timezone": "Europe/Berlin", "channels": channels}
    base.update(changes)
    return DigestConfig(**base)  # type: ignore[arg-type]


def config_with(store: Store, *digests: DigestConfig, smtp: SmtpConfig | None = None,
                alerts: tuple[ChannelConfig, ...] = (), attempts: int = 4) -> Config:
    return Config(database=str(store.engine.url), smtp=smtp, digests=digests,
                  alerts=AlertsConfig(alerts),
                  delivery=DeliveryConfig(max_attempts=attempts, backoff=60, max_backoff=600))


def hook(receiver: Receiver, **changes: object) -> ChannelConfig:
    base: dict[str, object] = {"url": receiver.url(), "secret": SECRET,
                             "allow_private_addresses": True}
    base.update(changes)
    return make_channel("webhook", **base)  # type: ignore[arg-type]


def claims(store: Store) -> list[tuple[str, int, int]]:
    with store.engine.begin() as c:
        rows = c.execute(select(DigestHit.name, DigestHit.hit_id, DigestHit.run_id))
        return sorted((name, hit, run) for name, hit, run in rows)


def stories_in(receiver: Receiver) -> list[list[int]]:
    out = []
    for got in receiver.received:
        body = json.loads(got.body)
        out.append(sorted(s["story_id"] for w in body["watchlists"] for e in w["entries"]
                          for s in e["stories"]))
    return out


# --- windows and exactly-once -------------------------------------------------------------


def test_every_hit_goes_into_exactly_one_digest(store: Store, receiver: Receiver) -> None:
    config = config_with(store, daily(hook(receiver)))
    ensure_schedules(store, config, utc(2026, 11, 20, 9))  # anchor: 07:00 Berlin that day
    a = add_story(store, 1, utc(2026, 11, 20, 10))
    b = add_story(store, 2, utc(2026, 11, 21, 5, 59))      # 06:59 Berlin: first window
    c = add_story(store, 3, utc(2026, 11, 21, 6))           # 07:00 Berlin: second window
    assert run_digests(store, config, RENDER, utc(2026, 11, 21, 5, 59)) == []  # not yet
    [first] = run_digests(store, config, RENDER, utc(2026, 11, 21, 6, 0, 30))
    assert run_digests(store, config, RENDER, utc(2026, 11, 21, 6, 1)) == []   # not twice
    late = add_story(store, 4, utc(2026, 11, 21, 5, 30))  # written late, stamped earlier
    d = add_story(store, 5, utc(2026, 11, 22, 5))
    [second] = run_digests(store, config, RENDER, utc(2026, 11, 22, 6, 0, 1))
    assert deliver(store, config, utc(2026, 11, 22, 6, 1)).sent == 2
    assert stories_in(receiver) == [sorted([a, b]), sorted([c, late, d])]
    taken = claims(store)
    with store.engine.begin() as conn:
        assert len(taken) == conn.execute(select(func.count()).select_from(Hit)).scalar() == 5
    assert len({hit for _, hit, _ in taken}) == 5
    assert (first.digest.window_start, first.digest.window_end) == (
        utc(2026, 11, 20, 6), utc(2026, 11, 21, 6))
    assert second.digest.window_start == first.digest.window_end


def test_windows_across_the_dst_change(store: Store, receiver: Receiver) -> None:
    config = config_with(store, daily(hook(receiver)))
    ensure_schedules(store, config, utc(2026, 3, 27, 12))  # anchor 07:00 CET, 27 March
    before = add_story(store, 1, utc(2026, 3, 29, 4, 30))  # 06:30 CEST, 29 March
    after = add_story(store, 2, utc(2026, 3, 29, 5, 30))   # 07:30 CEST
    made = run_digests(store, config, RENDER, utc(2026, 3, 29, 5, 0, 1))  # 07:00 CEST
    assert [(m.digest.window_start, m.digest.window_end) for m in made] == [
        (utc(2026, 3, 27, 6), utc(2026, 3, 29, 5))]  # two missed mornings, one digest
    made = run_digests(store, config, RENDER, utc(2026, 3, 30, 5, 0, 1))
    assert [m.digest.window_end - m.digest.window_start  # type: ignore[operator]
            for m in made] == [timedelta(hours=24)]
    deliver(store, config, utc(2026, 3, 30, 6))
    assert stories_in(receiver) == [[before], [after]]


def test_downtime_is_caught_up_once(store: Store, receiver: Receiver) -> None:
    config = config_with(store, daily(hook(receiver)))
    ensure_schedules(store, config, utc(2026, 11, 20, 9))
    story = add_story(store, 1, utc(2026, 11, 21, 12))
    # down from the 21st to the 24th; on restart the missed windows come as one digest
    [made] = run_digests(store, config, RENDER, utc(2026, 11, 24, 9))
    assert (made.digest.window_start, made.digest.window_end) == (
        utc(2026, 11, 20, 6), utc(2026, 11, 24, 6))
    assert run_digests(store, config, RENDER, utc(2026, 11, 24, 10)) == []
    deliver(store, config, utc(2026, 11, 24, 9))
    assert stories_in(receiver) == [[story]]


def test_two_processes_make_one_digest_per_window(db_url: str, receiver: Receiver) -> None:
    one, two = Store(db_url), Store(db_url)
    try:
        config = config_with(one, daily(hook(receiver)))
        ensure_schedules(one, config, utc(2026, 11, 20, 9))
        add_story(one, 1, utc(2026, 11, 20, 12))
        window = (utc(2026, 11, 20, 6), utc(2026, 11, 21, 6))
        first = make_digest(one, config, RENDER, config.digests[0], window, utc(2026, 11, 21, 6))
        again = make_digest(two, config, RENDER, config.digests[0], window, utc(2026, 11, 21, 6))
        assert first.run_id is not None and again.run_id is None
        deliver(one, config, utc(2026, 11, 21, 6))
        deliver(two, config, utc(2026, 11, 21, 6))
        assert len(receiver.received) == 1
    finally:
        one.close()
        two.close()


def test_filters_and_send_empty(store: Store, receiver: Receiver) -> None:
    topics = daily(hook(receiver, url=receiver.url("/topics")), name="topics",
                   kinds=("topic",))
    quiet = daily(hook(receiver, url=receiver.url("/quiet")), name="quiet",
                  entries=("desk/nobody",))
    loud = daily(hook(receiver, url=receiver.url("/loud")), name="loud", entries=("nobody",),
                 send_empty=True)
    config = config_with(store, topics, quiet, loud)
    ensure_schedules(store, config, utc(2026, 11, 20, 9))
    add_story(store, 1, utc(2026, 11, 20, 12), ("putin",))
    sanctions = add_story(store, 2, utc(2026, 11, 20, 13), ("sanctions",))
    made = run_digests(store, config, RENDER, utc(2026, 11, 21, 7))
    assert [(m.name, len(m.digest.stories), m.deliveries) for m in made] == [
        ("topics", 1, 1), ("quiet", 0, 0), ("loud", 0, 1)]
    deliver(store, config, utc(2026, 11, 21, 7))
    by_path = {r.path: json.loads(r.body) for r in receiver.received}
    assert set(by_path) == {"/topics", "/loud"}
    assert by_path["/loud"]["story_count"] == 0
    assert by_path["/topics"]["watchlists"][0]["entries"][0]["stories"][0]["story_id"] == \
        sanctions
    assert [r["status"] for r in history(store)] == ["sent", "empty", "sent"]


def test_backfill_hits_wait_for_notify(store: Store, receiver: Receiver) -> None:
    config = config_with(store, daily(hook(receiver)))
    ensure_schedules(store, config, utc(2026, 11, 20, 9))
    add_story(store, 1, utc(2026, 11, 20, 12), notify=False)  # backfill, default
    shown = add_story(store, 2, utc(2026, 11, 20, 13), notify=True)  # backfill --notify
    run_digests(store, config, RENDER, utc(2026, 11, 21, 7))
    deliver(store, config, utc(2026, 11, 21, 7))
    assert stories_in(receiver) == [[shown]]


# --- delivery: retries, restarts, crashes ---------------------------------------------------


def test_failing_webhook_is_retried_with_backoff_across_a_restart(
        db_url: str, receiver: Receiver) -> None:
    store = Store(db_url)
    config = config_with(store, daily(hook(receiver)))
    ensure_schedules(store, config, utc(2026, 11, 20, 9))
    add_story(store, 1, utc(2026, 11, 20, 12))
    receiver.replies = [500, 503]
    start = utc(2026, 11, 21, 6, 0, 1)
    run_digests(store, config, RENDER, start)
    assert deliver(store, config, start).retrying == 1
    assert deliver(store, config, start + timedelta(seconds=59)).sent == 0  # backing off
    assert deliver(store, config, start + timedelta(seconds=61)).retrying == 1
    [row] = history(store)
    assert row["status"] == "retrying" and row["deliveries"][0]["attempts"] == 2
    assert "HTTP 503" in row["deliveries"][0]["last_error"]
    store.close()  # a restart: the queue is in the database
    store = Store(db_url)
    assert deliver(store, config, start + timedelta(seconds=61 + 119)).sent == 0
    assert deliver(store, config, start + timedelta(seconds=61 + 121)).sent == 1
    [row] = history(store)
    assert row["status"] == "sent" and row["deliveries"][0]["attempts"] == 3
    bodies = {r.body for r in receiver.received}
    keys = {r.headers["idempotency-key"] for r in receiver.received}
    assert len(receiver.received) == 3 and len(bodies) == 1 and len(keys) == 1
    for got in receiver.received:
        assert verify(SECRET, got.headers["x-monitor-signature"], got.body,
                      start.timestamp() + 200)
    store.close()


def test_after_the_last_attempt_the_delivery_is_failed_and_visible(
        store: Store, receiver: Receiver) -> None:
    config = config_with(store, daily(hook(receiver)), attempts=2)
    ensure_schedules(store, config, utc(2026, 11, 20, 9))
    add_story(store, 1, utc(2026, 11, 20, 12))
    receiver.replies = [500, 500, 500]
    now = utc(2026, 11, 21, 7)
    run_digests(store, config, RENDER, now)
    deliver(store, config, now)
    report = deliver(store, config, now + timedelta(hours=1))
    assert report.failed == 1
    [row] = history(store)
    assert row["status"] == "failed" and "gave up after attempt 2" in \
        row["deliveries"][0]["last_error"]
    assert deliver(store, config, now + timedelta(days=1)).sent == 0


def test_a_4xx_is_not_retried(store: Store, receiver: Receiver) -> None:
    config = config_with(store, daily(hook(receiver)))
    ensure_schedules(store, config, utc(2026, 11, 20, 9))
    add_story(store, 1, utc(2026, 11, 20, 12))
    receiver.replies = [404]
    run_digests(store, config, RENDER, utc(2026, 11, 21, 7))
    assert deliver(store, config, utc(2026, 11, 21, 7)).failed == 1
    assert "not retried" in history(store)[0]["deliveries"][0]["last_error"]


class Crash(BaseException):
    """The process dies (kill -9) right after the server took the message."""


class CrashAfterSending(Sender):
    def send(self, channel: ChannelConfig, out: Outgoing, now: datetime) -> None:
        super().send(channel, out, now)
        raise Crash


def smtp_for(box: Mailbox) -> SmtpConfig:
    return SmtpConfig(host="127.0.0.1", port=box.port, username=SMTP_USER,
                      password=SMTP_PASSWORD, sender="monitor <monitor@example.org>",
                      timeout=5.0, ca_file=box.ca_file)


def test_a_crash_between_send_and_record_resends_the_same_message(
        db_url: str, smtp_server: Mailbox) -> None:
    store = Store(db_url)
    smtp = smtp_for(smtp_server)
    config = config_with(store, daily(make_channel("email", to=("desk@example.org",))),
                         smtp=smtp)
    ensure_schedules(store, config, utc(2026, 11, 20, 9))
    add_story(store, 1, utc(2026, 11, 20, 12))
    now = utc(2026, 11, 21, 7)
    run_digests(store, config, RENDER, now)
    with pytest.raises(Crash):
        deliver(store, config, now, CrashAfterSending(smtp))
    store.close()
    store = Store(db_url)  # restarted
    assert deliver(store, config, now + timedelta(minutes=1)).sent == 0  # still leased
    assert deliver(store, config, now + timedelta(minutes=11)).sent == 1
    ids = [email.message_from_bytes(raw, policy=default_policy)["Message-ID"]
           for _, _, raw in smtp_server.messages]
    assert len(ids) == 2 and ids[0] == ids[1]
    with store.engine.begin() as c:
        assert c.execute(select(func.count()).select_from(DigestRun)).scalar() == 1
    assert len(claims(store)) == 1
    assert run_digests(store, config, RENDER, now + timedelta(minutes=12)) == []
    store.close()


def test_email_digest_arrives_with_text_and_html(store: Store, smtp_server: Mailbox) -> None:
    config = config_with(store, daily(make_channel("email", to=("desk@example.org",))),
                         smtp=smtp_for(smtp_server))
    ensure_schedules(store, config, utc(2026, 11, 20, 9))
    add_story(store, 1, utc(2026, 11, 20, 12), ("putin", "sanctions"))
    smtp_server.refuse = ["421 4.3.2 shutting down"]  # down for the first attempt
    now = utc(2026, 11, 21, 7)
    run_digests(store, config, RENDER, now)
    assert deliver(store, config, now).retrying == 1
    assert deliver(store, config, now + timedelta(minutes=2)).sent == 1
    [(_, to, raw)] = smtp_server.messages
    message = email.message_from_bytes(raw, policy=default_policy)
    assert to == ["desk@example.org"] and message["To"] == "desk@example.org"
    assert message["Subject"] == "monitor daily — Putin: 1 event"
    assert message["Message-ID"].endswith("@example.org>")
    html, text = message.get_body(("html",)), message.get_body(("plain",))
    assert html is not None and text is not None
    assert "Story 1" in html.get_content() and "Story 1" in text.get_content()


# --- alerts ---------------------------------------------------------------------------------


def test_alerts_go_out_once_per_story(store: Store, receiver: Receiver) -> None:
    config = config_with(store, alerts=(hook(receiver),))
    now = utc(2026, 11, 25, 8)
    ensure_schedules(store, config, now)
    story = add_story(store, 1, now + timedelta(minutes=1), ("kim",), priority="high")
    add_story(store, 2, now + timedelta(minutes=1), ("putin",))  # normal priority: no alert
    assert len(make_alerts(store, config, RENDER, now + timedelta(minutes=2))) == 1
    deliver(store, config, now + timedelta(minutes=2))
    # the same story again (a copy from another outlet) with a second high entry: no alert
    add_story(store, 3, now + timedelta(minutes=3), ("kim", "shoigu"), priority="high",
              url="https://other.example/copy", text=text_of(1) + " Shoigu too.")
    assert make_alerts(store, config, RENDER, now + timedelta(minutes=4)) == []
    other = add_story(store, 4, now + timedelta(minutes=5), ("kim",), priority="high")
    assert len(make_alerts(store, config, RENDER, now + timedelta(minutes=6))) == 1
    deliver(store, config, now + timedelta(minutes=6))
    assert stories_in(receiver) == [[story], [other]]
    first = json.loads(receiver.received[0].body)
    assert first["kind"] == "alert" and first["subject"].startswith("monitor alert — Kim: ")
    assert [r["digest"] for r in history(store)] == ["alerts", "alerts"]


def test_source_health_footer(store: Store, receiver: Receiver) -> None:
    from monitor.store.queries import feed_health

    start = utc(2026, 11, 24, 0)
    quiet, _ = store.add_feed("https://quiet.example/rss", start, name="Quiet Wire")
    broken, _ = store.add_feed("https://broken.example/rss", start, name="Broken Wire")
    steady, _ = store.add_feed("https://steady.example/rss", start, name="Steady Wire")
    for i in range(6):  # both publish hourly...
        for feed in (quiet, steady):
            store.add_source(feed.id, f"k{i}", f"https://x.example/{feed.id}/{i}", None, None,
                             start + timedelta(hours=i))
    store.add_source(steady.id, "late", "https://x.example/late", None, None,
                     start + timedelta(hours=14))  # ...but only one kept going
    store.update_feed(broken.id, state="failing", error_count=4, last_error="HTTP 503")
    for feed in (quiet, steady):
        store.update_feed(feed.id, last_polled=start + timedelta(hours=15))
    notes = feed_health(store, start + timedelta(hours=15))
    assert [(n.feed, n.problem) for n in notes] == [
        ("Quiet Wire", "silent for 10 hours (new items usually every 60 minutes)"),
        ("Broken Wire", "failing: 4 polls in a row, last error: HTTP 503")]
    config = config_with(store, daily(hook(receiver)))
    ensure_schedules(store, config, start)
    run_digests(store, config, RENDER, start + timedelta(days=1))
    with store.engine.begin() as c:
        text = c.execute(select(DigestBody.body).where(DigestBody.format == "text")).scalar_one()
    assert "-- Source health --" in text and "Broken Wire: failing" in text


class Broken(Sender):
    def send(self, channel: ChannelConfig, out: Outgoing, now: datetime) -> None:
        raise RuntimeError("unexpected reply")


def test_unexpected_errors_and_repeated_crashes_end_in_failed(store: Store,
                                                               receiver: Receiver) -> None:
    config = config_with(store, daily(hook(receiver)), attempts=3)
    ensure_schedules(store, config, utc(2026, 11, 20, 9))
    add_story(store, 1, utc(2026, 11, 20, 12))
    now = utc(2026, 11, 21, 7)
    run_digests(store, config, RENDER, now)
    report = deliver(store, config, now, Broken(None))
    assert report.retrying == 1 and "RuntimeError: unexpected reply" in report.errors[0]
    for minutes in (5, 20):  # the process dies mid-send, twice
        with pytest.raises(Crash):
            deliver(store, config, now + timedelta(minutes=minutes), CrashAfterSending(None))
    assert deliver(store, config, now + timedelta(hours=1)).failed == 1
    assert "without an outcome" in history(store)[0]["deliveries"][0]["last_error"]


def test_old_rendered_digests_are_pruned_but_their_claims_kept(store: Store,
                                                               receiver: Receiver) -> None:
    from monitor.deliver import prune

    config = config_with(store, daily(hook(receiver)))
    ensure_schedules(store, config, utc(2026, 11, 20, 9))
    add_story(store, 1, utc(2026, 11, 20, 12))
    run_digests(store, config, RENDER, utc(2026, 11, 21, 7))
    assert prune(store, utc(2027, 1, 1)) == 0  # its delivery is still pending
    deliver(store, config, utc(2026, 11, 21, 7))
    assert prune(store, utc(2026, 11, 21)) == 0  # not old enough
    assert prune(store, utc(2027, 1, 1)) == 1
    assert len(claims(store)) == 1 and history(store)[0]["status"] == "sent"
    assert run_digests(store, config, RENDER, utc(2026, 11, 22, 7))[0].digest.stories == []
