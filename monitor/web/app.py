"""The web application: routes, middleware in order, templates, error pages.

Middleware, outermost first: security headers; a trusted proxy's X-Forwarded-For/-Proto
(only for ``web.trusted_proxies``); the signed session; the guard (auth.py).  Pages are
rendered by Jinja2 with autoescaping on and every untrusted string stripped of control and
bidi characters (``finalize``), so a feed title with <script> is shown as text.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from monitor.config.web import WebConfig
from monitor.ingest import utc_now
from monitor.web import api, pages
from monitor.web.auth import Guard, LoginLimiter, Mode, access_mode, machine_path
from monitor.web.data import Data
from monitor.web.security import SecurityHeaders, Sessions, csrf_token

log = logging.getLogger("monitor")
MAX_BODY = 64 * 1024  # bytes of a request body: the forms here are small


@dataclass
class WebState:
    """What the handlers share (``request.app.state.web``)."""

    data: Data
    config: WebConfig
    mode: Mode
    templates: Jinja2Templates
    limiter: LoginLimiter
    clock: Callable[[], datetime]
    openapi: dict[str, Any] = field(default_factory=api.openapi)


# C0/C1 controls (but tab and line breaks: a digest's text keeps its lines), DEL, and the
# bidi embeddings, overrides and isolates, which could make a line seem to say another thing.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _finalize(value: Any) -> Any:
    """Every value a template prints: text from outside loses controls and bidi overrides
    (then autoescaping escapes it); None prints as nothing."""
    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _UNSAFE.sub("", value)
    return value


def _when(value: Any) -> Markup:
    """An ISO UTC time as <time>: UTC on the server, the viewer's zone after app.js."""
    if not value:
        return Markup("<span class=\"never\">never</span>")
    moment = datetime.fromisoformat(str(value))
    return Markup('<time datetime="{}">{} UTC</time>').format(
        moment.isoformat().replace("+00:00", "Z"), moment.strftime("%Y-%m-%d %H:%M"))


def _http(url: Any) -> str | None:
    """A URL fit for an href: http(s) only (never javascript: or data:)."""
    return url if isinstance(url, str) and url.lower().startswith(("http://", "https://")) \
        else None


def _marked(text: Any, marks: Any) -> Markup:
    """``text`` escaped, its ``marks`` ([start, end, ...] spans, as search and hits keep
    them) in <mark>: the highlighted snippet.  Overlapping or bad spans are skipped."""
    text = _UNSAFE.sub("", str(text or ""))
    out, at = [], 0
    for mark in sorted(marks or [], key=lambda m: (m[0], m[1])):
        start, end = int(mark[0]), int(mark[1])
        if start < at or end <= start or end > len(text):
            continue
        out += [Markup.escape(text[at:start]),
                Markup("<mark>{}</mark>").format(text[start:end])]
        at = end
    out.append(Markup.escape(text[at:]))
    return Markup("").join(out)


def templates() -> Jinja2Templates:
    env = Environment(loader=PackageLoader("monitor.web", "templates"), autoescape=True,
                      finalize=_finalize, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(when=_when, http=_http, marked=_marked)
    return Jinja2Templates(env=env)


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status: int = 200, headers: dict[str, str] | None = None) -> Response:
    state: WebState = request.app.state.web
    base = {"csrf": csrf_token(request), "user": request.scope.get("monitor.user"),
            "mode": state.mode, "flash": request.session.pop("flash", None),
            "q": request.query_params.get("q", "") if request.url.path == "/search" else "",
            "path": request.url.path}
    return state.templates.TemplateResponse(request, name, {**base, **(context or {})},
                                            status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if machine_path(request.url.path):
        return JSONResponse({"error": exc.detail}, exc.status_code)
    return render(request, "error.html", {"status": exc.status_code, "detail": exc.detail},
                  exc.status_code)


def create_app(data: Data, web: WebConfig, host: str, *,
               health: Sequence[BaseRoute] = (), clock: Callable[[], datetime] = utc_now,
               limiter: LoginLimiter | None = None) -> Starlette:
    """The interface over ``data``, served on ``host`` (which decides the access mode);
    ``health``: the /healthz and /metrics routes, outside the guard."""
    mode = access_mode(web, host)
    secret = web.secret
    if secret is None:
        secret = secrets.token_urlsafe(32)
        if mode == "login":
            log.info("web: no web.secret_env/secret_file: sessions last until a restart")
    static = StaticFiles(directory=str(files("monitor.web").joinpath("static")))
    middleware = [Middleware(SecurityHeaders)]
    if web.trusted_proxies:
        middleware.append(Middleware(ProxyHeadersMiddleware,
                                     trusted_hosts=list(web.trusted_proxies)))
    middleware += [Middleware(Sessions, secret=secret),
                   Middleware(Guard, web=web, mode=mode, locked=pages.locked)]
    app = Starlette(routes=[*health, *api.routes(), *pages.routes(),
                            Mount("/static", static, name="static")],
                    middleware=middleware, exception_handlers={HTTPException: _http_error},
                    max_body_size=MAX_BODY)
    app.state.web = WebState(data, web, mode, templates(), limiter or LoginLimiter(), clock)
    return app
