"""HTTP against a real local server: redirects, limits, time-outs, the private-address guard
(every hop, DNS rebinding)."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from monitor.config import FetchConfig
from monitor.fetch import Fetcher, Response, retry_after_seconds
from monitor.netguard import Policy, is_public
from tests.support import Reply, Server

OPEN = FetchConfig(timeout=2.0, max_bytes=100_000, allow_private_addresses=True)
CLOSED = FetchConfig(timeout=2.0, max_bytes=100_000)


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


def pretend_loopback_is_public(address: str) -> bool:
    """An address policy for tests: 127.0.0.1 plays a public address, all else as usual."""
    return address == "127.0.0.1" or is_public(address)


def get_with(policy: Policy, url: str, config: FetchConfig = CLOSED) -> Response:
    async def run() -> Response:
        async with Fetcher(config, policy) as fetcher:
            return await fetcher.get(url)
    return asyncio.run(run())


def test_a_redirect_to_a_private_address_is_refused(server: Server) -> None:
    # The guard runs on every hop: the first one is allowed by pretending the server is
    # public, the redirect to the metadata address is refused, and so is one to 127.0.0.2.
    server.routes["/ok"] = Reply(200, b"fine")
    server.routes["/r"] = Reply(302, b"", {"Location": "http://169.254.169.254/latest/"})
    server.routes["/r2"] = Reply(301, b"", {"Location": f"http://127.0.0.2:{server.port}/ok"})
    policy = Policy(False, "fetch.allow_private_addresses", public=pretend_loopback_is_public)
    assert get_with(policy, server.url("/ok")).body == b"fine"
    for path in ("/r", "/r2"):
        error = get_with(policy, server.url(path)).error or ""
        assert "private or local address (set fetch.allow_private_addresses" in error, path
    assert server.hits("/ok") == 1


def test_dns_rebinding_cannot_swap_the_checked_address(server: Server) -> None:
    # A resolver that answers a "public" address first and a private one after (DNS
    # rebinding): the connection must go to the address that was checked, resolved once.
    server.routes["/f"] = Reply(200, b"from the checked address")
    answers: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        answers.append(host)
        return ["127.0.0.1"] if len(answers) == 1 else ["10.0.0.1"]

    policy = Policy(False, "fetch.allow_private_addresses", resolver=rebinding,
                    public=pretend_loopback_is_public)
    response = get_with(policy, f"http://feeds.rebind.test:{server.port}/f")
    assert response.ok and response.body == b"from the checked address"
    assert answers == ["feeds.rebind.test"]
    assert server.requests[-1].headers["host"] == f"feeds.rebind.test:{server.port}"
    # Any private address among the answers refuses the host, whatever comes first.
    mixed = Policy(False, "fetch.allow_private_addresses",
                   resolver=lambda host, port: ["127.0.0.1", "192.168.1.5"],
                   public=pretend_loopback_is_public)
    assert "192.168.1.5, a private" in (get_with(mixed, server.url("/f")).error or "")


def test_every_kind_of_non_public_address_is_refused() -> None:
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254",
                    "100.64.0.1", "100.100.100.200", "0.0.0.0", "224.0.0.1", "240.0.0.1",
                    "::1", "fe80::1", "fd00:ec2::254", "::ffff:10.0.0.1", "::"):
        assert not is_public(address), address
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert is_public(address), address


def test_a_dns_failure_is_an_error_value() -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise OSError(-2, "Name or service not known")
    response = get_with(Policy(False, "x", resolver=nowhere), "http://no.such.host.test/")
    assert response.status is None
    assert response.error == "ConnectError: cannot resolve no.such.host.test: " \
        "Name or service not known"


def test_a_server_sending_a_byte_a_second_meets_one_deadline(server: Server) -> None:
    def trickle() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x"
            time.sleep(0.1)  # every read gets a byte in time; only a total deadline stops it
    server.routes["/trickle"] = Reply(200, trickle())
    started = time.monotonic()
    response = get(FetchConfig(timeout=0.5, allow_private_addresses=True),
                   server.url("/trickle"))
    assert response.error == "timed out after 0.5s"
    assert time.monotonic() - started < 2


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
