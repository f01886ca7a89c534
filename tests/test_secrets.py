"""Secrets (the SMTP password, a webhook's secret and its URL token, the database password)
come from the environment or files and never show in logs, `monitor status`, listings or
error messages, even when every delivery fails (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from monitor.cli import main
from tests.support import ROOT, Server, free_port
from tests.test_pipeline import one_article_feed

SMTP_SECRET = "smtp-pass-Q7x1"
HOOK_SECRET = "hook-secret-Z9k2"
URL_TOKEN = "urltoken-W3m8"
DB_SECRET = "db-pass-J5v6"
SECRETS = (SMTP_SECRET, HOOK_SECRET, URL_TOKEN, DB_SECRET)
WATCHLIST = """watchlist: desk
entries:
  - {id: putin, kind: actor, name: Vladimir Putin, aliases: [Putin], priority: high}
"""


def _config(tmp_path: Path, server: Server, db_url: str) -> Path:
    (tmp_path / "hook.secret").write_text(HOOK_SECRET + "\n")
    (tmp_path / "desk.yaml").write_text(WATCHLIST)
    closed = free_port()  # nothing answers there: every delivery fails and says why
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
database: {db_url}
watchlists: {tmp_path / 'desk.yaml'}
fetch: {{allow_private_addresses: true}}
server: false
smtp: {{host: 127.0.0.1, port: {closed}, security: none, username: monitor,
        password_env: MONITOR_SMTP_PASSWORD, from: "monitor <m@example.org>", timeout: 2s}}
digests: []
alerts:
  channels:
    - email: {{to: [analyst@example.org]}}
    - webhook: {{url: "http://127.0.0.1:{closed}/services/T0/B0/{URL_TOKEN}",
                secret_file: hook.secret, allow_private_addresses: true}}
feeds:
  - {server.url('/feed')}
""")
    return path


def test_secrets_never_show(server: Server, db_url: str, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str],
                            caplog: pytest.LogCaptureFixture,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    one_article_feed(server)
    if db_url.startswith("postgresql"):  # trust auth: the password is accepted and unused
        db_url = db_url.replace("postgres@", f"postgres:{DB_SECRET}@", 1)
    config = str(_config(tmp_path, server, db_url))
    monkeypatch.setenv("MONITOR_SMTP_PASSWORD", SMTP_SECRET)
    caplog.set_level(logging.DEBUG)
    said = []
    for args in (["run", "--once", "--log-format", "json"], ["run", "--once"], ["status"],
                 ["status", "--json"], ["digests", "list"], ["feeds", "list"],
                 ["hits", "--json"]):
        code = main(["-c", config, *args])
        out = capsys.readouterr()
        said.append(f"{args}: exit {code}\n{out.out}\n{out.err}")
    said.append(caplog.text)
    everything = "\n".join(said)
    assert "Putin" in everything and "failed" in everything.lower()  # it did run and fail
    for secret in SECRETS:
        assert secret not in everything, secret
    # A mistake in the database URL is reported without its password.
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"database: nosuchdriver://user:{DB_SECRET}@host/db\n"
                   f"watchlists: {ROOT / 'watchlists'}\n")
    assert main(["-c", str(bad), "status"]) != 0
    out = capsys.readouterr()
    assert "nosuchdriver" in out.err and DB_SECRET not in out.out + out.err
