"""The apprise channel end to end: Apprise's json:// scheme posting to a real receiver on
127.0.0.1, through the same queue, retries, idempotency, history and address guard as the
other channels; its URLs never shown; its settings' problems with file and line."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.channels import AppriseChannel, Channel
from monitor.channels.apprise import scrub, shown_url, split_urls
from monitor.cli.digests import history
from monitor.config import ConfigError, parse_config
from monitor.deliver import deliver, ensure_schedules, run_digests
from monitor.render import Renderer
from monitor.store import Store
from tests.support import Receiver
from tests.test_outbox import add_story, config_with, daily

START = datetime(2026, 11, 20, 9, tzinfo=UTC)
NOW = datetime(2026, 11, 21, 7, tzinfo=UTC)


def configured(text: str, env: dict[str, str] | None = None) -> Channel:
    """The channel the config text gives (the whole config reader, as `monitor` runs it)."""
    config = parse_config(f"digests:\n  - name: daily\n    channels:\n      - {text}\n",
                          "m.yaml", env=env or {})
    [channel] = config.digests[0].channels
    return channel


def made(store: Store, channel: Channel) -> None:
    config = config_with(store, daily(channel))
    ensure_schedules(store, config, START)
    add_story(store, 1, START + timedelta(hours=3))
    [run] = run_digests(store, config, Renderer(), NOW)
    assert run.deliveries == 1


def test_a_digest_goes_out_through_apprise_json(store: Store, receiver: Receiver) -> None:
    url = f"json://127.0.0.1:{receiver.port}/hook"
    channel = configured(f'apprise: {{urls: ["{url}"], allow_private_addresses: true}}')
    assert isinstance(channel, AppriseChannel) and channel.urls == (url,)
    made(store, channel)
    report = deliver(store, config_with(store, daily(channel)), NOW)
    assert (report.sent, report.failed, report.retrying) == (1, 0, 0)
    [got] = receiver.received
    assert got.path == "/hook"
    body = json.loads(got.body)
    assert body["title"].startswith("monitor daily — ") and body["title"].endswith(": 1 event")
    assert "Story 1" in body["message"]  # the digest's plain text
    [run] = history(store)
    assert run["status"] == "sent"
    assert run["deliveries"][0]["channel"] == f"apprise:{shown_url(url)}"
    assert str(receiver.port) not in json.dumps(run)  # the URL is never shown
    assert deliver(store, config_with(store, daily(channel)), NOW + timedelta(hours=1)).sent == 0


def test_a_failed_notification_is_retried_and_delivered_once(
        store: Store, receiver: Receiver) -> None:
    receiver.replies = [500]
    token = "s3cr3t-t0ken-value"
    url = f"json://monitor:{token}@127.0.0.1:{receiver.port}/{token}"
    channel = configured("apprise: {urls_env: MONITOR_APPRISE_URLS, "
                         "allow_private_addresses: true}", {"MONITOR_APPRISE_URLS": url})
    made(store, channel)
    config = config_with(store, daily(channel))
    first = deliver(store, config, NOW)
    assert (first.sent, first.retrying) == (0, 1)
    assert len(receiver.received) == 1
    assert deliver(store, config, NOW + timedelta(seconds=30)).sent == 0  # backing off
    second = deliver(store, config, NOW + timedelta(minutes=2))
    assert (second.sent, second.retrying, second.failed) == (1, 0, 0)
    assert len(receiver.received) == 2  # 500, then 200: delivered once
    assert deliver(store, config, NOW + timedelta(hours=2)).sent == 0
    [run] = history(store)
    [delivery] = run["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("sent", 2)
    shown = json.dumps(run) + " ".join(first.errors) + repr(channel) + channel.ident
    assert token not in shown and str(receiver.port) not in shown
    assert "apprise json://…#" in first.errors[0]


def test_the_address_guard_refuses_a_private_address_without_the_flag(
        store: Store, receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    channel = configured(f'apprise: {{urls: ["json://127.0.0.1:{receiver.port}/x"]}}')
    made(store, channel)
    with caplog.at_level(logging.DEBUG):
        report = deliver(store, config_with(store, daily(channel)), NOW)
    assert (report.sent, report.failed, report.retrying) == (0, 1, 0)  # not retried
    assert receiver.received == []
    assert "allow_private_addresses on this apprise channel" in report.errors[0]
    assert "127.0.0.1 resolves to 127.0.0.1, a private or local address" in report.errors[0]
    # Apprise's own records (they name URLs) stay out of monitor's logs
    assert not logging.getLogger("apprise").propagate
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("monitor"))
    assert f":{receiver.port}/x" not in ours + " ".join(report.errors)
    assert history(store)[0]["status"] == "failed"


def test_apprise_settings_problems_name_the_line_and_field() -> None:
    text = """\
digests:
  - name: daily
    channels:
      - apprise: {urls: ["nope://tok3n-abc"]}
      - apprise: {urls_env: NOT_SET}
      - apprise: {}
      - apprise: {urls: ["json://h.example/"], urls_env: X, allow_private_addresses: 1}
      - aprise: {urls: ["json://h.example/"]}
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "m.yaml", env={"X": "json://other.example/"})
    message = str(caught.value)
    for expected in (
        "m.yaml:4: entry 'digests[0].channels[0].apprise': field 'urls': nope://…#",
        "Apprise does not know this URL",
        "m.yaml:5: entry 'digests[0].channels[1].apprise': field 'urls_env': environment "
        "variable NOT_SET is not set",
        "m.yaml:6: entry 'digests[0].channels[2].apprise': needs Apprise URLs",
        "m.yaml:7: entry 'digests[0].channels[3].apprise': field 'urls': give urls, urls_env "
        "or urls_file, not several",
        "m.yaml:7: entry 'digests[0].channels[3].apprise': field 'allow_private_addresses': "
        "1 must be true or false",
        "m.yaml:8: entry 'digests[0].channels[4]': field 'aprise': unknown channel (did you "
        "mean 'apprise'?)",
    ):
        assert expected in message, f"{expected!r} not in\n{message}"
    assert "tok3n" not in message


def test_urls_come_from_a_file_and_are_masked(tmp_path: Path) -> None:
    (tmp_path / "apprise.txt").write_text("# the desk's chats\ntgram://123456:AAbot-token/"
                                          "-100200 ntfy://ntfy.example/topic\n")
    config = parse_config("digests:\n  - name: daily\n    channels:\n"
                          "      - apprise: {urls_file: apprise.txt}\n",
                          str(tmp_path / "monitor.yaml"), env={})
    [channel] = config.digests[0].channels
    assert isinstance(channel, AppriseChannel) and len(channel.urls) == 2
    assert "AAbot-token" not in repr(config) and "AAbot-token" not in channel.ident
    assert channel.ident.startswith("apprise:tgram://…#") and ",ntfy://…#" in channel.ident
    assert split_urls("a://x, b://y;c://z") == ["a://x", "b://y", "c://z"]
    assert scrub("failed for tgram://123456:AAbot-token/-100200 (123456:AAbot-token)",
                 channel.urls).count("AAbot-token") == 0


def test_the_readme_channel_example_plugs_in_with_one_registry_line(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README "Adding a channel": its module, registered, is configured, validated and
    delivered to like the built-in channels."""
    import re
    import sys
    import types

    from monitor.channels import REGISTRY

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.search(r"<!-- channel -->\n```python\n(.*?)```", readme, re.S)
    assert code is not None
    module = types.ModuleType("readme_jsonl")
    monkeypatch.setitem(sys.modules, "readme_jsonl", module)
    exec(compile(code[1], "README.md channel", "exec"), module.__dict__)
    monkeypatch.setitem(REGISTRY, "jsonl", module.JsonlChannel)
    with pytest.raises(ConfigError) as caught:
        parse_config("digests:\n  - name: daily\n    channels:\n      - jsonl: {}\n"
                     "      - jsnol: {path: x}\n", "m.yaml", env={})
    assert "m.yaml:4: entry 'digests[0].channels[0].jsonl': needs a file" in str(caught.value)
    assert "field 'jsnol': unknown channel (did you mean 'jsonl'?)" in str(caught.value)
    config = parse_config("digests:\n  - name: daily\n    channels:\n"
                          "      - jsonl: {path: runs.jsonl}\n",
                          str(tmp_path / "monitor.yaml"), env={})
    [channel] = config.digests[0].channels
    made(store, channel)
    assert deliver(store, config_with(store, daily(channel)), NOW).sent == 1
    [line] = (tmp_path / "runs.jsonl").read_text().splitlines()
    assert json.loads(line)["digest"]["story_count"] == 1
    assert history(store)[0]["deliveries"][0]["channel"] == f"jsonl:{tmp_path}/runs.jsonl"
