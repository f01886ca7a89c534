"""The web part of the configuration (monitor.config holds the rest of the one model):

    web:
      enabled: true                       # false: the server answers /healthz and /metrics only
      auth:                               # needed on any address but loopback
        users:
          - {name: alice, password_hash: "$argon2id$v=19$..."}   # monitor web hash-password
        token_env: MONITOR_WEB_TOKEN      # or token_file: API and Atom, Authorization: Bearer
      secret_env: MONITOR_WEB_SECRET      # or secret_file: signs session cookies
      trusted_proxies: [10.0.0.5]         # whose X-Forwarded-For / -Proto are believed
      metrics_token_env: MONITOR_METRICS_TOKEN   # or metrics_token_file: guards /metrics

Secrets come from the environment or a file, are read once at start-up and never printed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError

from monitor.channels.base import read_secret

if TYPE_CHECKING:
    from monitor.config.reader import Reader

_WEB_KEYS = ("enabled", "auth", "secret_env", "secret_file", "trusted_proxies",
             "metrics_token_env", "metrics_token_file")
_AUTH_KEYS = ("users", "token_env", "token_file")
_USER_KEYS = ("name", "password_hash")
MIN_SECRET = 16  # characters of a token or a session secret
_SECRET_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))' makes one"


@dataclass(frozen=True, slots=True)
class WebUser:
    name: str
    password_hash: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class WebConfig:
    enabled: bool = True
    users: tuple[WebUser, ...] = ()
    token: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    trusted_proxies: tuple[str, ...] = ()
    metrics_token: str | None = field(default=None, repr=False)

    @property
    def auth(self) -> bool:
        """Whether anyone can log in (users) or call the API (a token)."""
        return bool(self.users or self.token)


def parse_web(reader: Reader, data: Any, env: dict[str, str], base: Path) -> WebConfig:
    if data is None:
        return WebConfig()
    if data is False:
        return WebConfig(enabled=False)
    if not isinstance(data, dict):
        reader.add(data, None, "'web' must be a mapping (enabled, auth, secret_env, ...) or false")
        return WebConfig()
    reader.keys(data, _WEB_KEYS, "web")
    users, token = _auth(reader, data.get("auth"), env, base)
    return WebConfig(
        enabled=reader.boolean(data, "enabled", True, "web"), users=users, token=token,
        secret=_long_secret(reader, data, "secret", "web", env, base),
        trusted_proxies=_proxies(reader, data),
        metrics_token=_long_secret(reader, data, "metrics_token", "web", env, base))


def _long_secret(reader: Reader, data: dict[str, Any], name: str, where: str,
                 env: dict[str, str], base: Path) -> str | None:
    value = read_secret(reader, data, name, where, env, base)
    if value is not None and len(value) < MIN_SECRET:
        key = f"{name}_env" if f"{name}_env" in data else f"{name}_file"
        reader.add(data, key, f"too short: at least {MIN_SECRET} random characters "
                   f"({_SECRET_HINT})", where)
        return None
    return value


def _auth(reader: Reader, data: Any, env: dict[str, str], base: Path
          ) -> tuple[tuple[WebUser, ...], str | None]:
    if data is None:
        return (), None
    if not isinstance(data, dict):
        reader.add(data, None, "'auth' must be a mapping (users, token_env or token_file)",
                   "web")
        return (), None
    reader.keys(data, _AUTH_KEYS, "web.auth")
    known = len(reader.problems)
    raw = data.get("users") or []
    if not isinstance(raw, list):
        reader.add(data, "users", "must be a list of {name, password_hash}", "web.auth")
        raw = []
    users: list[WebUser] = []
    for index, item in enumerate(raw):
        user = _user(reader, item, f"web.auth.users[{index}]")
        if user is not None and any(u.name == user.name for u in users):
            reader.add(item, "name", f"user {user.name!r} is given twice",
                       f"web.auth.users[{index}]")
        elif user is not None:
            users.append(user)
    token = _long_secret(reader, data, "token", "web.auth", env, base)
    if not users and token is None and len(reader.problems) == known:
        reader.add(data, None, "give users (with password_hash) or token_env / token_file",
                   "web.auth")
    return tuple(users), token


def _user(reader: Reader, data: Any, where: str) -> WebUser | None:
    if not isinstance(data, dict):
        reader.add(data, None, "a user is a mapping {name, password_hash}", where)
        return None
    reader.keys(data, _USER_KEYS, where)
    name = reader.text(data, "name", where)
    hashed = reader.text(data, "password_hash", where)
    if not name or not name.strip() or any(c.isspace() for c in name):
        reader.add(data, "name" if "name" in data else None,
                   "a user needs a name without spaces", where)
        return None
    if not hashed:
        reader.add(data, "password_hash" if "password_hash" in data else None,
                   "needs password_hash (`monitor web hash-password` prints one)", where)
        return None
    try:
        extract_parameters(hashed)
    except (InvalidHashError, ValueError):
        reader.add(data, "password_hash", "not an argon2 hash (`monitor web hash-password` "
                   "prints one; never the password itself)", where)
        return None
    return WebUser(name, hashed)


def _proxies(reader: Reader, data: dict[str, Any]) -> tuple[str, ...]:
    raw = data.get("trusted_proxies") or []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        reader.add(data, "trusted_proxies", "must be a list of addresses or networks", "web")
        return ()
    out: list[str] = []
    for value in raw:
        try:
            ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            reader.add(data, "trusted_proxies", f"{value!r} is not an IP address or network "
                       "(e.g. 10.0.0.5 or 10.0.0.0/24)", "web")
            continue
        out.append(str(value))
    return tuple(out)
