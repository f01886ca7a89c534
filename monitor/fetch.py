"""HTTP for feeds and pages (httpx): conditional GET, redirects checked hop by hop, limits
on concurrency (overall and per host), time and size.  A failure is a value (``Response``
with ``error`` set), never an exception, so one bad feed or page costs nothing else.

Feed content is untrusted: unless ``allow_private_addresses`` is set, a host (of the URL
or of any redirect hop) that resolves to an address that is not public is refused, and the
connection goes to the address that was checked (monitor.netguard).  Each hop has one
deadline, ``timeout``, for connecting, the headers and the whole body: a server that sends
a byte a second cannot hold a slot for longer.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.config import FetchConfig
from monitor.netguard import Policy, async_transport, blocked_reason

MAX_REDIRECTS = 8
REDIRECTS = (301, 302, 303, 307, 308)
PERMANENT = (301, 308)


@dataclass(slots=True)
class Response:
    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int | None = None  # None: no HTTP answer (refused, timed out, DNS...)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    moved_to: str | None = None  # where a chain of permanent redirects (301/308) ends
    retry_after: float | None = None  # seconds, from a 429/503's Retry-After

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


class Fetcher:
    """One per poll: shares an httpx client and the concurrency limits."""

    def __init__(self, config: FetchConfig, policy: Policy | None = None) -> None:
        self.config = config
        self._overall = asyncio.Semaphore(config.concurrency)
        # Pages between fetched and stored: when extraction is slower than the network, at
        # most this many bodies wait in memory (a backlog of 10,000 items costs no more).
        self.pages = asyncio.Semaphore(config.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(config.per_host))
        policy = policy or Policy(config.allow_private_addresses,
                                  "fetch.allow_private_addresses")
        limits = httpx.Limits(max_connections=config.concurrency,
                              max_keepalive_connections=config.concurrency)
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(config.timeout),
            headers={"User-Agent": config.user_agent,
                     "Accept-Encoding": "gzip, deflate"},
            transport=async_transport(policy, limits),
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def get(self, url: str, *, etag: str | None = None,
                  last_modified: str | None = None, accept: str | None = None) -> Response:
        """GET with redirects followed (and checked) hop by hop; never raises."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        result = Response(url=url, final_url=url)
        current, permanent = url, True
        try:
            for _ in range(MAX_REDIRECTS + 1):
                if urlsplit(current).scheme not in ("http", "https"):
                    result.error = f"refused to follow a redirect to {current!r}"
                    return result
                status, response_headers, body = await self._one(current, headers)
                result.final_url, result.status, result.headers = current, status, response_headers
                if status in REDIRECTS and "location" in response_headers:
                    permanent = permanent and status in PERMANENT
                    current = urljoin(current, response_headers["location"])
                    if permanent:
                        result.moved_to = current
                    continue
                result.body = body
                if status in (429, 503):
                    result.retry_after = retry_after_seconds(response_headers.get("retry-after"),
                                                             datetime.now(UTC))
                if status >= 400:
                    result.error = f"HTTP {status}"
                return result
            result.error = f"more than {MAX_REDIRECTS} redirects"
        except _TooBig as exc:
            result.error = str(exc)
        except (httpx.TimeoutException, TimeoutError):
            result.error = f"timed out after {self.config.timeout:g}s"
        except httpx.HTTPError as exc:
            result.error = blocked_reason(exc) or (
                f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        except (OSError, ValueError) as exc:  # invalid URL, socket errors outside httpx
            result.error = f"{type(exc).__name__}: {exc}"
        return result

    async def _one(self, url: str, headers: dict[str, str]
                   ) -> tuple[int, dict[str, str], bytes]:
        host = urlsplit(url).hostname or ""
        limit = self.config.max_bytes
        async with self._overall, self._hosts[host], asyncio.timeout(self.config.timeout):
            request = self._client.build_request("GET", url, headers=headers)
            response = await self._client.send(request, stream=True)
            try:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise _TooBig(f"body larger than fetch.max_bytes ({limit:,} bytes)")
                chunks: list[bytes] = []
                size = 0
                if response.status_code not in REDIRECTS:
                    async for chunk in response.aiter_bytes():  # decoded: gzip bombs stop too
                        size += len(chunk)
                        if size > limit:
                            raise _TooBig(f"body larger than fetch.max_bytes ({limit:,} bytes)")
                        chunks.append(chunk)
                return (response.status_code, {k.lower(): v for k, v in response.headers.items()},
                        b"".join(chunks))
            finally:
                await response.aclose()


class _TooBig(Exception):
    pass
