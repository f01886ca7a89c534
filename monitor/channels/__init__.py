"""Delivery channels as plug-ins: the registry maps a config kind to its class.  Adding a
channel is one module with a Channel subclass and one line here (README "Architecture")."""

from __future__ import annotations

from typing import Any

from monitor.channels.apprise import AppriseChannel
from monitor.channels.base import (
    Channel,
    DeliveryError,
    Outgoing,
    Sender,
    Services,
    Setup,
    read_secret,
)
from monitor.channels.email import EmailChannel, SmtpConfig
from monitor.channels.file import FileChannel
from monitor.channels.slack import SlackChannel
from monitor.channels.webhook import WebhookChannel
from monitor.errors import did_you_mean

REGISTRY: dict[str, type[Channel]] = {
    "email": EmailChannel,
    "webhook": WebhookChannel,
    "slack": SlackChannel,
    "file": FileChannel,
    "apprise": AppriseChannel,
}

__all__ = ["REGISTRY", "AppriseChannel", "Channel", "DeliveryError", "EmailChannel",
           "FileChannel", "Outgoing", "Sender", "Services", "Setup", "SlackChannel",
           "SmtpConfig", "WebhookChannel", "channel", "from_config", "read_secret"]


def channel(kind: str, **settings: Any) -> Channel:
    """A channel built from values already checked (code and tests; the config goes through
    ``from_config``)."""
    return REGISTRY[kind](**settings)


def from_config(data: Any, where: str, setup: Setup) -> Channel | None:
    """One ``{kind: {settings}}`` item of a channels: list, validated by its class; None
    (and a problem with its line) for anything else, an unknown kind first of all."""
    reader = setup.reader
    if not isinstance(data, dict) or len(data) != 1:
        examples = [cls.example for cls in REGISTRY.values()]
        reader.add(data, None, f"a channel is one of {', '.join(examples[:-1])} or "
                   f"{examples[-1]}", where)
        return None
    kind, spec = next(iter(data.items()))
    cls = REGISTRY.get(kind) if isinstance(kind, str) else None
    if cls is None:
        reader.add(data, str(kind), f"unknown channel{did_you_mean(str(kind), list(REGISTRY))}"
                   f"; allowed: {', '.join(REGISTRY)}", where)
        return None
    spec = spec if spec is not None else {}
    if not isinstance(spec, dict):
        reader.add(data, kind, "must be a mapping of settings", where)
        return None
    where = f"{where}.{kind}"
    reader.keys(spec, cls.settings, where)
    return cls.from_settings(spec, where, setup)
