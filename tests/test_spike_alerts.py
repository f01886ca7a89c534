"""Spike alerts (spikealerts.py through deliver.make_alerts), on SQLite and PostgreSQL: a
backfilled history alone sends nothing, a live poll on a spike day sends one alert (once per
entry and day) that explains itself; weekly rhythms, new entries and DST days are right."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.channels import channel as make_channel
from monitor.config import Config
from monitor.config.delivery import AlertsConfig
from monitor.config.trends import TrendsConfig
from monitor.deliver import deliver, ensure_schedules, make_alerts
from monitor.render import Renderer
from monitor.store import Store
from monitor.trendreport import trends
from tests.support import Receiver, Server
from tests.test_trends_store import article, hit

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday
RENDER = Renderer()
BACKFILL = {"found_by": "backfill", "notify": False}


def config_for(store: Store, receiver: Receiver, timezone: str = "UTC") -> Config:
    channel = make_channel("webhook", url=receiver.url(), secret="s", allow_private_addresses=True)
    return Config(database=str(store.engine.url), alerts=AlertsConfig((channel,)),
                  trends=TrendsConfig(timezone=timezone))


def add(store: Store, entry: str, per_day: dict[int, int], *, now: datetime = NOW,
        live: bool = False, tag: str = "") -> None:
    """``per_day[back]`` stories naming ``entry`` ``back`` days before ``now`` (same hour)."""
    extra: dict[str, Any] = {} if live else BACKFILL
    batch = [article(f"https://{entry}{tag}.example/{back}/{n}",
                     zlib.crc32(f"{entry}/{tag}/{back}/{n}".encode()),
                     now - timedelta(days=back, minutes=n), [hit(entry, **extra)])
             for back, count in per_day.items() for n in range(count)]
    if live:
        for new in batch:
            store.add_article(new, now)
    else:
        store.add_articles(batch, now)


def sent(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received]


def test_a_backfilled_spike_alerts_only_on_a_live_poll_and_once(
        store: Store, receiver: Receiver) -> None:
    config = config_for(store, receiver)
    ensure_schedules(store, config, NOW - timedelta(days=61))
    usual = {back: [1, 2, 0, 3, 1, 2, 0][back % 7] for back in range(1, 61)}
    add(store, "shoigu", {**usual, 20: 12, 0: 14})  # spikes 20 days ago and today
    assert make_alerts(store, config, RENDER, NOW) == []  # the backfill alone: nothing
    add(store, "shoigu", {0: 1}, now=NOW + timedelta(minutes=5), live=True, tag="live")
    made = make_alerts(store, config, RENDER, NOW + timedelta(minutes=6))
    assert len(made) == 1 and made[0].deliveries == 1
    deliver(store, config, NOW + timedelta(minutes=6))
    [alert] = sent(receiver)
    assert alert["kind"] == "alert"
    assert alert["subject"].startswith("Shoigu: 15 events today, usually 0-2 a day. Top: ")
    [entry] = alert["watchlists"][0]["entries"]
    assert entry["id"] == "shoigu" and len(entry["stories"]) == 3
    assert all(s["url"].startswith("https://shoigu") for s in entry["stories"])
    assert alert["hit_count"] == 0  # claims no hit: per-story alerts are untouched
    # more live hits the same day: no second alert
    add(store, "shoigu", {0: 2}, now=NOW + timedelta(minutes=10), live=True, tag="later")
    assert make_alerts(store, config, RENDER, NOW + timedelta(minutes=11)) == []
    # the next day, back to usual: nothing either
    tomorrow = NOW + timedelta(days=1)
    add(store, "shoigu", {0: 2}, now=tomorrow, live=True, tag="next")
    assert make_alerts(store, config, RENDER, tomorrow + timedelta(minutes=1)) == []


def test_a_weekly_rhythm_is_not_a_spike(store: Store, receiver: Receiver) -> None:
    """10-12 events a weekday, 1-2 a weekend day: Monday's 12 after a quiet Sunday is usual."""
    monday = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    config = config_for(store, receiver)
    ensure_schedules(store, config, monday - timedelta(days=61))
    per_day = {}
    for back in range(0, 56):
        weekend = (monday - timedelta(days=back)).weekday() >= 5
        per_day[back] = (1 + back % 2) if weekend else (10 + back % 3)
    add(store, "lavrov", {b: n for b, n in per_day.items() if b}, now=monday)
    add(store, "lavrov", {0: per_day[0]}, now=monday, live=True)
    assert per_day[0] == 10 and per_day[1] == 2
    assert make_alerts(store, config, RENDER, monday + timedelta(minutes=1)) == []
    [trend] = trends(store, config.trends, monday, 40)
    assert not any(d.spike for d in trend.days)


def test_a_brand_new_entry_never_spikes(store: Store, receiver: Receiver) -> None:
    config = config_for(store, receiver)
    ensure_schedules(store, config, NOW - timedelta(days=30))
    add(store, "newcomer", {back: 1 for back in range(1, 10)}, live=True)
    add(store, "newcomer", {0: 20}, live=True, tag="today")
    assert make_alerts(store, config, RENDER, NOW + timedelta(minutes=1)) == []
    [trend] = trends(store, config.trends, NOW, 1)
    assert trend.today.count == 20 and not trend.today.spike
    assert trend.counts.history_days(NOW.date()) == 10


def test_the_dst_day_counts_its_own_23_hours(store: Store, receiver: Receiver) -> None:
    """Berlin, 2026-03-29 (a Sunday): 00:00 CET is 23:00 UTC the day before, 23:59 CEST
    21:59 UTC; articles just outside those hours count on the days either side."""
    store.trends.use("Europe/Berlin")
    config = config_for(store, receiver, "Europe/Berlin")
    now = datetime(2026, 3, 29, 21, 55, tzinfo=UTC)
    ensure_schedules(store, config, now - timedelta(days=40))
    noon = datetime(2026, 3, 29, 11, 0, tzinfo=UTC)
    add(store, "shoigu", {back: 1 for back in range(1, 36)}, now=noon)
    inside = [datetime(2026, 3, 28, 23, 5, tzinfo=UTC), datetime(2026, 3, 29, 0, 59, tzinfo=UTC),
              datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 3, 29, 21, 50, tzinfo=UTC)]
    inside += [datetime(2026, 3, 29, 12, n, tzinfo=UTC) for n in range(4)]
    outside = [datetime(2026, 3, 28, 22, 55, tzinfo=UTC), datetime(2026, 3, 29, 22, 5, tzinfo=UTC)]
    for i, when in enumerate(inside + outside):
        seen = max(when, now)  # the one after midnight is seen after it
        store.add_article(article(f"https://dst.example/{i}", 7000 + i, when, [hit()]), seen)
    made = make_alerts(store, config, RENDER, now)
    assert len(made) == 1  # usually: the Saturday before has 2 (13:00 and 23:55 CET)
    assert made[0].digest.subject.startswith("Shoigu: 8 events today, usually 1-2 a day.")
    later = now + timedelta(hours=1)  # 00:55 CEST on the 30th
    [trend] = trends(store, config.trends, later, 3)
    assert [(d.day.isoformat(), d.count) for d in trend.days] == [
        ("2026-03-28", 2), ("2026-03-29", 8), ("2026-03-30", 1)]  # the 28th: 13:00 and 23:55


def test_a_real_poll_cycle_sends_the_spike_alert(server: Server, store: Store,
                                                 receiver: Receiver) -> None:
    """The whole path: a backfilled history, then `poll --once`'s cycle storing one live
    article: it counts, alerts (make_alerts in the cycle) and delivers, once."""
    from dataclasses import replace

    from monitor.ingest import Context, sync_feeds
    from monitor.scheduler import cycle
    from monitor.watchlist import load_watchlists
    from tests.support import Reply, article_html
    from tests.test_pipeline import OTHER, config_for, feed_of

    now = NOW.replace(hour=8)
    watchlist = "russia-asia-diplomacy"
    zelensky = {"watchlist": watchlist, "name": "Volodymyr Zelensky", "kind": "actor"}
    batch = [article(f"https://z.example/{back}/{n}", 9000 + back * 10 + n,
                     now - timedelta(days=back, minutes=n),
                     [hit("zelensky", **zelensky, **BACKFILL)])
             for back in range(0, 40) for n in range(6 if back == 0 else back % 2)]
    store.add_articles(batch, now)
    server.routes["/z"] = Reply(200, article_html("Zelensky asks for air defence", OTHER))
    feed_of(server, "/world.rss", [("Zelensky asks for air defence", "/z")])
    channel = make_channel("webhook", url=receiver.url(), secret="s", allow_private_addresses=True)
    config = replace(config_for(store.url, [server.url("/world.rss")]),
                     alerts=AlertsConfig((channel,)))
    ensure_schedules(store, config, now - timedelta(days=1))
    assert make_alerts(store, config, RENDER, now) == []  # the backfill alone
    sync_feeds(store, config.feeds, now)
    context = Context.create(config, store, load_watchlists(config.watchlists), lambda: now)
    summary = cycle(context, store.feeds())
    assert (summary.articles_new, summary.alerts, summary.delivered) == (1, 1, 1)
    [alert] = sent(receiver)
    assert alert["subject"].startswith("Volodymyr Zelensky: 7 events today, usually 0-1 a day")
    assert cycle(context, store.feeds()).alerts == 0
