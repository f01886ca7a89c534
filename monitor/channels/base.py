"""What every channel is: a kind, settings it validates itself (``file:line: field: what to
fix``), an identity for the delivery queue, the rendered formats it sends, and ``send``.

A delivery stores its run's bodies once per format; a retry sends the same bytes with the
same Idempotency-Key (``Outgoing.key``).  Every failure is a DeliveryError that says
whether trying again may help; deliver.py records it and retries with back-off.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from monitor.errors import MonitorError

if TYPE_CHECKING:
    from monitor.channels.email import SmtpConfig
    from monitor.config.reader import Reader


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
    message: EmailMessage  # the e-mail (text with an HTML alternative)
    bodies: Mapping[str, str]  # rendered bodies by format: text, html, json, slack, ...

    def body(self, fmt: str) -> str:
        return self.bodies.get(fmt, "")


@dataclass(frozen=True, slots=True)
class Setup:
    """What a channel reads its settings with: the config's reader (problems with their
    file and line), the config file's folder (relative paths), the environment (secrets)
    and the smtp: section."""

    reader: Reader
    base: Path
    env: Mapping[str, str]
    smtp: SmtpConfig | None = None


@dataclass(frozen=True, slots=True)
class Services:
    """What channels share at send time (the smtp: section, for e-mail)."""

    smtp: SmtpConfig | None = None


class Channel(ABC):
    """One destination.  A subclass is a frozen dataclass of its settings (secrets with
    ``repr=False``), registered under its ``kind`` in monitor/channels/__init__.py."""

    kind: ClassVar[str]
    settings: ClassVar[tuple[str, ...]]  # the keys of its mapping in the config
    example: ClassVar[str]               # the shortest valid config, for error messages
    formats: ClassVar[tuple[str, ...]] = ()  # the rendered bodies it sends (render.FORMATS)

    @classmethod
    @abstractmethod
    def from_settings(cls, spec: dict[str, Any], where: str, setup: Setup) -> Channel | None:
        """The channel of these (already key-checked) settings; problems go to
        ``setup.reader`` with their line, and the result may then be anything."""

    @property
    @abstractmethod
    def ident(self) -> str:
        """What a delivery row records to find its channel again: stable, never a secret."""

    @abstractmethod
    def send(self, out: Outgoing, now: datetime, services: Services) -> None:
        """Deliver ``out``; raise DeliveryError (retryable or not) when it did not arrive."""


class Sender:
    """Sends one Outgoing to one channel; tests subclass it to crash after a send."""

    def __init__(self, smtp: SmtpConfig | None) -> None:
        self.smtp = smtp

    def send(self, channel: Channel, out: Outgoing, now: datetime) -> None:
        channel.send(out, now, Services(self.smtp))


def read_secret(reader: Reader, data: dict[str, Any], name: str, where: str,
                env: Mapping[str, str], base: Path) -> str | None:
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


def words(reader: Reader, data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    """A list of non-empty strings (one string counts as a list of one)."""
    value = data.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        reader.add(data, key, "must be a list of names", where)
        return ()
    return tuple(value)
