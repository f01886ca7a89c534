"""monitor.yaml: defaults, validation with file/line/key, environment overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import ConfigError, load_config, parse_config, parse_duration, parse_size
from tests.support import ROOT, examples


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


# --- digests, alerts, smtp ----------------------------------------------------------------

FULL = """\
smtp:
  host: smtp.example.org
  port: 587
  security: starttls
  username: monitor
  password_env: MONITOR_SMTP_PASSWORD
  from: "monitor <monitor@example.org>"
digests:
  - name: daily
    schedule: "0 7 * * *"
    timezone: Europe/Berlin
    watchlists: [russia-asia-diplomacy]
    kinds: [actor, treaty]
    send_empty: true
    channels:
      - email: {to: [analyst@example.org]}
      - webhook: {url: "https://hooks.example.org/monitor", secret_env: HOOK, format: slack}
      - file: {dir: out/}
alerts:
  channels:
    - webhook: {url: "https://hooks.example.org/alerts", secret_file: secret.txt}
delivery: {max_attempts: 5, backoff: 1m, max_backoff: 2h}
"""


def test_digest_configuration(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("file-secret\n")
    path = tmp_path / "monitor.yaml"
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        config = parse_config(FULL, str(path), env={"MONITOR_SMTP_PASSWORD": "pw",
                                                    "HOOK": "hook-secret"})
    finally:
        os.chdir(cwd)
    assert config.smtp is not None and config.smtp.password == "pw"
    assert "pw" not in repr(config) and "hook-secret" not in repr(config)
    [daily] = config.digests
    assert (daily.timezone, daily.watchlists, daily.kinds, daily.send_empty) == (
        "Europe/Berlin", ("russia-asia-diplomacy",), ("actor", "treaty"), True)
    email, hook, folder = daily.channels
    assert email.to == ("analyst@example.org",)
    assert (hook.format, hook.secret) == ("slack", "hook-secret")
    assert folder.dir == str(tmp_path / "out")
    assert config.alerts.channels[0].secret == "file-secret"
    assert (config.delivery.max_attempts, config.delivery.backoff,
            config.delivery.max_backoff) == (5, 60, 7200)


def test_secret_from_a_docker_secret_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-file\n")
    text = "smtp: {host: h, password_env: MONITOR_SMTP_PASSWORD}\n"
    config = parse_config(text, "m.yaml", env={"MONITOR_SMTP_PASSWORD_FILE": str(tmp_path / "pw")})
    assert config.smtp is not None and config.smtp.password == "from-file"


def test_default_digest_writes_files_next_to_the_config() -> None:
    config = load_config(str(ROOT / "monitor.yaml"), env={})
    [daily] = config.digests
    assert daily.channels[0].kind == "file" and daily.channels[0].dir == str(ROOT / "outbox")
    assert parse_config("", "", env={}).digests[0].channels[0].kind == "file"
    assert parse_config("digests: []\n", "m.yaml", env={}).digests == ()


def test_digest_problems_name_the_line_and_field() -> None:
    text = """\
digests:
  - name: daily
    schedule: "every morning"
    timezone: Europe/Berlinn
    kinds: [actor, gossip]
    channels:
      - email: {to: [not-an-address]}
      - webhook: {url: "ftp://x", format: xml}
      - pigeon: {}
  - name: daily
    channels: []
alerts:
  channels:
    - webhook: {url: "https://h.example/a", secret_env: NOT_SET}
smtp: {host: h, security: tls}
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "m.yaml", env={})
    message = str(caught.value)
    for expected in (
        "m.yaml:3: entry 'digests[0]': field 'schedule': 'every morning' is not a cron expression",
        "m.yaml:4: entry 'digests[0]': field 'timezone': 'Europe/Berlinn' is not a time zone",
        "m.yaml:5: entry 'digests[0]': field 'kinds': 'gossip' is not a kind",
        "m.yaml:7: entry 'digests[0].channels[0].email': field 'to': 'not-an-address' is not an "
        "e-mail address",
        "entry 'digests[0].channels[1].webhook': field 'url': 'ftp://x' is not an http",
        "entry 'digests[0].channels[1].webhook': field 'format': 'xml' must be json or slack",
        "m.yaml:9: entry 'digests[0].channels[2]': field 'pigeon': unknown channel",
        "m.yaml:10: entry 'digests[1]': field 'name': another digest is called 'daily'",
        "m.yaml:14: entry 'alerts.channels[0].webhook': field 'secret_env': environment "
        "variable NOT_SET is not set",
        "entry 'smtp': field 'security': 'tls' must be starttls, ssl or none",
    ):
        assert expected in message, f"{expected!r} not in\n{message}"


def test_email_without_smtp_is_an_error() -> None:
    with pytest.raises(ConfigError, match="e-mail needs an smtp: section"):
        parse_config("digests:\n  - name: d\n    channels:\n      - email: {to: [a@b.org]}\n",
                     "m.yaml", env={})


def test_environment_overrides_and_docker_secrets(tmp_path: Path) -> None:
    (tmp_path / "db").write_text("postgresql+psycopg://monitor@db/monitor\n")
    (tmp_path / "pw").write_text("s3cret\n")
    text = "fetch: {timeout: 20s}\nsmtp: {host: mail.example.org}\n"
    config = parse_config(text, str(tmp_path / "m.yaml"), env={
        "MONITOR_DATABASE_URL_FILE": str(tmp_path / "db"),
        "MONITOR_FETCH_TIMEOUT": "5s", "MONITOR_FETCH_ALLOW_PRIVATE_ADDRESSES": "true",
        "MONITOR_SERVER_HOST": "0.0.0.0", "MONITOR_SERVER_PORT": "9090",
        "MONITOR_SMTP_PORT": "465", "MONITOR_SMTP_SECURITY": "ssl",
        "MONITOR_SMTP_PASSWORD_FILE": str(tmp_path / "pw"),
        "MONITOR_WEBHOOK_SECRET": "named by a file, not a setting",
    })
    assert config.database == "postgresql+psycopg://monitor@db/monitor"
    assert config.fetch.timeout == 5 and config.fetch.allow_private_addresses
    assert (config.server.host, config.server.port) == ("0.0.0.0", 9090)
    assert config.smtp is not None
    assert (config.smtp.host, config.smtp.port, config.smtp.security) == (
        "mail.example.org", 465, "ssl")
    assert config.smtp.password == "s3cret"


def test_misspelt_environment_settings_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"\$MONITOR_FETCH_TIMOUT: not a setting"):
        parse_config("", "m.yaml", env={"MONITOR_FETCH_TIMOUT": "5s"})
    with pytest.raises(ConfigError, match="'soon' is not a duration"):
        parse_config("", "m.yaml", env={"MONITOR_FETCH_TIMEOUT": "soon"})


KEYS = ["database", "watchlists", "fetch", "feeds", "url", "interval", "timeout", "max_bytes",
        "smtp", "host", "port", "digests", "name", "schedule", "timezone", "channels",
        "webhook", "email", "to", "file", "dir", "alerts", "delivery", "server", "x"]


@settings(max_examples=examples(200), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300) | st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**12) | st.floats(allow_nan=True)
    | st.text(max_size=12) | st.sampled_from(["15m", "10MB", "0 7 * * *", "http://x/", "-1s"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(KEYS), children, max_size=4),
    max_leaves=25).map(lambda data: yaml.safe_dump(data, allow_unicode=True)))
def test_any_yaml_gives_a_config_or_a_config_error(tmp_path_factory: pytest.TempPathFactory,
                                                   text: str) -> None:
    path = tmp_path_factory.mktemp("cfg") / "monitor.yaml"
    try:
        parse_config(text, str(path), env={})
    except ConfigError as exc:
        assert str(exc).startswith(str(path)) or str(path) in str(exc)


def test_a_list_as_a_key_names_the_file_and_line() -> None:
    with pytest.raises(ConfigError, match=r"monitor.yaml:2: .*a key must be a name"):
        parse_config("fetch:\n  [timeout]: 1s\n", "monitor.yaml", env={})


@pytest.mark.parametrize("schedule", ["0 7 30 2 *", "0 7 31 4 *", "0 7 31 6,9,11 *"])
def test_a_schedule_that_never_fires_is_refused_with_its_line(schedule: str) -> None:
    text = f'digests:\n  - name: daily\n    schedule: "{schedule}"\n' \
           "    channels: [{file: {dir: out}}]\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "m.yaml", env={})
    assert (f"m.yaml:3: entry 'digests[0]': field 'schedule': '{schedule}' never fires"
            in str(caught.value))


def test_a_rare_schedule_is_accepted() -> None:
    text = 'digests:\n  - name: leap\n    schedule: "0 7 29 2 *"\n' \
           "    channels: [{file: {dir: out}}]\n"
    assert parse_config(text, "m.yaml", env={}).digests[0].schedule == "0 7 29 2 *"
