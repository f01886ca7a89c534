"""HTTP against a real local server: redirects, limits, time-outs, the private-address guard."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime

from monitor.config import FetchConfig
from monitor.fetch import Fetcher, Response, retry_after_seconds
from tests.conftest import Reply, Server

OPEN = FetchConfig(timeout=2.0, max_bytes=100_000, allow_private_addresses=True)


def get(config: FetchConfig, url: str, **kwargs: str) -> Response:
    async def run() -> Response:
        async with Fetcher(config) as fetcher:
            return await fetcher.get(url, **kwargs)
    return asyncio.run(run())


def test_plain_get_sends_user_agent_and_conditional_headers(server: Server) -> None:
    server.routes["/f"] = Reply(200, b"hello", {"ETag": '"v1"'})
    response = get(OPEN, server.url("/f"), etag='"v0"',
                   last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    assert response.ok and response.body == b"hello" and response.headers["etag"] == '"v1"'
    sent = server.requests[-1].headers
    assert sent["if-none-match"] == '"v0"' and "if-modified-since" in sent
    assert sent["user-agent"].startswith("monitor/")


def test_permanent_redirects_are_reported_temporary_ones_not(server: Server) -> None:
    server.routes["/old"] = Reply(301, b"", {"Location": "/new"})
    server.routes["/new"] = Reply(200, b"moved here")
    server.routes["/tmp"] = Reply(302, b"", {"Location": "/new"})
    moved = get(OPEN, server.url("/old"))
    assert moved.ok and moved.body == b"moved here" and moved.moved_to == server.url("/new")
    temporary = get(OPEN, server.url("/tmp"))
    assert temporary.ok and temporary.moved_to is None


def test_redirect_loops_stop(server: Server) -> None:
    server.routes["/loop"] = Reply(302, b"", {"Location": "/loop"})
    assert "redirects" in (get(OPEN, server.url("/loop")).error or "")


def test_a_huge_body_is_cut_off_streaming(server: Server) -> None:
    def endless() -> Iterator[bytes]:
        for _ in range(10_000):  # 640 MB if it were read to the end
            yield b"x" * 65536
    server.routes["/huge"] = Reply(200, endless())
    server.routes["/declared"] = Reply(200, b"y" * 200_000)
    assert "max_bytes" in (get(OPEN, server.url("/huge")).error or "")
    assert "max_bytes" in (get(OPEN, server.url("/declared")).error or "")


def test_gzip_is_decoded_and_a_gzip_bomb_is_capped(server: Server) -> None:
    server.routes["/gz"] = Reply(200, gzip.compress(b"<rss/>"), {"Content-Encoding": "gzip"})
    server.routes["/bomb"] = Reply(200, gzip.compress(b"\0" * 5_000_000),
                                   {"Content-Encoding": "gzip"})
    assert get(OPEN, server.url("/gz")).body == b"<rss/>"
    assert "max_bytes" in (get(OPEN, server.url("/bomb")).error or "")


def test_a_slow_server_times_out(server: Server) -> None:
    server.routes["/slow"] = Reply(200, b"late", delay=1.5)
    response = get(FetchConfig(timeout=0.3, allow_private_addresses=True), server.url("/slow"))
    assert response.error is not None and "timed out" in response.error


def test_errors_are_values(server: Server) -> None:
    server.routes["/500"] = Reply(500, b"oops")
    server.routes["/429"] = Reply(429, b"", {"Retry-After": "120"})
    assert get(OPEN, server.url("/500")).error == "HTTP 500"
    limited = get(OPEN, server.url("/429"))
    assert limited.status == 429 and limited.retry_after == 120
    closed = get(OPEN, "http://127.0.0.1:9/")  # nothing listens on the discard port
    assert closed.status is None and closed.error


def test_retry_after_as_a_date() -> None:
    now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert retry_after_seconds("Wed, 25 Nov 2026 08:10:00 GMT", now) == 600
    assert retry_after_seconds("soon", now) is None


def test_private_addresses_are_refused_by_default(server: Server) -> None:
    server.routes["/f"] = Reply(200, b"secret")
    response = get(FetchConfig(timeout=2.0), server.url("/f"))
    assert response.error is not None and "private or local address" in response.error
    assert server.requests == []  # refused before connecting
    for url in ("http://localhost/", "http://[::1]/", "http://169.254.169.254/latest/",
                "http://10.0.0.1/", "http://[::ffff:127.0.0.1]/"):
        assert "private or local" in (get(FetchConfig(timeout=1.0), url).error or ""), url


def test_a_redirect_to_a_private_address_is_refused(server: Server) -> None:
    # The guard runs on every hop; here the first hop is allowed by pretending the server is
    # public: a redirect from it to the metadata address must still be refused.
    server.routes["/r"] = Reply(302, b"", {"Location": "http://169.254.169.254/latest/"})

    class HalfOpen(Fetcher):
        async def _check_host(self, url: str) -> None:
            if "127.0.0.1" not in url:
                await super()._check_host(url)

    async def run() -> Response:
        async with HalfOpen(FetchConfig(timeout=2.0)) as fetcher:
            return await fetcher.get(server.url("/r"))
    assert "private or local" in (asyncio.run(run()).error or "")


def test_per_host_concurrency_is_capped(server: Server) -> None:
    import threading

    active, peak, lock = [0], [0], threading.Lock()

    def slow(_request: object) -> Reply:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        import time
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return Reply(200, b"ok")
    server.routes["/p"] = slow

    async def run() -> None:
        async with Fetcher(FetchConfig(per_host=2, allow_private_addresses=True)) as fetcher:
            await asyncio.gather(*(fetcher.get(server.url("/p")) for _ in range(8)))
    asyncio.run(run())
    assert peak[0] <= 2
