"""The trends part of the configuration:

    trends: {timezone: Europe/Berlin}        # the day counts are kept in (default UTC)
    alerts:
      spikes: {min_events: 5, sensitivity: normal}   # low | normal | high, or a score (3.5)

Spike alerts go to the ``alerts`` channels; kept apart from config.py so that its parser
only calls ``parse_trends``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from monitor.config.reader import Reader as _Reader

_TRENDS_KEYS = ("timezone",)
_SPIKE_KEYS = ("min_events", "sensitivity")


@dataclass(frozen=True, slots=True)
class TrendsConfig:
    timezone: str = "UTC"
    min_events: int = 5  # alerts.spikes.min_events (spikes.MIN_EVENTS)
    sensitivity: str | float = "normal"  # alerts.spikes.sensitivity

    @property
    def threshold(self) -> float:
        from monitor.spikes import threshold  # numpy: not for every command's config

        return threshold(self.sensitivity)


def parse_trends(reader: _Reader, data: Any) -> TrendsConfig:
    """``trends:`` and ``alerts.spikes:`` of the whole configuration ``data``."""
    default = TrendsConfig()
    section = data.get("trends")
    timezone = default.timezone
    if section is not None and not isinstance(section, dict):
        reader.add(data, "trends", "must be a mapping (timezone)")
    elif section is not None:
        reader.keys(section, _TRENDS_KEYS, "trends")
        timezone = _zone(reader, section, default.timezone)
    alerts = data.get("alerts")
    spikes = alerts.get("spikes") if isinstance(alerts, dict) else None
    if spikes is None:
        return TrendsConfig(timezone=timezone)
    if not isinstance(spikes, dict):
        reader.add(alerts, "spikes", "must be a mapping (min_events, sensitivity)", "alerts")
        return TrendsConfig(timezone=timezone)
    reader.keys(spikes, _SPIKE_KEYS, "alerts.spikes")
    min_events = reader.integer(spikes, "min_events", default.min_events, low=0,
                                where="alerts.spikes")
    return TrendsConfig(timezone, min_events, _sensitivity(reader, spikes, default.sensitivity))


def _zone(reader: _Reader, section: Any, default: str) -> str:
    value = section.get("timezone", default)
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        reader.add(section, "timezone", f"{value!r} is not a timezone (e.g. UTC, "
                   "Europe/Berlin)", "trends")
        return default
    return str(value)


def _sensitivity(reader: _Reader, spikes: Any, default: str | float) -> str | float:
    from monitor.spikes import SENSITIVITIES, threshold

    value = spikes.get("sensitivity", default)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        value = repr(value)
    try:
        threshold(value)
    except ValueError:
        names = ", ".join(SENSITIVITIES)
        reader.add(spikes, "sensitivity", f"{value!r}: use one of {names}, or a score above "
                   "0 such as 3.5 (higher is less sensitive)", "alerts.spikes")
        return default
    return value if isinstance(value, str) else float(value)
