"""Settings from the environment, for containers: ``MONITOR_<KEY>`` or
``MONITOR_<SECTION>_<KEY>`` overrides a scalar setting of monitor.yaml, and
``MONITOR_..._FILE`` reads the value from a file (Docker secrets):

    MONITOR_DATABASE_URL  MONITOR_WATCHLISTS  MONITOR_RAW_RETENTION  MONITOR_TEMPLATES
    MONITOR_FETCH_TIMEOUT  MONITOR_FETCH_ALLOW_PRIVATE_ADDRESSES  ...
    MONITOR_SMTP_HOST  MONITOR_SMTP_PORT  MONITOR_SMTP_USERNAME  MONITOR_SMTP_FROM  ...
    MONITOR_SMTP_PASSWORD (or _FILE): the SMTP password when the file names none
    MONITOR_SERVER_HOST  MONITOR_SERVER_PORT  MONITOR_DELIVERY_MAX_ATTEMPTS  ...

Values are read as YAML scalars (``true``, ``20s``, ``587``).  Lists (feeds, digests) stay
in the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitor.errors import Problem

TOP = {"database_url": "database", "watchlists": "watchlists",
       "raw_retention": "raw_retention", "templates": "templates"}
SECTIONS = {
    "fetch": ("timeout", "max_bytes", "concurrency", "per_host", "max_items", "user_agent",
              "allow_private_addresses"),
    "smtp": ("host", "port", "security", "username", "from", "timeout", "ca_file"),
    "server": ("host", "port"),
    "delivery": ("max_attempts", "backoff", "max_backoff"),
}
_NOT_SETTINGS = {"MONITOR_CONFIG", "MONITOR_LOG_FORMAT", "MONITOR_SMTP_PASSWORD",
                 "MONITOR_SMTP_PASSWORD_FILE"}


def _value(name: str, env: dict[str, str], problems: list[Problem]) -> Any:
    if name in env:
        raw = env[name]
    else:
        try:
            raw = Path(env[f"{name}_FILE"]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            problems.append(Problem(f"${name}_FILE", None,
                                    f"cannot read {env[f'{name}_FILE']}: {exc.strerror}"))
            return None
    try:
        return yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        return raw


def _targets() -> dict[str, tuple[str | None, str]]:
    out: dict[str, tuple[str | None, str]] = {
        f"MONITOR_{k.upper()}": (None, v) for k, v in TOP.items()}
    for section, keys in SECTIONS.items():
        out.update({f"MONITOR_{section.upper()}_{k.upper()}": (section, k) for k in keys})
    return out


def apply_env(data: dict[str, Any], env: dict[str, str]) -> tuple[dict[str, Any],
                                                                   list[Problem]]:
    """``data`` with the environment's overrides (a new mapping; the file's is untouched),
    and problems: unknown MONITOR_* names, unreadable files."""
    targets, problems = _targets(), []
    out: dict[str, Any] = data
    names = {n[:-5] if n.endswith("_FILE") else n for n in env if n.startswith("MONITOR_")}
    for name in sorted(names - _NOT_SETTINGS):
        if name not in targets:
            # a misspelt section setting is an error; other MONITOR_* names may be secrets
            # the file names (secret_env: MONITOR_WEBHOOK_SECRET) or the tests' switches
            if name.startswith(tuple(f"MONITOR_{s.upper()}_" for s in SECTIONS)):
                problems.append(Problem(f"${name}", None, "not a setting monitor knows (see "
                                        "README, Configuration)"))
            continue
        section, key = targets[name]
        value = _value(name, env, problems)
        if out is data:
            out = type(data)(data) if isinstance(data, dict) else dict(data)
            if hasattr(data, "key_lines"):
                out.key_lines = data.key_lines  # type: ignore[attr-defined]
                out.duplicates = data.duplicates  # type: ignore[attr-defined]
                out.line = getattr(data, "line", None)  # type: ignore[attr-defined]
        if section is None:
            out[key] = value
        else:
            current = out.get(section)
            merged = dict(current) if isinstance(current, dict) else {}
            merged[key] = value
            out[section] = merged
    smtp = out.get("smtp")
    if isinstance(smtp, dict) and not {"password_env", "password_file"} & smtp.keys() and (
            "MONITOR_SMTP_PASSWORD" in env or "MONITOR_SMTP_PASSWORD_FILE" in env):
        out["smtp"] = {**smtp, "password_env": "MONITOR_SMTP_PASSWORD"}
    return out, problems
