"""`monitor health --url`: only http(s), and healthy only when the answer is monitor's health
JSON with "status": "ok" (issue 15): a file: URL is refused, and a page answering 200 is not
a healthy daemon.  Real servers on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from monitor.cli import main
from tests.support import Reply, Server

OK = json.dumps({"status": "ok", "checks": {"scheduler": "ok", "database": "ok",
                                            "poll": "ok"}, "last_cycle": None}).encode()
FAILING = json.dumps({"status": "fail", "checks": {"scheduler": "ok",
                                                   "database": "not answering: X"}}).encode()
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "not a url",
                                 "http://", "data:,hello", "http://[::1/healthz"])
def test_only_http_urls_are_asked(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", "--url", url]) == 2
    out = capsys.readouterr()
    assert "http(s)" in out.err and "Traceback" not in out.err
    assert "root:" not in out.out + out.err


@pytest.mark.parametrize(("reply", "code"), [
    (Reply(200, OK, JSON), 0),
    (Reply(503, FAILING, JSON), 1),
    (Reply(200, FAILING, JSON), 1),                    # 200 but not ok
    (Reply(200, b'{"status": "ok"}', JSON), 1),       # not the health answer
    (Reply(200, b"<html>It works!</html>", {"Content-Type": "text/html"}), 1),
    (Reply(200, b"root:x:0:0:root:/root:/bin/bash\n"), 1),
    (Reply(200, b"[1, 2]", JSON), 1),
    (Reply(302, b"", {"Location": "file:///etc/passwd"}), 1),
    (Reply(404, b"not found"), 1),
])
def test_healthy_only_when_the_answer_is_the_health_json_with_status_ok(
        server: Server, reply: Reply, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    server.routes["/healthz"] = reply
    assert main(["health", "--url", server.url("/healthz")]) == code
    out = capsys.readouterr().out
    if code == 0:
        assert json.loads(out)["status"] == "ok"
    elif reply.body in (FAILING,):
        assert json.loads(out)["checks"]["database"] == "not answering: X"
    else:  # described, never printed: the URL could point at anything
        body = reply.body if isinstance(reply.body, bytes) else b""
        assert not body or body[:12].decode() not in out
        assert "not monitor's health JSON" in out and "/healthz" in out


def test_nothing_listening_is_unhealthy(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support import free_port

    assert main(["health", "--url", f"http://127.0.0.1:{free_port()}/healthz"]) == 1
    assert "no answer from" in capsys.readouterr().out
