"""Alerts inside the poll cycle (the whole pipeline against local servers) and the digest
commands: `monitor digest preview|send`, `monitor digests list`."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from monitor.channels import channel as make_channel
from monitor.cli import main
from monitor.config.delivery import AlertsConfig
from monitor.ingest import Context, sync_feeds
from monitor.scheduler import cycle
from monitor.store import Store
from monitor.watchlist import load_watchlists
from tests.support import Receiver, Reply, Server, article_html
from tests.test_outbox import add_story
from tests.test_pipeline import OTHER, PARAGRAPHS, Clock, config_for, feed_of

WATCHLIST = """watchlist: desk
entries:
  - {id: kim-jong-un, kind: actor, name: Kim Jong Un, aliases: [Kim Jong-un], priority: high}
  - {id: putin, kind: actor, name: Vladimir Putin, aliases: [Putin]}
  - {id: zelensky, kind: actor, name: Volodymyr Zelensky, aliases: [Zelensky], priority: high}
"""


def test_high_priority_alerts_go_out_in_the_cycle_that_found_them(
        server: Server, store: Store, receiver: Receiver, tmp_path: Path) -> None:
    (tmp_path / "desk.yaml").write_text(WATCHLIST)
    hook = make_channel("webhook", url=receiver.url("/alerts"), allow_private_addresses=True)
    config = replace(config_for(str(store.engine.url), [server.url("/feed")]),
                     watchlists=str(tmp_path), digests=(), alerts=AlertsConfig((hook,)))
    server.routes["/a"] = Reply(200, article_html("Putin meets Kim", PARAGRAPHS),
                                {"Content-Type": "text/html"})
    feed_of(server, "/feed", [("Putin meets Kim", "/a")])
    clock = Clock()
    context = Context.create(config, store, load_watchlists(config.watchlists), clock)
    sync_feeds(store, config.feeds, clock())
    summary = cycle(context, store.due_feeds(clock()))
    assert (summary.alerts, summary.delivered) == (1, 1)
    [got] = receiver.received
    body = json.loads(got.body)
    assert body["kind"] == "alert" and body["story_count"] == 1
    assert body["subject"] == "monitor alert — Kim Jong Un: Putin meets Kim"
    # the next cycle: the same story again from a second item, and a new story
    server.routes["/b"] = Reply(200, article_html("Zelensky asks for air defence", OTHER),
                                {"Content-Type": "text/html"})
    feed_of(server, "/feed", [("Putin meets Kim", "/a"), ("Zelensky asks", "/b")])
    clock.now = clock.now.replace(hour=9)
    summary = cycle(context, store.feeds())
    assert (summary.alerts, summary.delivered) == (1, 1)
    assert [json.loads(r.body)["subject"] for r in receiver.received][1] == \
        "monitor alert — Volodymyr Zelensky: Zelensky asks for air defence"
    assert cycle(context, store.feeds()).alerts == 0


def _config(tmp_path: Path, receiver: Receiver) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
database: sqlite:///{tmp_path / 'm.db'}
digests:
  - name: daily
    schedule: "0 7 * * *"
    timezone: Europe/Berlin
    channels:
      - webhook: {{url: "{receiver.url()}", allow_private_addresses: true}}
      - file: {{dir: outbox/}}
""")
    return path


def test_digest_commands(tmp_path: Path, receiver: Receiver,
                         capsys: pytest.CaptureFixture[str]) -> None:
    config = str(_config(tmp_path, receiver))
    with time_machine.travel(datetime(2026, 11, 25, 12, 0, tzinfo=UTC), tick=False):
        store = Store(f"sqlite:///{tmp_path / 'm.db'}")
        add_story(store, 1, datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
        store.close()
        assert main(["-c", config, "digest", "preview"]) == 0
        out = capsys.readouterr().out
        assert "monitor daily — Putin: 1 event" in out
        assert "window: 2026-11-25 07:00 CET – 2026-11-25 13:00 CET" in out
        assert main(["-c", config, "digest", "preview", "--text",
                     "--html", str(tmp_path / "d.html")]) == 0
        assert "* Story 1" in capsys.readouterr().out
        assert "Story 1" in (tmp_path / "d.html").read_text()
        assert not receiver.received  # a preview sends and records nothing
        assert main(["-c", config, "digest", "send", "daily"]) == 0
        assert "nothing due; the current window closes at 2026-11-26 07:00 CET" in \
            capsys.readouterr().out
        assert main(["-c", config, "digest", "send", "daily", "--now"]) == 0
        assert len(receiver.received) == 1
        assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
        capsys.readouterr()
        assert main(["-c", config, "digests", "list", "--json"]) == 0
        [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert (row["status"], row["stories"], row["hits"]) == ("sent", 1, 1)
        assert sorted(d["channel"].split(":")[0] for d in row["deliveries"]) == \
            ["file", "webhook"]
    with time_machine.travel(datetime(2026, 11, 26, 6, 0, 5, tzinfo=UTC), tick=False):
        store = Store(f"sqlite:///{tmp_path / 'm.db'}")
        add_story(store, 2, datetime(2026, 11, 26, 5, 0, tzinfo=UTC))
        store.close()
        receiver.replies = [503]
        assert main(["-c", config, "digest", "send", "daily"]) == 1
        err = capsys.readouterr().err
        assert "HTTP 503" in err and "1 queued for retry" in err
        assert main(["-c", config, "digests", "list"]) == 0
        out = capsys.readouterr().out
        assert "retrying" in out and "sent" in out


def test_unknown_digest_is_a_usage_error(tmp_path: Path, receiver: Receiver,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", str(_config(tmp_path, receiver)), "digest", "send", "dayly"]) == 2
    assert "no digest 'dayly' (did you mean 'daily'?)" in capsys.readouterr().err


def test_the_readme_receiver_verifies_real_deliveries(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    import re
    import threading
    from http.server import HTTPServer

    import httpx

    from monitor.channels.webhook import post_webhook
    from tests.test_notify import outgoing

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.search(r"<!-- receiver -->\n```python\n(.*?)```", readme, re.S)
    assert code is not None
    namespace: dict[str, object] = {"__name__": "readme_receiver"}
    exec(compile(code[1], "README.md receiver", "exec"), namespace)
    httpd = HTTPServer(("127.0.0.1", 0), namespace["Receiver"])  # type: ignore[arg-type]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        channel = make_channel("webhook", url=url, secret="the channel's secret",
                                allow_private_addresses=True)
        now = datetime.now(UTC)
        body = json.dumps({"subject": "monitor daily — 1 story"})
        out = replace(outgoing(), bodies={"json": body})
        post_webhook(channel, out, now)
        post_webhook(channel, out, now)  # a resend: accepted, not handled twice
        assert capsys.readouterr().out.count("monitor daily") == 1
        with pytest.raises(Exception, match="HTTP 401"):
            post_webhook(replace(channel, secret="wrong"), out, now)
        forged = httpx.post(url, content=b'{"subject": "forged"}',
                            headers={"X-Monitor-Signature": "t=1,v1=00",
                                     "Idempotency-Key": "x"})
        assert forged.status_code == 401
    finally:
        httpd.shutdown()
        httpd.server_close()
