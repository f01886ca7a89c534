"""Slack's incoming webhooks: the run as mrkdwn (``{"text": ...}``), no signature.  The
hook's URL holds its token, so it may come from the environment or a file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from monitor.channels.base import Setup, read_secret
from monitor.channels.webhook import WebhookChannel, check_http_url, shown_url


@dataclass(frozen=True, slots=True)
class SlackChannel(WebhookChannel):
    """``slack: {url | url_env | url_file, allow_private_addresses}``."""

    kind: ClassVar[str] = "slack"
    settings: ClassVar[tuple[str, ...]] = ("url", "url_env", "url_file",
                                           "allow_private_addresses")
    example: ClassVar[str] = "{slack: {url_env: ...}}"
    formats: ClassVar[tuple[str, ...]] = ("slack",)
    format: str = "slack"

    @classmethod
    def from_settings(cls, spec: dict[str, Any], where: str, setup: Setup) -> SlackChannel:
        reader = setup.reader
        secret = read_secret(reader, spec, "url", where, setup.env, setup.base)
        if secret is None:
            url = check_http_url(reader, spec, where)
        elif "url" in spec:
            reader.add(spec, "url", "give url or url_env / url_file, not both", where)
            url = ""
        else:
            url = secret.strip()
            if not url.lower().startswith(("https://", "http://")):  # never echoed: a secret
                key = "url_env" if "url_env" in spec else "url_file"
                reader.add(spec, key, "must hold an http:// or https:// URL", where)
        return cls(url=url, allow_private_addresses=reader.boolean(
            spec, "allow_private_addresses", False, where))

    @property
    def ident(self) -> str:
        return f"slack:{shown_url(self.url)}"
