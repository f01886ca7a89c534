"""What every response and form gets: security headers, a signed session cookie, CSRF tokens,
redirects that stay on this site, and whether an address is this machine's alone.

Session: a cookie signed with ``web.secret`` (itsdangerous, with a timestamp: 12 hours),
HttpOnly, SameSite=Lax, Secure when the request came over TLS (as uvicorn or a trusted
proxy's X-Forwarded-Proto says).  It holds the CSRF token, and the user once logged in.
CSRF: every form carries the session's token; every POST is checked against it.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "monitor_session"
SESSION_AGE = 12 * 3600
CSRF_FIELD = "csrf"
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
# A stored digest, shown as it was sent, in a sandboxed frame of our own page: its inline
# styles and data: images, nothing else (no script, no request anywhere).
FRAMED_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
_HEADERS = {
    "content-security-policy": PAGE_CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """Adds the headers above to every response that does not set its own (the digest
    frame sets its CSP and X-Frame-Options); nothing but static files is cached.  Each
    response says the server's time for it (Server-Timing)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope["path"]).startswith("/static/")
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # the time from the request to the response's start (bench/web.py reads it)
                took = (time.perf_counter() - started) * 1000
                headers["server-timing"] = f"app;dur={took:.1f}"
                for name, value in _HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "cache-control" not in headers:
                    headers["cache-control"] = "max-age=3600" if static else "no-store"
            await send(message)

        await self.app(scope, receive, sending)


class Sessions:
    """The signed session cookie: ``scope["session"]`` (a dict) for the app, written back
    when it changed; an emptied session deletes the cookie."""

    def __init__(self, app: ASGIApp, secret: str, max_age: int = SESSION_AGE) -> None:
        self.app = app
        self.max_age = max_age
        self.signer = URLSafeTimedSerializer(secret, salt="monitor.web.session")

    def load(self, cookie: str | None) -> dict[str, Any]:
        if not cookie:
            return {}
        try:
            data = self.signer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # forged, or older than max_age
            return {}
        return data if isinstance(data, dict) else {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = self.load(Request(scope).cookies.get(COOKIE))
        scope["session"] = session
        before = json.dumps(session, sort_keys=True)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                now = scope["session"]
                if json.dumps(now, sort_keys=True) != before:
                    MutableHeaders(scope=message).append("set-cookie", self.cookie(now, scope))
            await send(message)

        await self.app(scope, receive, sending)

    def cookie(self, session: dict[str, Any], scope: Scope) -> str:
        jar: SimpleCookie = SimpleCookie()
        jar[COOKIE] = self.signer.dumps(session) if session else ""
        morsel = jar[COOKIE]
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "Lax"
        morsel["max-age"] = self.max_age if session else 0
        if scope.get("scheme") == "https":
            morsel["secure"] = True
        return morsel.OutputString()


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use): every form carries it."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def check_csrf(request: Request, given: Any) -> None:
    """403 unless ``given`` (the form's field) is this session's token."""
    expected = request.session.get(CSRF_FIELD)
    if not (isinstance(given, str) and isinstance(expected, str) and expected
            and hmac.compare_digest(given.encode(), expected.encode())):
        raise HTTPException(403, "The form has expired or did not come from this site: "
                                 "reload the page and try again.")


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this site (one leading slash, no scheme,
    host, backslash or control character), else the front page."""
    if (not value or not value.startswith("/") or value.startswith("//") or "\\" in value
            or any(ord(c) < 32 or ord(c) == 127 for c in value)):
        return "/"
    parts = urlsplit(value)
    return "/" if parts.scheme or parts.netloc else value


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach an address the server binds (127.0.0.0/8, ::1,
    localhost); 0.0.0.0, :: and every other name or address are reachable from outside."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
