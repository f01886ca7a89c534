"""One configuration model (monitor.yaml): defaults, types and validation, checked at start-up.

    database: sqlite:///data/monitor.db     # MONITOR_DATABASE_URL overrides it
    watchlists: watchlists/                 # file or folder, relative to the config file
    fetch: {timeout: 20s, max_bytes: 10MB, concurrency: 16, per_host: 2, max_items: 1000,
            user_agent: ..., allow_private_addresses: false}
    raw_retention: 30d                      # how long raw pages are kept (0: not kept)
    feeds:
      - {url: https://..., name: ..., interval: 15m, full_text: true, language: en,
         country: GB, tags: [wire]}

Every problem is reported with the file, line and key; the config is passed in explicitly.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor import __version__
from monitor.config_delivery import (
    AlertsConfig,
    DeliveryConfig,
    DigestConfig,
    SmtpConfig,
    parse_alerts,
    parse_delivery,
    parse_digests,
    parse_smtp,
)
from monitor.config_env import apply_env
from monitor.config_web import WebConfig, parse_web
from monitor.countries import is_country_code
from monitor.errors import Problem, ProblemsError, UsageError, did_you_mean
from monitor.feedurl import feed_url
from monitor.trends_config import TrendsConfig, parse_trends
from monitor.watchlist import parse_yaml

PROJECT_URL = "https://github.com/monitor-news/monitor"
DEFAULT_USER_AGENT = f"monitor/{__version__} (+{PROJECT_URL})"
DEFAULT_INTERVAL = 15 * 60
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZES = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20,
          "gib": 2**30}
_TOP_KEYS = ("database", "watchlists", "fetch", "feeds", "raw_retention", "smtp", "digests",
             "alerts", "delivery", "templates", "server", "web", "trends")
_FETCH_KEYS = ("timeout", "max_bytes", "concurrency", "per_host", "max_items", "user_agent",
               "allow_private_addresses")
_FEED_KEYS = ("url", "name", "interval", "full_text", "language", "country", "tags")


class ConfigError(ProblemsError):
    """The configuration is invalid."""

    what = "configuration"


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
    trends: TrendsConfig = field(default_factory=TrendsConfig)
    path: str = ""

    def digest(self, name: str) -> DigestConfig | None:
        return next((d for d in self.digests if d.name == name), None)


def parse_duration(value: Any) -> float | None:
    """'20s', '15m', '6h', '1d', '250ms' or a number of seconds; None if not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    match = _DURATION.match(str(value))
    return float(match[1]) * _UNITS[match[2] or "s"] if match else None


def parse_size(value: Any) -> int | None:
    """'10MB', '512KiB', or a number of bytes; None if not a size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    match = _SIZE.match(str(value))
    return int(float(match[1]) * _SIZES[(match[2] or "b").lower()]) if match else None


def check_url(url: Any) -> str | None:
    """Why ``url`` is not an http(s) URL a feed can have, or None if it is fine."""
    if not isinstance(url, str) or not url.strip():
        return "must be an http:// or https:// URL"
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http:// or https:// URL"
    try:
        parts.port  # noqa: B018 - raises for a port that is not one
    except ValueError:
        return f"{url!r}: the port is not a number from 0 to 65535"
    return None


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def add(self, data: Any, key: str | None, message: str, where: str | None = None) -> None:
        lines = getattr(data, "key_lines", {})
        line = lines.get(key, getattr(data, "line", None)) if key else getattr(data, "line", None)
        self.problems.append(Problem(self.path, line, message, where, key))

    def keys(self, data: Any, allowed: tuple[str, ...], where: str | None) -> None:
        for key, _line in getattr(data, "duplicates", []):
            self.add(data, key, "given twice", where)
        for key in data:
            if key not in allowed:
                self.add(data, str(key), f"unknown key{did_you_mean(key, allowed)}; "
                         f"allowed: {', '.join(allowed)}", where)

    def duration(self, data: Any, key: str, default: float, where: str | None = None) -> float:
        if key not in data:
            return default
        value = parse_duration(data[key])
        if value is None:
            self.add(data, key, f"{data[key]!r} is not a duration (e.g. 30s, 15m, 6h, 1d)", where)
            return default
        return value

    def integer(self, data: Any, key: str, default: int, low: int = 1,
                where: str = "fetch") -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            self.add(data, key, f"{value!r} must be a whole number >= {low}", where)
            return default
        return value

    def boolean(self, data: Any, key: str, default: bool, where: str | None = None) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.add(data, key, f"{value!r} must be true or false", where)
            return default
        return value

    def text(self, data: Any, key: str, where: str | None = None) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.add(data, key, "must be text", where)
            return None
        return str(value)


def _fetch(reader: _Reader, data: Any) -> FetchConfig:
    if data is None:
        return FetchConfig()
    if not isinstance(data, dict):
        reader.add(data, None, "'fetch' must be a mapping of settings")
        return FetchConfig()
    reader.keys(data, _FETCH_KEYS, "fetch")
    default = FetchConfig()
    max_bytes = default.max_bytes
    if "max_bytes" in data:
        size = parse_size(data["max_bytes"])
        if size is None or size == 0:
            reader.add(data, "max_bytes", f"{data['max_bytes']!r} is not a size (e.g. 10MB)",
                       "fetch")
        else:
            max_bytes = size
    return FetchConfig(
        timeout=reader.duration(data, "timeout", default.timeout, "fetch") or default.timeout,
        max_bytes=max_bytes,
        concurrency=reader.integer(data, "concurrency", default.concurrency),
        per_host=reader.integer(data, "per_host", default.per_host),
        max_items=reader.integer(data, "max_items", default.max_items),
        user_agent=reader.text(data, "user_agent", "fetch") or default.user_agent,
        allow_private_addresses=reader.boolean(data, "allow_private_addresses",
                                               default.allow_private_addresses, "fetch"),
    )


def _feed(reader: _Reader, data: Any, index: int) -> FeedConfig | None:
    where = f"feeds[{index}]"
    if isinstance(data, str):
        data = {"url": data}
    if not isinstance(data, dict):
        reader.add(data, None, f"{where} must be a URL or a mapping with 'url'")
        return None
    reader.keys(data, _FEED_KEYS, where)
    problem = check_url(data.get("url"))
    if problem:
        reader.add(data, "url" if "url" in data else None, problem, where)
        return None
    country = reader.text(data, "country", where)
    if country is not None and not is_country_code(country.upper()):
        reader.add(data, "country", f"{country!r} is not an ISO 3166 country code", where)
        country = None
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = [tags]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        reader.add(data, "tags", "must be a list of words", where)
        tags = []
    interval = reader.duration(data, "interval", DEFAULT_INTERVAL, where)
    if interval < 60:
        reader.add(data, "interval", "must be at least 1m (be kind to publishers)", where)
        interval = DEFAULT_INTERVAL
    return FeedConfig(
        url=feed_url(str(data["url"])), name=reader.text(data, "name", where),
        interval=interval,
        full_text=reader.boolean(data, "full_text", True, where),
        language=reader.text(data, "language", where),
        country=country.upper() if country else None, tags=tuple(tags),
    )


def _server(reader: _Reader, data: Any) -> ServerConfig:
    default = ServerConfig()
    if data is False:
        return ServerConfig(enabled=False)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        reader.add(data, None, "'server' must be a mapping (host, port) or false")
        return default
    reader.keys(data, ("host", "port"), "server")
    host = reader.text(data, "host", "server") or default.host
    port = reader.integer(data, "port", default.port, low=0, where="server")
    if port > 65535:
        reader.add(data, "port", f"{port} is not a port (0 to 65535)", "server")
        port = default.port
    return ServerConfig(host=host, port=port)


def parse_config(text: str, path: str, env: dict[str, str] | None = None) -> Config:
    """The configuration in ``text`` (the file at ``path``), or ConfigError with every problem."""
    data, problems = parse_yaml(text, path)
    if problems:
        raise ConfigError(problems)
    data = {} if data is None else data
    reader = _Reader(path)
    if not isinstance(data, dict):
        raise ConfigError([Problem(path, 1, "must be a mapping of settings (database, feeds...)")])
    reader.keys(data, _TOP_KEYS, None)
    env = dict(os.environ) if env is None else env
    data, env_problems = apply_env(data, env)
    reader.problems += env_problems
    base = Path(path).resolve().parent if path else Path.cwd()
    defaults = Config()
    database = reader.text(data, "database") or defaults.database
    if database.startswith("sqlite:///") and not database.startswith("sqlite:////"):
        relative = database[len("sqlite:///"):]
        if relative and relative != ":memory:":
            database = f"sqlite:///{base / relative}"
    watchlists = str(base / (reader.text(data, "watchlists") or defaults.watchlists))
    raw_feeds = data.get("feeds") or []
    if not isinstance(raw_feeds, list):
        reader.add(data, "feeds", "must be a list of feeds")
        raw_feeds = []
    feeds = [_feed(reader, item, i) for i, item in enumerate(raw_feeds)]
    seen: dict[str, int] = {}
    for i, feed in enumerate(feeds):
        if feed is not None and feed.url in seen:
            reader.add(raw_feeds[i], "url", f"the same feed as feeds[{seen[feed.url]}]",
                       f"feeds[{i}]")
        elif feed is not None:
            seen[feed.url] = i
    smtp = parse_smtp(reader, data.get("smtp"), env, base)
    templates = reader.text(data, "templates")
    if templates is not None and not (base / templates).is_dir():
        reader.add(data, "templates", f"{templates}: no such folder")
    config = Config(
        database=database, watchlists=watchlists, fetch=_fetch(reader, data.get("fetch")),
        feeds=tuple(f for f in feeds if f is not None),
        raw_retention=reader.duration(data, "raw_retention", defaults.raw_retention),
        smtp=smtp, digests=parse_digests(reader, data, base, env, smtp),
        alerts=parse_alerts(reader, data.get("alerts"), base, env, smtp),
        delivery=parse_delivery(reader, data.get("delivery")),
        templates=str(base / templates) if templates else None,
        server=_server(reader, data.get("server")),
        web=parse_web(reader, data.get("web"), env, base), path=path,
        trends=parse_trends(reader, data),
    )
    if reader.problems:
        raise ConfigError(reader.problems)
    return config


def load_config(path: str | None = None, env: dict[str, str] | None = None) -> Config:
    """Load ``path``, else $MONITOR_CONFIG, else ./monitor.yaml if present, else defaults."""
    env = dict(os.environ) if env is None else env
    chosen = path or env.get("MONITOR_CONFIG")
    if chosen is None:
        chosen = "monitor.yaml" if Path("monitor.yaml").is_file() else None
    if chosen is None:
        return parse_config("", "", env)
    try:
        data = Path(chosen).read_bytes()
    except OSError as exc:
        raise UsageError(f"{chosen}: cannot read the configuration: "
                         f"{exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError([Problem(chosen, line, f"not UTF-8 (byte 0x{data[exc.start]:02x}): "
                                   "save the file as UTF-8")]) from exc
    return parse_config(text, chosen, env)
