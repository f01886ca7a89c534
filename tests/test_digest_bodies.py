"""Rendered bodies per (run, format) (migration 0010): a database made before it upgrades in
place, keeps its bodies, and its pending deliveries still go out, byte for byte; on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from monitor.cli.digests import history
from monitor.deliver import deliver, prune, resend
from monitor.store import Store
from monitor.store.db import make_engine, upgrade
from monitor.store.digests import digest_bodies
from tests.support import Receiver
from tests.test_outbox import config_with, daily, hook

CREATED = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
PAYLOAD = json.dumps({"schema": "monitor.digest/1", "subject": "made before 0010"})


def _old_run(c: object, run_id: int, key: str, bodies: tuple[str, str, str, str]) -> None:
    c.execute(text(  # type: ignore[attr-defined]
        "INSERT INTO digest_runs (id, name, kind, key, window_start, window_end, timezone, "
        "created, subject, hit_count, story_count, message_id, body_text, body_html, "
        "payload, slack) VALUES (:id, 'daily', 'digest', :key, :start, :end, "
        "'Europe/Berlin', :created, 'monitor daily — old', 0, 1, :mid, :t, :h, :p, :s)"),
        {"id": run_id, "key": key, "start": CREATED - timedelta(days=1), "end": CREATED,
         "created": CREATED, "mid": f"<{key}.digest@example.org>", "t": bodies[0],
         "h": bodies[1], "p": bodies[2], "s": bodies[3]})


def test_a_database_from_before_0010_upgrades_and_its_pending_delivery_goes_out(
        db_url: str, receiver: Receiver) -> None:
    channel = hook(receiver)
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0008")
        with engine.begin() as c:
            _old_run(c, 1, "k1", ("old text\n", "<p>old html</p>", PAYLOAD, "*old*"))
            _old_run(c, 2, "k2", ("", "", "", ""))  # pruned by housekeeping before 0010
            c.execute(text(
                "INSERT INTO deliveries (run_id, channel, status, attempts, next_attempt, "
                "created) VALUES (1, :channel, 'pending', 0, :now, :now)"),
                {"channel": channel.ident, "now": CREATED})
        upgrade(engine)
        columns = {col["name"] for col in inspect(engine).get_columns("digest_runs")}
        assert not {"body_text", "body_html", "payload", "slack"} & columns
        with engine.begin() as c:
            rows = sorted(c.execute(text("SELECT run_id, format FROM digest_bodies")).all())
        assert [tuple(r) for r in rows] == [(1, "html"), (1, "json"), (1, "slack"),
                                            (1, "text")]
    finally:
        engine.dispose()
    store = Store(db_url)
    try:
        report = deliver(store, config_with(store, daily(channel)), NOW)
        assert (report.sent, report.failed) == (1, 0)
        [got] = receiver.received
        assert got.body == PAYLOAD.encode()  # the stored bytes, as rendered before 0010
        assert got.headers["idempotency-key"] == "k1"
        assert history(store)[-1]["status"] == "sent"
        assert digest_bodies(store, 1) == ("<p>old html</p>", "old text\n")
        assert digest_bodies(store, 2) == ("", "") and digest_bodies(store, 3) is None
        assert prune(store, NOW + timedelta(days=1)) == 1  # only run 1 had bodies to drop
        assert digest_bodies(store, 1) == ("", "")
    finally:
        store.close()
    engine = make_engine(db_url)
    try:
        downgrade(engine, "0008")  # and back: the columns return with the bodies kept
        with engine.begin() as c:
            assert c.execute(text("SELECT body_text, payload FROM digest_runs WHERE id = 1")
                             ).one() == ("", "")  # pruned
            assert c.execute(text("SELECT count(*) FROM deliveries")).scalar_one() == 1
    finally:
        engine.dispose()


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from monitor.store.db import MIGRATIONS

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_runs_store_the_formats_their_channels_send(store: Store, receiver: Receiver,
                                                    tmp_path: Path) -> None:
    from monitor.channels import FileChannel, SlackChannel
    from monitor.deliver import ensure_schedules, run_digests
    from monitor.render import Renderer
    from tests.test_outbox import add_story

    slack = SlackChannel(url=receiver.url("/slack"), allow_private_addresses=True)
    (tmp_path / "a-file").write_text("not a folder")
    config = config_with(store, daily(slack, FileChannel(dir=str(tmp_path / "a-file" / "x"))))
    ensure_schedules(store, config, datetime(2026, 11, 20, 9, tzinfo=UTC))
    add_story(store, 1, datetime(2026, 11, 20, 12, tzinfo=UTC))
    [made] = run_digests(store, config, Renderer(), NOW)
    with store.engine.begin() as c:
        formats = sorted(c.execute(text("SELECT format FROM digest_bodies WHERE run_id = :r"),
                                   {"r": made.run_id}).scalars())
    assert formats == ["html", "json", "slack", "text"]
    report = deliver(store, config, NOW)
    assert report.sent == 1 and report.retrying == 1  # the folder cannot be made
    [got] = receiver.received
    assert json.loads(got.body)["text"].startswith("*monitor daily")
    assert history(store)[0]["deliveries"][0]["channel"].startswith("slack:http://127.0.0.1")
    assert resend(store, 99, NOW) == "no delivery 99"
