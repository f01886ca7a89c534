"""Reading monitor.yaml: defaults, types and validation, checked at start-up.

    database: sqlite:///data/monitor.db     # MONITOR_DATABASE_URL overrides it
    watchlists: watchlists/                 # file or folder, relative to the config file
    fetch: {timeout: 20s, max_bytes: 10MB, concurrency: 16, per_host: 2, max_items: 1000,
            user_agent: ..., allow_private_addresses: false}
    raw_retention: 30d                      # how long raw pages are kept (0: not kept)
    feeds:
      - {url: https://..., name: ..., interval: 15m, full_text: true, language: en,
         country: GB, tags: [wire]}

Every problem is reported with the file, line and key (``monitor.config.reader``); the
config is passed in explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from monitor.config.delivery import parse_alerts, parse_delivery, parse_digests, parse_smtp
from monitor.config.env import apply_env
from monitor.config.model import (
    DEFAULT_INTERVAL,
    Config,
    EventsConfig,
    FeedConfig,
    FetchConfig,
    ServerConfig,
)
from monitor.config.reader import Reader, check_url, parse_size, parse_yaml
from monitor.config.trends import parse_trends
from monitor.config.web import parse_web
from monitor.countries import is_country_code
from monitor.errors import Problem, ProblemsError, UsageError
from monitor.feedurl import feed_url

_TOP_KEYS = ("database", "watchlists", "fetch", "feeds", "raw_retention", "smtp", "digests",
             "alerts", "delivery", "templates", "server", "web", "events", "trends")
_FETCH_KEYS = ("timeout", "max_bytes", "concurrency", "per_host", "max_items", "user_agent",
               "allow_private_addresses")
_FEED_KEYS = ("url", "name", "interval", "full_text", "language", "country", "tags")


class ConfigError(ProblemsError):
    """The configuration is invalid."""

    what = "configuration"


def _fetch(reader: Reader, data: Any) -> FetchConfig:
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


def _feed(reader: Reader, data: Any, index: int) -> FeedConfig | None:
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


def _events(reader: Reader, data: Any) -> EventsConfig:
    if data is None:
        return EventsConfig()
    if not isinstance(data, dict):
        reader.add(data, None, "'events' must be a mapping (window, max_age)")
        return EventsConfig()
    reader.keys(data, ("window", "max_age"), "events")
    default = EventsConfig()
    return EventsConfig(window=reader.duration(data, "window", default.window, "events"),
                        max_age=reader.duration(data, "max_age", default.max_age, "events"))


def _server(reader: Reader, data: Any) -> ServerConfig:
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
    reader = Reader(path)
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
        events=_events(reader, data.get("events")),
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
