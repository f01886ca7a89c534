"""monitor.yaml: defaults, validation with file/line/key, environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, load_config, parse_config, parse_duration, parse_size
from tests.conftest import ROOT


def test_the_repository_default_config_is_valid() -> None:
    config = load_config(str(ROOT / "monitor.yaml"), env={})
    assert config.database == f"sqlite:///{ROOT / 'data' / 'monitor.db'}"
    assert config.watchlists == str(ROOT / "watchlists")
    assert len(config.feeds) >= 10
    assert config.fetch.allow_private_addresses is False
    names = " ".join(f.name or "" for f in config.feeds)
    for outlet in ("BBC", "Guardian", "Al Jazeera", "DW", "France 24", "Kyiv Independent",
                   "NK News", "VnExpress", "TASS", "Meduza"):
        assert outlet in names


def test_no_file_means_defaults() -> None:
    config = parse_config("", "", env={})
    assert config.database.startswith("sqlite:///") and config.feeds == ()
    assert config.fetch.timeout == 20 and config.fetch.max_bytes == 10_000_000


def test_environment_overrides_the_database() -> None:
    config = parse_config("database: sqlite:///x.db\n", "m.yaml",
                          env={"MONITOR_DATABASE_URL": "postgresql+psycopg://db/monitor"})
    assert config.database == "postgresql+psycopg://db/monitor"


def test_monitor_config_variable_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text("feeds:\n  - https://example.org/rss\n")
    config = load_config(None, env={"MONITOR_CONFIG": str(path)})
    assert config.feeds[0].url == "https://example.org/rss"


def test_every_problem_names_file_line_and_key() -> None:
    text = """database: sqlite:///x.db
fetch:
  timeout: soon
  max_bytes: lots
  concurency: 4
feeds:
  - url: ftp://example.org/feed
  - url: https://example.org/rss
    interval: 10 minutes
    country: XX
  - url: https://example.org/rss
colour: blue
"""
    with pytest.raises(ConfigError) as info:
        parse_config(text, "monitor.yaml", env={})
    messages = [str(p) for p in info.value.problems]
    expected = [
        ("monitor.yaml:3", "'timeout'", "not a duration"),
        ("monitor.yaml:4", "'max_bytes'", "not a size"),
        ("monitor.yaml:5", "'concurency'", "did you mean 'concurrency'"),
        ("monitor.yaml:7", "'url'", "not an http"),
        ("monitor.yaml:9", "'interval'", "not a duration"),
        ("monitor.yaml:10", "'country'", "ISO 3166"),
        ("monitor.yaml:11", "'url'", "the same feed"),
        ("monitor.yaml:12", "'colour'", "unknown key"),
    ]
    for where, key, what in expected:
        assert any(m.startswith(where) and key in m and what in m for m in messages), (
            where, messages)
    assert info.value.exit_code == 2


def test_yaml_syntax_errors_name_the_line() -> None:
    with pytest.raises(ConfigError, match=r"m.yaml:2: not valid YAML"):
        parse_config("feeds:\n  - url: a: b\n", "m.yaml", env={})


@pytest.mark.parametrize("text,seconds", [("20s", 20), ("15m", 900), ("6h", 21600),
                                          ("1d", 86400), ("250ms", 0.25), (30, 30)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_sizes() -> None:
    assert parse_size("10MB") == 10_000_000 and parse_size("512KiB") == 524_288
    assert parse_size("big") is None and parse_size(True) is None
