"""The digest's Trends section: rising entries with a sparkline (text) and an inline SVG
(HTML), only those the digest's filters take, and nothing when nothing rose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.config import Config
from monitor.config.delivery import DigestConfig
from monitor.deliver import make_digest
from monitor.render import Renderer
from monitor.store import Store
from tests.test_spike_alerts import add

END = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # Thursday 07:00: Wednesday is judged
WEDNESDAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def digest(**changes: object) -> DigestConfig:
    base: dict[str, object] = {"name": "daily", "schedule": "0 7 * * *", "timezone": "UTC",
                               "channels": (), "send_empty": True}
    base.update(changes)
    return DigestConfig(**base)  # type: ignore[arg-type]


def render(store: Store, config: DigestConfig) -> tuple[str, str]:
    made = make_digest(store, Config(database=str(store.engine.url)), Renderer(), config,
                       (END - timedelta(days=1), END), END)
    rendered = Renderer().render(made.digest)
    return rendered.text, rendered.html


def test_a_rising_entry_is_drawn_and_the_steady_ones_are_not(store: Store) -> None:
    usual = {back: 1 + back % 2 for back in range(1, 60)}
    add(store, "shoigu", {**usual, 0: 12}, now=WEDNESDAY)
    add(store, "lavrov", {**usual, 0: 2}, now=WEDNESDAY)
    text, html = render(store, digest())
    section = text.split("== Trends ==", 1)[1]
    assert "* Shoigu: " in section and "12 events on 2026-11-25" in section
    assert "(spike)" in section and "█" in section and "Lavrov" not in section
    assert html.count("<svg") == 1 and ">Trends</h2>" in html and "spike" in html
    assert "<title>Shoigu: events a day</title>" in html
    # a digest of another watchlist leaves it out
    other_text, other_html = render(store, digest(name="other", watchlists=("elsewhere",)))
    assert "Trends" not in other_text and "<svg" not in other_html


def test_nothing_rose_no_section(store: Store) -> None:
    add(store, "lavrov", {back: 2 for back in range(0, 40)}, now=WEDNESDAY)
    text, html = render(store, digest())
    assert "Trends" not in text and "Trends" not in html and "<svg" not in html
