"""E-mail over SMTP (STARTTLS/SSL, AUTH): the run's text with its HTML alternative, to the
channel's recipients through the smtp: section's server."""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as email_policy
from email.utils import parseaddr
from typing import Any, ClassVar

from monitor.channels.base import Channel, DeliveryError, Outgoing, Services, Setup, words


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "monitor <monitor@localhost>"
    timeout: float = 30.0
    ca_file: str | None = None


def address_ok(value: str) -> bool:
    """One e-mail address (with a domain), no line break (no header injection)."""
    if "\n" in value or "\r" in value:
        return False
    try:
        header = email_policy.header_factory("to", value)
        addresses: tuple[Address, ...] = header.addresses  # type: ignore[attr-defined]
    except (ValueError, IndexError, AttributeError):
        return False
    return len(addresses) == 1 and bool(addresses[0].domain)


@dataclass(frozen=True, slots=True)
class EmailChannel(Channel):
    """``email: {to: [...]}``: the run as an e-mail, through the smtp: section's server."""

    kind: ClassVar[str] = "email"
    settings: ClassVar[tuple[str, ...]] = ("to",)
    example: ClassVar[str] = "{email: {to: [...]}}"
    formats: ClassVar[tuple[str, ...]] = ("text", "html")
    to: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, spec: dict[str, Any], where: str, setup: Setup) -> EmailChannel:
        reader = setup.reader
        to = words(reader, spec, "to", where)
        for address in to:
            if not address_ok(address):
                reader.add(spec, "to", f"{address!r} is not an e-mail address", where)
        if not to:
            reader.add(spec, "to" if "to" in spec else None, "needs recipients: to: [...]", where)
        if setup.smtp is None:
            reader.add(spec, None, "e-mail needs an smtp: section (host, port, ...)", where)
        return cls(to=to)

    @property
    def ident(self) -> str:
        return "email:" + ",".join(self.to)

    def send(self, out: Outgoing, now: datetime, services: Services) -> None:
        if services.smtp is None:
            raise DeliveryError("e-mail channel but no smtp: section", retryable=False)
        del out.message["To"]
        out.message["To"] = ", ".join(self.to)
        send_email(services.smtp, self.to, out.message)


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
