"""The configuration's model: what monitor.yaml says once read, with every default.

Frozen dataclasses, built only by ``monitor.config.load`` after validation; the delivery
(smtp, digests, alerts) and web parts are defined next to their readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor import __version__
from monitor.config.delivery import AlertsConfig, DeliveryConfig, DigestConfig, SmtpConfig
from monitor.config.trends import TrendsConfig
from monitor.config.web import WebConfig

PROJECT_URL = "https://github.com/monitor-news/monitor"
DEFAULT_USER_AGENT = f"monitor/{__version__} (+{PROJECT_URL})"
DEFAULT_INTERVAL = 15 * 60


@dataclass(frozen=True, slots=True)
class FetchConfig:
    timeout: float = 20.0
    max_bytes: int = 10 * 10**6
    concurrency: int = 16
    per_host: int = 2
    max_items: int = 1000  # of one feed document, first ones (the newest, by convention)
    user_agent: str = DEFAULT_USER_AGENT
    allow_private_addresses: bool = False


@dataclass(frozen=True, slots=True)
class FeedConfig:
    url: str
    name: str | None = None
    interval: float = DEFAULT_INTERVAL
    full_text: bool = True
    language: str | None = None
    country: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The health and metrics endpoint (health.py) and the web interface (monitor.web);
    ``server: false`` turns it off."""

    host: str = "127.0.0.1"
    port: int = 8080
    enabled: bool = True

    @property
    def healthz(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}/healthz"


@dataclass(frozen=True, slots=True)
class EventsConfig:
    """``events:``: stories published within ``window`` seconds of each other can be one
    event; an article first seen more than ``max_age`` seconds after its publication date
    is stored but is not news (no digest, no alert)."""

    window: float = 72 * 3600
    max_age: float = 3 * 86400


@dataclass(frozen=True, slots=True)
class Config:
    database: str = "sqlite:///data/monitor.db"
    watchlists: str = "watchlists"
    fetch: FetchConfig = field(default_factory=FetchConfig)
    feeds: tuple[FeedConfig, ...] = ()
    raw_retention: float = 30 * 86400
    smtp: SmtpConfig | None = None
    digests: tuple[DigestConfig, ...] = ()
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    templates: str | None = None  # a folder whose templates override the built-in ones
    server: ServerConfig = field(default_factory=ServerConfig)
    web: WebConfig = field(default_factory=WebConfig)
    events: EventsConfig = field(default_factory=EventsConfig)
    trends: TrendsConfig = field(default_factory=TrendsConfig)
    path: str = ""

    def digest(self, name: str) -> DigestConfig | None:
        return next((d for d in self.digests if d.name == name), None)
