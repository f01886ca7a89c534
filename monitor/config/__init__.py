"""The configuration: ``from monitor.config import load_config, Config, ...``.

    reader.py    the one validating reader (YAML with lines, problems as file:line: field)
    model.py     the dataclasses of monitor.yaml
    load.py      parse_config / load_config: monitor.yaml read into the model
    env.py       MONITOR_* environment overrides
    web.py       the web part; delivery.py the smtp, digests, alerts and delivery part

The names below are imported on first use, not with the package: the watchlists read
their files through ``monitor.config.reader``, and the delivery part needs the watchlists'
kinds, so importing the whole configuration here would run back up into the watchlists.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.config.load import ConfigError, load_config, parse_config
    from monitor.config.model import (
        DEFAULT_INTERVAL,
        DEFAULT_USER_AGENT,
        PROJECT_URL,
        Config,
        FeedConfig,
        FetchConfig,
        ServerConfig,
    )
    from monitor.config.reader import check_url, parse_duration, parse_size

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_USER_AGENT",
    "PROJECT_URL",
    "Config",
    "ConfigError",
    "FeedConfig",
    "FetchConfig",
    "ServerConfig",
    "check_url",
    "load_config",
    "parse_config",
    "parse_duration",
    "parse_size",
]

_HOMES = {
    "ConfigError": "load", "load_config": "load", "parse_config": "load",
    "DEFAULT_INTERVAL": "model", "DEFAULT_USER_AGENT": "model", "PROJECT_URL": "model",
    "Config": "model", "FeedConfig": "model", "FetchConfig": "model", "ServerConfig": "model",
    "check_url": "reader", "parse_duration": "reader", "parse_size": "reader",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'monitor.config' has no attribute {name!r}")
    value = getattr(import_module(f"monitor.config.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
