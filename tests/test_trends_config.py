"""trends.timezone and alerts.spikes in the configuration: defaults, values, mistakes named."""

from __future__ import annotations

import pytest

from monitor.config import ConfigError, parse_config
from monitor.spikes import MIN_EVENTS


def test_defaults_and_values() -> None:
    default = parse_config("", "", env={}).trends
    assert (default.timezone, default.min_events, default.sensitivity) == ("UTC", MIN_EVENTS,
                                                                            "normal")
    given = parse_config("trends: {timezone: Europe/Berlin}\nalerts:\n  spikes: "
                         "{min_events: 3, sensitivity: 3.5}\n", "m.yaml", env={}).trends
    assert (given.timezone, given.min_events, given.threshold) == ("Europe/Berlin", 3, 3.5)
    assert parse_config("alerts: {spikes: {sensitivity: high}}\n", "m.yaml",
                        env={}).trends.threshold == 2.5


@pytest.mark.parametrize(("text", "says"), [
    ("trends: {timezone: Mars/Olympus}\n",
     "m.yaml:1: entry 'trends': field 'timezone': 'Mars/Olympus' is not a timezone"),
    ("trends: {zone: UTC}\n", "field 'zone': unknown key (did you mean 'timezone'?)"),
    ("alerts:\n  spikes: {sensitivity: extreme}\n",
     "m.yaml:2: entry 'alerts.spikes': field 'sensitivity': 'extreme': use one of low"),
    ("alerts:\n  spikes: {sensitivity: -1}\n", "field 'sensitivity': -1: use one of"),
    ("alerts:\n  spikes: {min_events: -2}\n", "field 'min_events': -2 must be a whole number"),
])
def test_mistakes_are_named(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(text, "m.yaml", env={})
    assert says in str(error.value)
