"""Signed webhooks: the run's JSON body (schema monitor.digest/1) or Slack's ``{"text":
mrkdwn}``, POSTed through the address guard.

Requests carry ``X-Monitor-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``
(the secret is the channel's) and ``Idempotency-Key``: receivers drop repeats of a key and
reject signatures older than a few minutes (see ``verify``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import httpx

from monitor import __version__
from monitor.channels.base import Channel, DeliveryError, Outgoing, Services, Setup, read_secret
from monitor.config.reader import Reader, check_url
from monitor.display import webhook_url
from monitor.netguard import Policy, blocked_reason, sync_transport

shown_url = webhook_url  # a webhook URL as shown: its origin and a short hash

WEBHOOK_TIMEOUT = 20.0
RECEIPT_BYTES = 4096  # of a webhook's answer, kept for the error message
SIGNATURE_TOLERANCE = 300  # seconds


def check_http_url(reader: Reader, spec: dict[str, Any], where: str) -> str:
    """The ``url`` setting, stripped; a problem if it is not an http(s) URL."""
    problem = check_url(spec.get("url"))
    if problem:
        reader.add(spec, "url" if "url" in spec else None, problem, where)
    return str(spec.get("url", "")).strip()


@dataclass(frozen=True, slots=True)
class WebhookChannel(Channel):
    """``webhook: {url, secret_env | secret_file, format: json|slack,
    allow_private_addresses}``."""

    kind: ClassVar[str] = "webhook"
    settings: ClassVar[tuple[str, ...]] = ("url", "secret_env", "secret_file", "format",
                                           "allow_private_addresses")
    example: ClassVar[str] = "{webhook: {url: ...}}"
    formats: ClassVar[tuple[str, ...]] = ("json", "slack")
    url: str = ""
    secret: str | None = field(default=None, repr=False)
    format: str = "json"  # json | slack
    allow_private_addresses: bool = False  # may post to a private or local address

    @classmethod
    def from_settings(cls, spec: dict[str, Any], where: str, setup: Setup) -> WebhookChannel:
        reader = setup.reader
        url = check_http_url(reader, spec, where)
        fmt = spec.get("format", "json")
        if fmt not in ("json", "slack"):
            reader.add(spec, "format", f"{fmt!r} must be json or slack", where)
            fmt = "json"
        return cls(url=url, format=fmt,
                   secret=read_secret(reader, spec, "secret", where, setup.env, setup.base),
                   allow_private_addresses=reader.boolean(spec, "allow_private_addresses",
                                                          False, where))

    @property
    def ident(self) -> str:
        return f"webhook:{shown_url(self.url)}"

    def body(self, out: Outgoing) -> bytes:
        """What is POSTed: the JSON payload, or Slack's ``{"text": ...}``."""
        if self.format == "slack":
            return json.dumps({"text": out.body("slack")}).encode()
        return out.body("json").encode()

    def send(self, out: Outgoing, now: datetime, services: Services) -> None:
        post_webhook(self, out, now)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float,
           tolerance: int = SIGNATURE_TOLERANCE) -> bool:
    """What a receiver does: the signature matches and is recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return (abs(now - timestamp) <= tolerance
            and hmac.compare_digest(expected, fields.get("v1", "")))


def post_webhook(channel: WebhookChannel, out: Outgoing, now: datetime,
                 timeout: float = WEBHOOK_TIMEOUT, policy: Policy | None = None) -> None:
    body = channel.body(out)
    headers = {"Content-Type": "application/json", "Idempotency-Key": out.key,
               "User-Agent": f"monitor/{__version__}"}
    if channel.secret:
        headers["X-Monitor-Signature"] = sign(channel.secret, int(now.timestamp()), body)
    shown = shown_url(channel.url)
    policy = policy or Policy(channel.allow_private_addresses,
                              "allow_private_addresses on this webhook")
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False,
                          transport=sync_transport(policy)) as client:
            status, answer, location = _post(client, channel.url, body, headers, timeout)
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"webhook {shown}: timed out after {timeout:g}s") from exc
    except httpx.HTTPError as exc:
        refused = blocked_reason(exc)
        if refused:  # a configuration problem: retrying cannot help
            raise DeliveryError(f"webhook {shown}: {refused}", retryable=False) from exc
        reason = str(exc).replace(channel.url, shown) or type(exc).__name__
        raise DeliveryError(f"webhook {shown}: {reason}") from exc
    if 200 <= status < 300:
        return
    detail = " ".join(answer[:200].split())
    if 300 <= status < 400:  # never followed: a hook that moves is a configuration problem
        detail = f"redirects to {shown_url(location)}; update the URL"
    raise DeliveryError(f"webhook {shown}: HTTP {status} {detail}".rstrip(),
                        retryable=status >= 500 or status in (408, 425, 429))


def _post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str],
          timeout: float) -> tuple[int, str, str]:
    """POST; the answer's status, the start of its body and its Location.  The body is read
    under one deadline and a size cap: a receiver that trickles cannot hold the queue."""
    deadline = time.monotonic() + timeout
    with client.stream("POST", url, content=body, headers=headers) as response:
        received = b""
        for chunk in response.iter_bytes():
            received += chunk
            if len(received) >= RECEIPT_BYTES:
                break
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the answer took too long")
        return (response.status_code, received[:RECEIPT_BYTES].decode("utf-8", "replace"),
                response.headers.get("location", ""))
