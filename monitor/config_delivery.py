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
                   {file: {dir: outbox/}}]
    alerts: {channels: [...]}             # immediately, for entries with priority: high
    delivery: {max_attempts: 10, backoff: 30s, max_backoff: 1h}
    templates: my-templates/              # overrides digest.html / digest.txt

Secrets come from the environment or a file, are read once at start-up and never printed
(``repr=False``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.policy import default as email_policy
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.display import webhook_url
from monitor.errors import did_you_mean
from monitor.watchlist import KINDS

if TYPE_CHECKING:
    from monitor.config import _Reader

_SMTP_KEYS = ("host", "port", "security", "username", "password_env", "password_file", "from",
              "timeout", "ca_file")
_DIGEST_KEYS = ("name", "schedule", "timezone", "watchlists", "entries", "kinds",
                "send_empty", "channels")
_DELIVERY_KEYS = ("max_attempts", "backoff", "max_backoff")
_CHANNEL_KINDS = ("email", "webhook", "file")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
DEFAULT_SCHEDULE = "0 7 * * *"
shown_url = webhook_url  # a webhook URL as shown (monitor.display masks every kind of URL)


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


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """One destination: ``email`` (to), ``webhook`` (url, secret, format) or ``file`` (dir)."""

    kind: str
    to: tuple[str, ...] = ()
    url: str = ""
    secret: str | None = field(default=None, repr=False)
    format: str = "json"  # json | slack
    dir: str = ""
    allow_private_addresses: bool = False  # webhook: may post to a private or local address

    @property
    def ident(self) -> str:
        """What a delivery row records to find its channel again (never a secret)."""
        if self.kind == "email":
            return "email:" + ",".join(self.to)
        return f"webhook:{shown_url(self.url)}" if self.kind == "webhook" else f"file:{self.dir}"


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
    return (DigestConfig("daily", channels=(ChannelConfig("file", dir=str(base / "outbox")),)),)


def _secret(reader: _Reader, data: dict[str, Any], name: str, where: str,
            env: dict[str, str], base: Path) -> str | None:
    """``<name>_env`` (a variable's name) or ``<name>_file`` (a path, relative to the config
    file); also ``<VAR>_FILE``.  A problem names the setting, never the secret."""
    var, path = data.get(f"{name}_env"), data.get(f"{name}_file")
    if var is not None and path is not None:
        reader.add(data, f"{name}_file", f"give {name}_env or {name}_file, not both", where)
        return None
    if var is not None:
        if not isinstance(var, str) or not var:
            reader.add(data, f"{name}_env", "must be the name of an environment variable", where)
            return None
        if var in env:
            return env[var]
        if f"{var}_FILE" in env:
            path = env[f"{var}_FILE"]
        else:
            reader.add(data, f"{name}_env", f"environment variable {var} is not set", where)
            return None
    if path is None:
        return None
    try:
        return (base / str(path)).read_text(encoding="utf-8").strip()
    except OSError as exc:
        reader.add(data, f"{name}_file" if f"{name}_file" in data else f"{name}_env",
                   f"cannot read {path}: {exc.strerror or exc}", where)
        return None


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
        password=_secret(reader, data, "password", "smtp", env, base), sender=sender,
        timeout=reader.duration(data, "timeout", 30.0, "smtp") or 30.0, ca_file=ca_file)


def _address_ok(value: str) -> bool:
    if "\n" in value or "\r" in value:
        return False
    try:
        header = email_policy.header_factory("to", value)
        addresses: tuple[Address, ...] = header.addresses  # type: ignore[attr-defined]
    except (ValueError, IndexError, AttributeError):
        return False
    return len(addresses) == 1 and bool(addresses[0].domain)


def _words(reader: _Reader, data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        reader.add(data, key, "must be a list of names", where)
        return ()
    return tuple(value)


def _channel(reader: _Reader, data: Any, where: str, base: Path, env: dict[str, str],
             smtp: SmtpConfig | None) -> ChannelConfig | None:
    if not isinstance(data, dict) or len(data) != 1:
        reader.add(data, None, "a channel is one of {email: {to: [...]}}, {webhook: {url: ...}} "
                   "or {file: {dir: ...}}", where)
        return None
    kind, spec = next(iter(data.items()))
    if kind not in _CHANNEL_KINDS:
        reader.add(data, str(kind), f"unknown channel{did_you_mean(kind, _CHANNEL_KINDS)}; "
                   "allowed: email, webhook, file", where)
        return None
    spec = spec if spec is not None else {}
    if not isinstance(spec, dict):
        reader.add(data, kind, "must be a mapping of settings", where)
        return None
    where = f"{where}.{kind}"
    if kind == "email":
        reader.keys(spec, ("to",), where)
        to = _words(reader, spec, "to", where)
        for address in to:
            if not _address_ok(address):
                reader.add(spec, "to", f"{address!r} is not an e-mail address", where)
        if not to:
            reader.add(spec, "to" if "to" in spec else None, "needs recipients: to: [...]", where)
        if smtp is None:
            reader.add(data, kind, "e-mail needs an smtp: section (host, port, ...)", where)
        return ChannelConfig("email", to=to)
    if kind == "webhook":
        reader.keys(spec, ("url", "secret_env", "secret_file", "format",
                           "allow_private_addresses"), where)
        from monitor.config import check_url

        problem = check_url(spec.get("url"))
        if problem:
            reader.add(spec, "url" if "url" in spec else None, problem, where)
        fmt = spec.get("format", "json")
        if fmt not in ("json", "slack"):
            reader.add(spec, "format", f"{fmt!r} must be json or slack", where)
            fmt = "json"
        return ChannelConfig("webhook", url=str(spec.get("url", "")).strip(), format=fmt,
                             secret=_secret(reader, spec, "secret", where, env, base),
                             allow_private_addresses=reader.boolean(
                                 spec, "allow_private_addresses", False, where))
    reader.keys(spec, ("dir",), where)
    folder = reader.text(spec, "dir", where) or "outbox"
    return ChannelConfig("file", dir=str(base / folder))


def parse_channels(reader: _Reader, data: Any, key: str, where: str, base: Path,
                   env: dict[str, str], smtp: SmtpConfig | None) -> tuple[ChannelConfig, ...]:
    raw = data.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        reader.add(data, key, "must be a list of channels", where)
        return ()
    found = [_channel(reader, item, f"{where}.{key}[{i}]", base, env, smtp)
             for i, item in enumerate(raw)]
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
        reader.add(data, None, "needs channels: (email, webhook or file)", where)
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
    reader.keys(data, ("channels", "spikes"), "alerts")  # spikes: trends_config.py
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
