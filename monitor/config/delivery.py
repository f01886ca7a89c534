"""The delivery part of the configuration (config.py holds the rest of the one model):

    smtp: {host, port: 587, security: starttls|ssl|none, username, password_env | password_file,
           from: "monitor <monitor@example.org>", timeout: 30s, ca_file: ...}
    digests:
      - name: daily
        schedule: "0 7 * * *"            # cron, in the digest's timezone
        timezone: Europe/Berlin
        watchlists: [...]  entries: [...]  kinds: [...]     # filters (default: everything)
        send_empty: false
        channels: [{email: {to: [...]}}, {webhook: {url, secret_env, format: json|slack}},
                   {slack: {url_env}}, {file: {dir: outbox/}}, {apprise: {urls_env}}]
                                         # each validated by its class (monitor/channels)
    alerts: {channels: [...]}             # immediately, for entries with priority: high
    delivery: {max_attempts: 10, backoff: 30s, max_backoff: 1h}
    templates: my-templates/              # overrides digest.html / digest.txt

Secrets come from the environment or a file, are read once at start-up and never printed
(``repr=False``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.channels import Channel, FileChannel, Setup, SmtpConfig, from_config, read_secret
from monitor.channels.base import words as _words
from monitor.channels.email import address_ok as _address_ok
from monitor.watchlist import KINDS

if TYPE_CHECKING:
    from monitor.config.reader import Reader as _Reader

__all__ = ["AlertsConfig", "ChannelConfig", "DeliveryConfig", "DigestConfig", "SmtpConfig",
           "parse_alerts", "parse_delivery", "parse_digests", "parse_smtp"]

_SMTP_KEYS = ("host", "port", "security", "username", "password_env", "password_file", "from",
              "timeout", "ca_file")
_DIGEST_KEYS = ("name", "schedule", "timezone", "watchlists", "entries", "kinds",
                "send_empty", "channels")
_DELIVERY_KEYS = ("max_attempts", "backoff", "max_backoff")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
DEFAULT_SCHEDULE = "0 7 * * *"
ChannelConfig = Channel  # a configured destination: one of monitor.channels.REGISTRY


@dataclass(frozen=True, slots=True)
class DigestConfig:
    name: str
    schedule: str = DEFAULT_SCHEDULE
    timezone: str = "UTC"
    watchlists: tuple[str, ...] = ()  # empty: every watchlist
    entries: tuple[str, ...] = ()     # entry ids, or watchlist/id
    kinds: tuple[str, ...] = ()
    send_empty: bool = False
    channels: tuple[ChannelConfig, ...] = ()


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    channels: tuple[ChannelConfig, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    max_attempts: int = 10
    backoff: float = 30.0       # first retry after this, doubling each time
    max_backoff: float = 3600.0


def default_digests(base: Path) -> tuple[DigestConfig, ...]:
    """No `digests` key: one daily digest at 07:00 UTC into ./outbox, so `monitor run`
    delivers somewhere without any setup."""
    return (DigestConfig("daily", channels=(FileChannel(dir=str(base / "outbox")),)),)


def parse_smtp(reader: _Reader, data: Any, env: dict[str, str], base: Path
               ) -> SmtpConfig | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        reader.add(data, None, "'smtp' must be a mapping (host, port, security, ...)")
        return None
    reader.keys(data, _SMTP_KEYS, "smtp")
    host = reader.text(data, "host", "smtp")
    if not host:
        reader.add(data, "host" if "host" in data else None, "the SMTP server's host is needed",
                   "smtp")
        return None
    security = data.get("security", "starttls")
    if security not in ("starttls", "ssl", "none"):
        reader.add(data, "security", f"{security!r} must be starttls, ssl or none", "smtp")
        security = "starttls"
    port = reader.integer(data, "port", 465 if security == "ssl" else 587, where="smtp")
    sender = reader.text(data, "from", "smtp") or "monitor <monitor@localhost>"
    if not _address_ok(sender):
        reader.add(data, "from", f"{sender!r} is not an e-mail address", "smtp")
    ca_file = reader.text(data, "ca_file", "smtp")
    if ca_file is not None:
        ca_file = str(base / ca_file)
        if not Path(ca_file).is_file():
            reader.add(data, "ca_file", f"{ca_file}: no such file", "smtp")
    return SmtpConfig(
        host=host, port=port, security=security, username=reader.text(data, "username", "smtp"),
        password=read_secret(reader, data, "password", "smtp", env, base), sender=sender,
        timeout=reader.duration(data, "timeout", 30.0, "smtp") or 30.0, ca_file=ca_file)


def parse_channels(reader: _Reader, data: Any, key: str, where: str, base: Path,
                   env: dict[str, str], smtp: SmtpConfig | None) -> tuple[ChannelConfig, ...]:
    raw = data.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        reader.add(data, key, "must be a list of channels", where)
        return ()
    setup = Setup(reader, base, env, smtp)
    found = [from_config(item, f"{where}.{key}[{i}]", setup) for i, item in enumerate(raw)]
    return tuple(c for c in found if c is not None)


def _digest(reader: _Reader, data: Any, index: int, base: Path, env: dict[str, str],
            smtp: SmtpConfig | None) -> DigestConfig | None:
    where = f"digests[{index}]"
    if not isinstance(data, dict):
        reader.add(data, None, f"{where} must be a mapping with name, schedule, channels")
        return None
    reader.keys(data, _DIGEST_KEYS, where)
    name = reader.text(data, "name", where)
    if not name or not _NAME.fullmatch(name):
        reader.add(data, "name" if "name" in data else None,
                   "needs a name of letters, digits, '.', '_' or '-'", where)
        return None
    timezone = reader.text(data, "timezone", where) or "UTC"
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        reader.add(data, "timezone", f"{timezone!r} is not a time zone (e.g. Europe/Berlin, "
                   "UTC)", where)
        zone = ZoneInfo("UTC")
    schedule = reader.text(data, "schedule", where) or DEFAULT_SCHEDULE
    from monitor.digest import cron_trigger, fire_after

    try:
        trigger = cron_trigger(schedule, zone)
    except ValueError as exc:
        reader.add(data, "schedule", f"{schedule!r} is not a cron expression "
                   f"(minute hour day month weekday, e.g. '0 7 * * *'): {exc}", where)
    else:
        if fire_after(trigger, datetime.now(UTC)) is None:
            reader.add(data, "schedule", f"{schedule!r} never fires (no such date): the "
                       "digest would never be sent", where)
    kinds = _words(reader, data, "kinds", where)
    for kind in kinds:
        if kind not in KINDS:
            reader.add(data, "kinds", f"{kind!r} is not a kind ({', '.join(KINDS)})", where)
    channels = parse_channels(reader, data, "channels", where, base, env, smtp)
    if "channels" not in data:
        reader.add(data, None, "needs channels: (email, webhook, slack, file or apprise)",
                   where)
    return DigestConfig(
        name=name, schedule=schedule, timezone=timezone,
        watchlists=_words(reader, data, "watchlists", where),
        entries=_words(reader, data, "entries", where), kinds=kinds,
        send_empty=reader.boolean(data, "send_empty", False, where), channels=channels)


def parse_digests(reader: _Reader, data: dict[str, Any], base: Path, env: dict[str, str],
                  smtp: SmtpConfig | None) -> tuple[DigestConfig, ...]:
    if "digests" not in data:
        return default_digests(base)
    raw = data.get("digests") or []
    if not isinstance(raw, list):
        reader.add(data, "digests", "must be a list of digests")
        return ()
    digests = [_digest(reader, item, i, base, env, smtp) for i, item in enumerate(raw)]
    seen: set[str] = set()
    for i, digest in enumerate(digests):
        if digest is not None and digest.name in seen:
            reader.add(raw[i], "name", f"another digest is called {digest.name!r}",
                       f"digests[{i}]")
        elif digest is not None:
            seen.add(digest.name)
    return tuple(d for d in digests if d is not None)


def parse_alerts(reader: _Reader, data: Any, base: Path, env: dict[str, str],
                 smtp: SmtpConfig | None) -> AlertsConfig:
    if data is None:
        return AlertsConfig()
    if not isinstance(data, dict):
        reader.add(data, None, "'alerts' must be a mapping with channels")
        return AlertsConfig()
    reader.keys(data, ("channels", "spikes"), "alerts")  # spikes: config/trends.py
    return AlertsConfig(parse_channels(reader, data, "channels", "alerts", base, env, smtp))


def parse_delivery(reader: _Reader, data: Any) -> DeliveryConfig:
    if data is None:
        return DeliveryConfig()
    if not isinstance(data, dict):
        reader.add(data, None, "'delivery' must be a mapping (max_attempts, backoff, ...)")
        return DeliveryConfig()
    reader.keys(data, _DELIVERY_KEYS, "delivery")
    default = DeliveryConfig()
    return DeliveryConfig(
        max_attempts=reader.integer(data, "max_attempts", default.max_attempts,
                                    where="delivery"),
        backoff=reader.duration(data, "backoff", default.backoff, "delivery") or default.backoff,
        max_backoff=reader.duration(data, "max_backoff", default.max_backoff, "delivery")
        or default.max_backoff)
