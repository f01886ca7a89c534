"""A Digest as its readers get it (pure): HTML and plain text from Jinja2 templates (users may
override them with their own folder), the webhook's versioned JSON body, Slack mrkdwn, and
the e-mail message.  Each is a format (FORMATS); a run renders those its channels send (and
text and HTML, which the web shows), once, stored per (run, format), so a resend is
byte-identical."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    select_autoescape,
)

from monitor.digest import Digest, StoryView
from monitor.errors import UsageError

SCHEMA = "monitor.digest/1"
STORIES_PER_ENTRY = 50  # in the HTML and text; the JSON has every story
FORMATS = ("text", "html", "json", "slack")


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    message_id: str
    bodies: Mapping[str, str]  # by format: text, html, json, slack, ...

    @property
    def text(self) -> str:
        return self.bodies.get("text", "")

    @property
    def html(self) -> str:
        return self.bodies.get("html", "")

    @property
    def payload(self) -> str:
        """The webhook's JSON body."""
        return self.bodies.get("json", "")

    @property
    def slack(self) -> str:
        """Slack's mrkdwn."""
        return self.bodies.get("slack", "")


class Renderer:
    """Renders digests with the built-in templates, or those of ``templates`` where it has
    a file of the same name (digest.html, digest.txt)."""

    def __init__(self, templates: str | None = None, limit: int = STORIES_PER_ENTRY) -> None:
        loaders: list[Any] = [FileSystemLoader(templates)] if templates else []
        loaders.append(PackageLoader("monitor", "templates"))
        self.env = Environment(loader=ChoiceLoader(loaders), undefined=StrictUndefined,
                               autoescape=select_autoescape(["html"], default=False),
                               keep_trailing_newline=True)
        self.limit = limit

    def render(self, digest: Digest, domain: str = "monitor.invalid",
               formats: Iterable[str] = FORMATS) -> Rendered:
        """The digest in ``formats`` (text and HTML always: the e-mail and the web)."""
        wanted = dict.fromkeys(("text", "html", *formats))
        return Rendered(digest.subject, digest.message_id(domain),
                        {fmt: self.format(fmt, digest) for fmt in wanted})

    def format(self, fmt: str, digest: Digest) -> str:
        """One format's body; an unknown format is a bug (a channel names its formats)."""
        return _FORMATTERS[fmt](self, digest)

    def text(self, digest: Digest) -> str:
        return self._render("digest.txt", {"digest": digest, "limit": self.limit})

    def html(self, digest: Digest) -> str:
        return self._render("digest.html", {"digest": digest, "limit": self.limit})

    def _render(self, name: str, context: dict[str, Any]) -> str:
        """One template, rendered; a broken template is a TemplateProblem naming its file
        and line (a syntax error, or a variable the template uses that does not exist)."""
        try:
            return self.env.get_template(name).render(context)
        except TemplateError as exc:
            raise TemplateProblem(_where(exc, name) + f": {exc.message or exc}") from exc


class TemplateProblem(UsageError):
    """A digest template cannot be rendered (templates: in the config)."""


def _where(exc: TemplateError, name: str) -> str:
    """``file:line`` of a template error: Jinja puts the template's own lines into the
    traceback of an error raised while rendering (an undefined variable)."""
    if isinstance(exc, TemplateSyntaxError):
        return f"{exc.filename or exc.name or name}:{exc.lineno}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.endswith(".py") and not f.filename.startswith("<")]
    if frames:
        return f"{frames[-1].filename}:{frames[-1].lineno}"
    return f"template {name}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _story_json(story: StoryView) -> dict[str, Any]:
    return {
        "story_id": story.story_id, "title": story.title, "url": story.url,
        "published": _iso(story.published), "outlets": list(story.outlets),
        "sources": [{"outlet": s.outlet, "url": s.url, "published": _iso(s.published)}
                    for s in story.sources],
        "snippet": story.snippet, "highlights": [list(h) for h in story.highlights],
        "why": [{"watchlist": w.watchlist, "entry": w.entry, "name": w.name,
                 "matched": w.matched, "alias": w.alias, "score": w.score} for w in story.why],
        "hit_ids": list(story.hit_ids),
    }


def payload(digest: Digest) -> dict[str, Any]:
    """The webhook body, schema ``monitor.digest/1`` (README "Webhooks")."""
    return {
        "schema": SCHEMA, "kind": digest.kind, "digest": digest.name,
        "id": digest.idempotency_key, "subject": digest.subject,
        "window": {"start": _iso(digest.window_start), "end": _iso(digest.window_end),
                   "timezone": digest.timezone},
        "story_count": len(digest.stories), "hit_count": len(digest.hit_ids),
        "watchlists": [{"name": w.name, "entries": [
            {"id": e.entry, "name": e.name, "kind": e.kind,
             "stories": [_story_json(s) for s in e.stories]} for e in w.entries]}
            for w in digest.watchlists],
        "health": [{"feed": n.feed, "url": n.url, "problem": n.problem} for n in digest.health],
    }


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_URL = str.maketrans({"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20"})


def slack_link(url: str, text: str) -> str:
    """``<url|text>`` in Slack's link syntax: in the URL, ``|`` (which ends it there), ``<``,
    ``>`` and spaces are percent-encoded and ``&`` becomes ``&amp;``; the text is escaped and
    keeps no ``|``."""
    return f"<{slack_escape(url.translate(_SLACK_URL))}|{slack_escape(text).replace('|', '¦')}>"


def slack_text(digest: Digest, limit: int = STORIES_PER_ENTRY) -> str:
    lines = [f"*{slack_escape(digest.subject)}*"]
    for watchlist in digest.watchlists:
        for entry in watchlist.entries:
            lines.append(f"\n*{slack_escape(entry.name)}* ({len(entry.stories)})")
            for story in entry.stories[:limit]:
                link = (slack_link(story.url, story.title) if story.url
                        else slack_escape(story.title))
                outlets = slack_escape(", ".join(story.outlets))
                lines.append(f"• {link} — {outlets}" if outlets else f"• {link}")
                if story.snippet:
                    marked = "".join(f"*{slack_escape(t)}*" if m else slack_escape(t)
                                     for t, m in story.segments())
                    lines.append(f">{marked}")
            if len(entry.stories) > limit:
                lines.append(f"… and {len(entry.stories) - limit} more")
    if not digest.stories:
        lines.append("No new stories matched your watchlists in this window.")
    for note in digest.health:
        lines.append(f"_{slack_escape(note.feed)}: {slack_escape(note.problem)}_")
    return "\n".join(lines)


_FORMATTERS: dict[str, Callable[[Renderer, Digest], str]] = {
    "text": Renderer.text,
    "html": Renderer.html,
    "json": lambda _renderer, digest: json.dumps(payload(digest), ensure_ascii=False),
    "slack": lambda renderer, digest: slack_text(digest, renderer.limit),
}


def email_message(rendered: Rendered, sender: str, to: tuple[str, ...], created: datetime,
                  name: str) -> EmailMessage:
    """The e-mail: plain text with an HTML alternative.  The subject was cleaned of line
    breaks (no header injection) and the policy refuses any that remain."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(created)
    message["Message-ID"] = rendered.message_id
    message["X-Monitor-Digest"] = name
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message
