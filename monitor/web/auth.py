"""Who may use the interface: the access mode of a server, users with argon2 password
hashes, an API token, and a login rate limit.

    open    loopback bind, no web.auth: this machine's users only, no login; requests
            must name a loopback host (Host: 127.0.0.1 or localhost), against DNS rebinding
    login   web.auth configured: a session (after /login) or Authorization: Bearer <token>
    locked  any other bind without web.auth: every page and API path answers 401 with how
            to set it up; /healthz and /metrics still answer (a container must run)
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from monitor.config.web import WebConfig, WebUser
from monitor.health import bearer_matches
from monitor.web.security import is_loopback

Mode = Literal["open", "login", "locked"]
OPEN_PATHS = frozenset({"/healthz", "/metrics"})  # their own rules (health.py)
LOGIN_PATHS = frozenset({"/login", "/logout"})
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("not a password anyone has")  # unknown users cost the same time


def access_mode(web: WebConfig, host: str) -> Mode:
    if web.auth:
        return "login"
    return "open" if is_loopback(host) else "locked"


def hash_password(password: str) -> str:
    """An argon2id hash for ``web.auth.users[].password_hash``."""
    return _HASHER.hash(password)


def user_key(user: WebUser) -> str:
    """What a session remembers of the user's password hash: a new hash logs it out."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def verify(users: tuple[WebUser, ...], name: str, password: str) -> WebUser | None:
    """The user whose password this is, or None (unknown users are hashed against a dummy,
    so the answer takes as long either way)."""
    user = next((u for u in users if u.name == name), None)
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


@dataclass
class LoginLimiter:
    """At most ``tries`` failed logins per key (an address, a user name) in ``window``
    seconds; ``clock`` is injectable.  Remembers at most ``keys`` keys (the oldest go)."""

    tries: int = 5
    window: float = 300.0
    clock: Callable[[], float] = time.monotonic
    keys: int = 10_000
    _failures: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def retry_after(self, *keys: str) -> float:
        """Seconds until each of ``keys`` may try again (0: now)."""
        now, wait = self.clock(), 0.0
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self.tries:
                wait = max(wait, times[0] + self.window - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times
            self._failures.move_to_end(key)
        while len(self._failures) > self.keys:
            self._failures.popitem(last=False)

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times


Responder = Callable[[Request], Awaitable[Response]]


class Guard:
    """Lets a request through to the app, or answers it: 401 (locked; or the API and
    Atom feeds without a valid token or session), a redirect to /login (pages)."""

    def __init__(self, app: ASGIApp, web: WebConfig, mode: Mode, locked: Responder) -> None:
        self.app, self.web, self.mode, self.locked = app, web, mode, locked

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path in OPEN_PATHS or path.startswith("/static/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        scope["monitor.auth"], scope["monitor.user"] = self.mode, None
        if self.mode == "locked":
            response = await self.locked(request)
        elif self.mode == "open" and not is_loopback(request.url.hostname or ""):
            # open on loopback, asked under another name: DNS rebinding (a web page of
            # another site whose name now points at 127.0.0.1 reading and posting here)
            response = PlainTextResponse(
                "open this interface as http://127.0.0.1/ or http://localhost/ (or set "
                "web.auth to reach it under other names)\n", 421)
        elif self.mode == "open" or self._known(request, scope) or path in LOGIN_PATHS:
            await self.app(scope, receive, send)
            return
        else:
            response = _refused(request)
        await response(scope, receive, send)

    def _known(self, request: Request, scope: Scope) -> bool:
        header = request.headers.get("authorization")
        if self.web.token and header and bearer_matches(header, self.web.token):
            scope["monitor.auth"] = "token"
            return True
        name, key = request.session.get("user"), request.session.get("key")
        user = next((u for u in self.web.users if u.name == name), None)
        if user is not None and key == user_key(user):
            scope["monitor.auth"], scope["monitor.user"] = "session", user.name
            return True
        return False


def machine_path(path: str) -> bool:
    """The API and the Atom feeds: answered in their own format, never redirected."""
    return path.startswith("/api/") or (path.startswith("/feeds/") and path.endswith(".atom"))


def _refused(request: Request) -> Response:
    path = request.url.path
    challenge = {"WWW-Authenticate": 'Bearer realm="monitor"'}
    if path.startswith("/api/"):
        return JSONResponse({"error": "log in, or send Authorization: Bearer <token>"}, 401,
                            headers=challenge)
    if machine_path(path):
        return PlainTextResponse("send Authorization: Bearer <token>\n", 401, headers=challenge)
    if request.method in ("GET", "HEAD"):
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", 303)
    return PlainTextResponse("log in first (/login)\n", 401)
