"""Delivery transports against real servers on loopback: SMTP (aiosmtpd with STARTTLS or
implicit TLS and AUTH, a test CA from trustme), a webhook receiver that verifies
signatures, and the file channel."""

from __future__ import annotations

import email
import json
import time
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest

from monitor.channels import DeliveryError, Outgoing, Sender, SmtpConfig, WebhookChannel
from monitor.channels import channel as make_channel
from monitor.channels.email import send_email
from monitor.channels.file import write_files
from monitor.channels.webhook import post_webhook, shown_url, sign, verify
from monitor.netguard import Policy
from monitor.render import Rendered, email_message
from tests.support import SMTP_PASSWORD, SMTP_USER, Mailbox, Receiver, free_port

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
SECRET = "webhook-secret"


def local_hook(url: str, **settings: object) -> WebhookChannel:
    """A webhook on loopback, which a channel has to allow explicitly."""
    return WebhookChannel(url=url, allow_private_addresses=True,
                         **settings)  # type: ignore[arg-type]


def outgoing(subject: str = "monitor daily — 1 story: Vladimir Putin (1)") -> Outgoing:
    rendered = Rendered(subject, "<abc123.digest@example.org>", {
        "text": "plain text body\n", "html": "<p>html body</p>",
        "json": json.dumps({"schema": "monitor.digest/1", "story_count": 1}),
        "slack": "*slack* text"})
    message = email_message(rendered, "monitor <monitor@example.org>", ("a@example.org",),
                            NOW, "daily")
    return Outgoing("daily", "digest", "abc123", NOW, message, rendered.bodies)


def smtp_config(box: Mailbox, **changes: object) -> SmtpConfig:
    base = {"host": "127.0.0.1", "port": box.port, "security": "starttls",
            "username": SMTP_USER, "password": SMTP_PASSWORD,
            "sender": "monitor <monitor@example.org>", "timeout": 5.0, "ca_file": box.ca_file}
    base.update(changes)
    return SmtpConfig(**base)  # type: ignore[arg-type]


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def test_email_over_starttls_with_auth_arrives_whole(smtp_server: Mailbox) -> None:
    out = outgoing()
    send_email(smtp_config(smtp_server), ("a@example.org", "b@example.org"), out.message)
    [(sender, recipients, raw)] = smtp_server.messages
    assert sender == "monitor@example.org"
    assert recipients == ["a@example.org", "b@example.org"]
    message = parsed(raw)
    assert message["Subject"] == "monitor daily — 1 story: Vladimir Putin (1)"
    assert message["Message-ID"] == "<abc123.digest@example.org>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content().replace("\r\n", "\n") == "plain text body\n"
    assert "<p>html body</p>" in html.get_content()
    assert smtp_server.logins == [SMTP_USER]


def test_email_over_implicit_tls(smtps_server: Mailbox) -> None:
    send_email(smtp_config(smtps_server, security="ssl"), ("a@example.org",),
               outgoing().message)
    assert len(smtps_server.messages) == 1


def test_wrong_password_is_a_retryable_error_that_names_no_secret(smtp_server: Mailbox
                                                                  ) -> None:
    with pytest.raises(DeliveryError) as caught:
        send_email(smtp_config(smtp_server, password="wrong-pass"), ("a@example.org",),
                   outgoing().message)
    assert "login refused" in str(caught.value) and "wrong-pass" not in str(caught.value)
    assert caught.value.retryable and not smtp_server.messages


def test_untrusted_certificate_is_refused(smtp_server: Mailbox) -> None:
    with pytest.raises(DeliveryError, match=r"TLS|certificate"):
        send_email(smtp_config(smtp_server, ca_file=None), ("a@example.org",),
                   outgoing().message)
    assert not smtp_server.messages


def test_temporary_and_permanent_smtp_replies(smtp_server: Mailbox) -> None:
    smtp_server.refuse = ["451 4.3.0 try again later", "554 5.7.1 rejected"]
    config = smtp_config(smtp_server)
    with pytest.raises(DeliveryError) as first:
        send_email(config, ("a@example.org",), outgoing().message)
    assert first.value.retryable and "451" in str(first.value)
    with pytest.raises(DeliveryError) as second:
        send_email(config, ("a@example.org",), outgoing().message)
    assert not second.value.retryable and "554" in str(second.value)


def test_server_down_is_retryable() -> None:
    box = Mailbox(free_port(), "")
    with pytest.raises(DeliveryError) as caught:
        send_email(smtp_config(box, ca_file=None, timeout=2.0), ("a@example.org",),
                   outgoing().message)
    assert caught.value.retryable


@pytest.mark.parametrize("greeting", [b"", b"220 smtp.example.org ESMTP ready, slowly" * 50])
def test_a_silent_or_trickling_smtp_server_meets_one_deadline(greeting: bytes) -> None:
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:  # greets a byte every 50 ms (each read is in time), or never
        conn, _ = listener.accept()
        with conn:
            for byte in greeting:
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.05)
            time.sleep(5)

    threading.Thread(target=serve, daemon=True).start()
    box = Mailbox(listener.getsockname()[1], "")
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="timed out") as caught:
        send_email(smtp_config(box, ca_file=None, timeout=0.5), ("a@example.org",),
                   outgoing().message)
    assert caught.value.retryable and time.monotonic() - started < 3
    listener.close()


def test_hostile_subject_cannot_inject_headers() -> None:
    from monitor.digest import clean_header

    subject = clean_header("Putin\r\nBcc: victim@example.org\nX-Evil: 1")
    message = email_message(Rendered(subject, "<k.digest@x>", {"text": "t", "html": "<p>h</p>"}),
                            "monitor <m@example.org>", ("a@example.org",), NOW, "daily")
    raw = message.as_bytes()
    assert b"\nBcc:" not in raw and b"\nX-Evil" not in raw
    assert parsed(raw)["Bcc"] is None


def test_webhook_is_signed_and_carries_the_idempotency_key(receiver: Receiver) -> None:
    channel = local_hook(receiver.url(), secret=SECRET)
    post_webhook(channel, outgoing(), NOW)
    [got] = receiver.received
    assert got.headers["idempotency-key"] == "abc123"
    assert got.headers["content-type"] == "application/json"
    assert json.loads(got.body)["schema"] == "monitor.digest/1"
    assert verify(SECRET, got.headers["x-monitor-signature"], got.body, NOW.timestamp())
    assert not verify("other", got.headers["x-monitor-signature"], got.body, NOW.timestamp())
    assert not verify(SECRET, got.headers["x-monitor-signature"], got.body + b" ",
                      NOW.timestamp())
    assert not verify(SECRET, got.headers["x-monitor-signature"], got.body,
                      NOW.timestamp() + 3600), "an old signature is replayable"


def test_signature_format() -> None:
    header = sign("k", 1700000000, b'{"a":1}')
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64


def test_slack_format_posts_mrkdwn_text(receiver: Receiver) -> None:
    post_webhook(local_hook(receiver.url(), format="slack"), outgoing(), NOW)
    assert json.loads(receiver.received[0].body) == {"text": "*slack* text"}
    assert "x-monitor-signature" not in receiver.received[0].headers  # no secret, no signature


def test_webhook_errors_say_whether_to_retry(receiver: Receiver) -> None:
    receiver.replies = [503, 400]
    channel = local_hook(receiver.url())
    with pytest.raises(DeliveryError) as first:
        post_webhook(channel, outgoing(), NOW)
    assert first.value.retryable and "HTTP 503" in str(first.value)
    with pytest.raises(DeliveryError) as second:
        post_webhook(channel, outgoing(), NOW)
    assert not second.value.retryable and "HTTP 400" in str(second.value)


def test_webhook_that_never_answers_times_out() -> None:
    import socket

    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
        started = time.monotonic()
        with pytest.raises(DeliveryError, match="timed out") as caught:
            post_webhook(local_hook(url), outgoing(), NOW, timeout=0.5)
        assert caught.value.retryable and time.monotonic() - started < 5


def test_webhooks_to_private_addresses_are_refused_unless_allowed(receiver: Receiver) -> None:
    channel = make_channel("webhook", url=receiver.url("/services/T0/B0/token123"))
    with pytest.raises(DeliveryError) as refused:
        post_webhook(channel, outgoing(), NOW)
    assert not refused.value.retryable  # a setting to change, not a server to wait for
    assert "private or local address (set allow_private_addresses on this webhook" in str(
        refused.value)
    assert "token123" not in str(refused.value) and receiver.received == []
    post_webhook(replace(channel, allow_private_addresses=True), outgoing(), NOW)
    assert len(receiver.received) == 1


def test_a_webhook_connects_to_the_address_it_checked(receiver: Receiver) -> None:
    asked: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:  # public first, then private
        asked.append(host)
        return ["127.0.0.1"] if len(asked) == 1 else ["169.254.169.254"]

    policy = Policy(False, "x", resolver=rebinding,
                    public=lambda address: address == "127.0.0.1")
    channel = make_channel("webhook", url=f"http://hooks.rebind.test:{receiver.port}/h")
    post_webhook(channel, outgoing(), NOW, policy=policy)
    assert asked == ["hooks.rebind.test"] and len(receiver.received) == 1


def test_webhook_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.replies = [307]
    receiver.headers = {"Location": "http://169.254.169.254/latest/meta-data"}
    with pytest.raises(DeliveryError) as caught:
        post_webhook(local_hook(receiver.url()), outgoing(), NOW)
    assert "HTTP 307 redirects to http://169.254.169.254/…" in str(caught.value)
    assert not caught.value.retryable and len(receiver.received) == 1


def test_a_webhook_answer_that_trickles_meets_one_deadline(receiver: Receiver) -> None:
    receiver.trickle = 0.05
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=r"timed out after 0\.5s") as caught:
        post_webhook(local_hook(receiver.url()), outgoing(), NOW, timeout=0.5)
    assert caught.value.retryable and time.monotonic() - started < 3


def test_webhook_urls_are_shown_without_their_token() -> None:
    url = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
    other = "https://hooks.slack.com/services/T000/B000/YYYYsecretYYYY"
    for shown in (shown_url(url), make_channel("webhook", url=url).ident):
        assert "secret" not in shown and "hooks.slack.com/…#" in shown
    assert shown_url(url) != shown_url(other)
    assert shown_url("https://hooks.example.org") == "https://hooks.example.org"


def test_file_channel_writes_eml_and_json_once_per_run(tmp_path: Path) -> None:
    out = outgoing()
    first = write_files(str(tmp_path / "outbox"), out)
    again = write_files(str(tmp_path / "outbox"), out)
    assert first == again and sorted(p.suffix for p in first) == [".eml", ".json"]
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == sorted(
        p.name for p in first)
    assert parsed(first[0].read_bytes())["Message-ID"] == "<abc123.digest@example.org>"


def test_sender_addresses_email_to_the_channel(smtp_server: Mailbox) -> None:
    sender = Sender(smtp_config(smtp_server))
    sender.send(make_channel("email", to=("x@example.org",)), outgoing(), NOW)
    [(_, recipients, raw)] = smtp_server.messages
    assert recipients == ["x@example.org"] and parsed(raw)["To"] == "x@example.org"
