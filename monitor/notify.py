"""Delivery, the I/O edge: e-mail over SMTP (STARTTLS/SSL, AUTH), signed webhooks, files.

Every failure becomes a DeliveryError that says whether trying again may help (a server
down, a timeout, a 4xx SMTP reply, an HTTP 5xx/429) or not (a 5xx SMTP reply, an HTTP
4xx); outbox.py persists it and retries with back-off.  Secrets are never in a message.

Webhook requests carry ``X-Monitor-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`` (the secret is the channel's) and ``Idempotency-Key``: receivers drop
repeats of a key and reject signatures older than a few minutes (see ``verify``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import smtplib
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import httpx

from monitor import __version__
from monitor.config.delivery import ChannelConfig, SmtpConfig, shown_url
from monitor.errors import MonitorError
from monitor.netguard import Policy, blocked_reason, sync_transport

WEBHOOK_TIMEOUT = 20.0
RECEIPT_BYTES = 4096  # of a webhook's answer, kept for the error message
SIGNATURE_TOLERANCE = 300  # seconds


class DeliveryError(MonitorError):
    """A delivery failed; ``retryable``: the same request may succeed later."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What one channel sends for one run: stored, so a retry sends the same bytes."""

    name: str
    kind: str
    key: str       # Idempotency-Key
    window_end: datetime
    message: EmailMessage
    payload: str   # JSON
    slack: str


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


def send_email(smtp: SmtpConfig, to: tuple[str, ...], message: EmailMessage) -> None:
    context = ssl.create_default_context(cafile=smtp.ca_file)
    where = f"SMTP {smtp.host}:{smtp.port}"
    client: smtplib.SMTP = (smtplib.SMTP_SSL(timeout=smtp.timeout, context=context)
                            if smtp.security == "ssl" else smtplib.SMTP(timeout=smtp.timeout))
    # One deadline for the whole exchange (a server that answers a byte at a time passes
    # every per-read timeout): past it, the socket is shut and the send fails, retryable.
    expired = threading.Event()
    watchdog = threading.Timer(smtp.timeout * 2, _cut, (client, expired))
    watchdog.daemon = True
    watchdog.start()
    client._host = smtp.host  # type: ignore[attr-defined]  # as the constructor would: TLS checks it
    try:
        client.connect(smtp.host, smtp.port)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=context)
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            refused = client.send_message(message, from_addr=parseaddr(smtp.sender)[1],
                                          to_addrs=list(to))
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"{where}: login refused ({exc.smtp_code}); check smtp.username "
                            "and the password") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = {code for code, _ in exc.recipients.values()}
        raise DeliveryError(f"{where}: every recipient refused: {_refusals(exc.recipients)}",
                            retryable=any(400 <= c < 500 for c in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        raise DeliveryError(f"{where}: {exc.smtp_code} {text}",
                            retryable=exc.smtp_code < 500) from exc
    except ssl.SSLError as exc:
        raise DeliveryError(f"{where}: TLS failed: {exc.reason or exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        reason = f"timed out after {smtp.timeout * 2:g}s" if expired.is_set() else _os_reason(exc)
        raise DeliveryError(f"{where}: {reason}") from exc
    finally:
        watchdog.cancel()
    if refused:
        raise DeliveryError(f"{where}: some recipients refused: {_refusals(refused)}",
                            retryable=False)


def _cut(client: smtplib.SMTP, expired: threading.Event) -> None:
    expired.set()
    sock = getattr(client, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address} ({code} {reply.decode(errors='replace')})"
                     for address, (code, reply) in refused.items())


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def post_webhook(channel: ChannelConfig, out: Outgoing, now: datetime,
                 timeout: float = WEBHOOK_TIMEOUT, policy: Policy | None = None) -> None:
    text = json.dumps({"text": out.slack}) if channel.format == "slack" else out.payload
    body = text.encode()
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


def write_files(folder: str, out: Outgoing) -> list[Path]:
    """The message as an .eml file (opens in any mail client) and the JSON body beside it;
    written atomically under a name fixed by the run, so a resend replaces, not adds."""
    directory = Path(folder)
    stem = f"{out.window_end:%Y%m%dT%H%M%SZ}-{out.name}-{out.key[:8]}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        paths = [_atomic(directory / f"{stem}.eml", out.message.as_bytes()),
                 _atomic(directory / f"{stem}.json", out.payload.encode())]
    except OSError as exc:
        raise DeliveryError(f"file {folder}: {exc.strerror or exc}") from exc
    return paths


def _atomic(path: Path, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class Sender:
    """Sends one Outgoing to one channel; tests subclass it to crash after a send."""

    def __init__(self, smtp: SmtpConfig | None) -> None:
        self.smtp = smtp

    def send(self, channel: ChannelConfig, out: Outgoing, now: datetime) -> None:
        if channel.kind == "email":
            if self.smtp is None:
                raise DeliveryError("e-mail channel but no smtp: section", retryable=False)
            del out.message["To"]
            out.message["To"] = ", ".join(channel.to)
            send_email(self.smtp, channel.to, out.message)
        elif channel.kind == "webhook":
            post_webhook(channel, out, now)
        else:
            write_files(channel.dir, out)
