"""Apprise: Telegram, Microsoft Teams, Discord, Matrix, ntfy, Pushover, Mattermost and every
other service Apprise knows, from its URLs, without code of ours.

    apprise: {urls_env: MONITOR_APPRISE_URLS}   # or urls_file: ..., or urls: [...]

The URLs hold tokens: they are read once at start-up, never shown (``shown_url`` keeps
the scheme and a short hash that tells two apart) and scrubbed from Apprise's messages.
Every connection Apprise opens goes through the address guard, as a webhook's does
(private addresses need ``allow_private_addresses: true``).  A notification Apprise
reports as failed is a retryable DeliveryError; a retry notifies every URL of the
channel again (services keep no idempotency key).
"""

from __future__ import annotations

import hashlib
import logging
import re
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from monitor.channels.base import (
    Channel,
    DeliveryError,
    Outgoing,
    Services,
    Setup,
    read_secret,
    words,
)
from monitor.netguard import Policy

SETTING = "allow_private_addresses on this apprise channel"
_HTTP_LIKE = ("json", "jsons", "form", "forms", "xml", "xmls", "http", "https")


def shown_url(url: str) -> str:
    """An Apprise URL fit for logs, errors and `digests list`: its scheme and a short hash;
    the rest (host included: Telegram's is the bot token) may be a secret."""
    scheme = url.partition("://")[0] if "://" in url else "?"
    return f"{scheme}://…#{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def split_urls(text: str) -> list[str]:
    """URLs separated by whitespace, commas or semicolons (Apprise's own rule); lines
    starting with # are comments (a urls_file)."""
    from apprise.utils.parse import parse_urls

    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    found: list[str] = parse_urls("\n".join(lines))  # type: ignore[no-untyped-call]
    return [str(u) for u in found]


def scrub(text: str, urls: Sequence[str]) -> str:
    """``text`` with every part of ``urls`` that may be a secret replaced by ``***``: the
    whole URL, its user and password, path segments, query values and (but for the plain
    HTTP schemes, whose host is an address) its host and port."""
    secrets: set[str] = set()
    for url in urls:
        secrets.add(url)
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        secrets.update(p for p in (parts.username, parts.password) if p)
        secrets.update(s for s in parts.path.split("/") if s)
        secrets.update(v.partition("=")[2] for v in parts.query.split("&"))
        if parts.scheme.lower() not in _HTTP_LIKE:  # Telegram's host is its bot token
            secrets.update([parts.netloc, *re.split(r"[:@]", parts.netloc)])
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


# --- the address guard, for the connections Apprise's requests open ------------------------

_local = threading.local()
_patch_lock = threading.Lock()


def _install_guard() -> None:
    """Route urllib3's connections through ``_guarded_connection`` (once per process); it
    acts only in a thread inside ``guarded`` and is urllib3's own function elsewhere."""
    from urllib3.util import connection

    with _patch_lock:
        if getattr(connection.create_connection, "_monitor_guard", False):
            return
        original = connection.create_connection

        def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any
                              ) -> socket.socket:
            policy: Policy | None = getattr(_local, "policy", None)
            if policy is None:
                return original(address, *args, **kwargs)
            host, port = address
            try:
                addresses = policy.addresses(host, port)
            except Exception as exc:  # AddressBlocked, or a host that does not resolve
                _local.refused = str(exc)
                raise OSError(str(exc)) from exc
            error: OSError | None = None
            for checked in addresses:  # connect to the very address that was checked
                try:
                    return original((checked, port), *args, **kwargs)
                except OSError as exc:
                    error = exc
            assert error is not None
            raise error

        create_connection._monitor_guard = True  # type: ignore[attr-defined]
        connection.create_connection = create_connection


@contextmanager
def guarded(policy: Policy) -> Iterator[None]:
    """Connections this thread opens meanwhile are checked by ``policy``."""
    _install_guard()
    _local.policy, _local.refused = policy, None
    try:
        yield
    finally:
        _local.policy = None


class _Captured(logging.Handler):
    """Apprise's warnings from this thread, kept for the error message (never logged as
    they are: they may name a URL's secret parts)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextmanager
def captured() -> Iterator[_Captured]:
    logger = logging.getLogger("apprise")
    logger.propagate = False  # its records name URLs: monitor reports them itself, scrubbed
    handler = _Captured()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


# --- the channel ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppriseChannel(Channel):
    """``apprise: {urls_env | urls_file | urls: [...], allow_private_addresses}``."""

    kind: ClassVar[str] = "apprise"
    settings: ClassVar[tuple[str, ...]] = ("urls", "urls_env", "urls_file",
                                           "allow_private_addresses")
    example: ClassVar[str] = "{apprise: {urls_env: ...}}"
    formats: ClassVar[tuple[str, ...]] = ("text",)
    urls: tuple[str, ...] = field(default=(), repr=False)
    allow_private_addresses: bool = False

    @classmethod
    def from_settings(cls, spec: dict[str, Any], where: str, setup: Setup) -> AppriseChannel:
        reader = setup.reader
        secret = read_secret(reader, spec, "urls", where, setup.env, setup.base)
        given = [k for k in ("urls", "urls_env", "urls_file") if k in spec]
        if len(given) > 1 and "urls" in given:
            reader.add(spec, "urls", "give urls, urls_env or urls_file, not several", where)
        urls = words(reader, spec, "urls", where) if "urls" in spec else ()
        key = "urls" if "urls" in spec else next((k for k in given if k != "urls"), None)
        if secret is not None:
            urls = tuple(split_urls(secret))
        if not given:
            reader.add(spec, None, "needs Apprise URLs: urls_env, urls_file or urls: [...] "
                       "(e.g. tgram://bottoken/chatid)", where)
        elif not urls and (secret is not None or "urls" in spec):  # else: reported by now
            reader.add(spec, key, "holds no Apprise URL", where)
        for url in urls:
            problem = check_apprise_url(url)
            if problem:  # never the URL itself: it may hold a token
                reader.add(spec, key, f"{shown_url(url)}: {problem}", where)
        return cls(urls=urls, allow_private_addresses=reader.boolean(
            spec, "allow_private_addresses", False, where))

    @property
    def ident(self) -> str:
        return "apprise:" + ",".join(shown_url(u) for u in self.urls)

    def send(self, out: Outgoing, now: datetime, services: Services) -> None:
        policy = Policy(self.allow_private_addresses, SETTING)
        subject = out.message["Subject"] or out.name
        failed: list[str] = []
        for url in self.urls:
            with captured() as log, guarded(policy):
                service = _instantiate(url)
                ok = service is not None and bool(service.notify(body=out.body("text"),
                                                                 title=str(subject)))
                refused = _local.refused
            if refused:  # a configuration problem: retrying cannot help
                raise DeliveryError(f"apprise {shown_url(url)}: {refused}", retryable=False)
            if not ok:
                why = scrub("; ".join(log.messages[-2:]), self.urls) or "Apprise reports failure"
                failed.append(f"{shown_url(url)}: {why}")
        if failed:
            raise DeliveryError("apprise " + "; ".join(failed))


def _asset() -> Any:
    from apprise import AppriseAsset

    return AppriseAsset(async_mode=False, storage_mode="memory")


def _instantiate(url: str) -> Any:
    """Apprise's service object for ``url``; None if Apprise knows no such URL."""
    from apprise import Apprise

    return Apprise.instantiate(url, asset=_asset(), suppress_exceptions=True)


def check_apprise_url(url: str) -> str | None:
    """Why Apprise cannot use ``url`` (no network involved), or None."""
    if "://" not in url:
        return "is not an Apprise URL (scheme://...)"
    with captured():
        if _instantiate(url) is None:
            return ("Apprise does not know this URL or it is incomplete "
                    "(https://github.com/caronc/apprise/wiki)")
    return None
