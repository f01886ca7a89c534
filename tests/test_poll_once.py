"""`monitor poll --once` for cron: each error printed once with its feed, exit 1 when every
polled feed failed (both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from tests.support import ROOT, Reply, Server, article_html, rss


def test_poll_once_exits_1_when_every_feed_failed_and_says_each_error_once(
        tmp_path: Path, db_url: str, server: Server,
        capsys: pytest.CaptureFixture[str]) -> None:
    server.routes["/broken.rss"] = Reply(500, b"oops")  # /missing.rss: 404
    missing, broken = server.url("/missing.rss"), server.url("/broken.rss")
    config = tmp_path / "monitor.yaml"
    config.write_text(f"""database: {db_url}
watchlists: {ROOT / 'watchlists'}
fetch: {{timeout: 2s, allow_private_addresses: true}}
feeds: ["{missing}", "{broken}"]
""")
    assert main(["-c", str(config), "poll", "--once"]) == 1  # a first run: both due
    out = capsys.readouterr()
    assert "feeds polled 2, not modified 0, failed 2" in out.out
    assert sorted(out.err.splitlines()) == sorted([
        f"  {missing}: HTTP 404", f"  {broken}: HTTP 500",
        "monitor: every polled feed failed (2)"])
    # One feed answering is not a failed run.
    server.routes["/hello"] = Reply(200, article_html("Hello", ["A text about talks."]))
    server.routes["/broken.rss"] = Reply(200, rss([{"title": "Hello", "guid": "hello-1",
                                                    "link": server.url("/hello")}]))
    assert main(["-c", str(config), "poll", "--once", "--all"]) == 0
    out = capsys.readouterr()
    assert "feeds polled 2, not modified 0, failed 1" in out.out
    assert out.err.splitlines() == [f"  {missing}: HTTP 404"]
    # Nothing due is not a failure either.
    assert main(["-c", str(config), "poll", "--once"]) == 0
    assert "feeds polled 0" in capsys.readouterr().out
