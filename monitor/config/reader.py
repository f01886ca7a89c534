"""The one validating reader of monitor's YAML files (monitor.yaml and the watchlists).

``parse_yaml`` keeps every mapping's line numbers and reports duplicate keys; a ``Reader``
collects every problem of a file as ``file:line: entry: field: what to fix`` instead of
stopping at the first, so that a person fixes a file in one pass.  It imports nothing of
monitor but ``errors``: the configuration and the watchlists both build on it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import yaml

from monitor.errors import Problem, did_you_mean

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZES = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20,
          "gib": 2**30}


# --- YAML with line numbers -------------------------------------------------------------


class LineMap(dict[Any, Any]):
    """A YAML mapping that knows where it is: its own line, each key's line, and the keys
    given more than once (the last value wins, the reader reports the others)."""

    line: int = 0
    key_lines: dict[Any, int]
    duplicates: list[tuple[Any, int]]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that remembers lines, reports duplicate keys, and reads only true/false
    as booleans (so `country: NO` is Norway, not False).  libyaml's parser where PyYAML
    has it (four times faster on a 10,000-entry list); its marks give the same lines."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)
    out = LineMap()
    out.line = node.start_mark.line + 1
    out.key_lines, out.duplicates = {}, []
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a name, not a list or a mapping",
                key_node.start_mark) from None
        if key in out:
            out.duplicates.append((key, line))
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_yaml(text: str, path: str) -> tuple[Any, list[Problem]]:
    """Parse YAML keeping line numbers; a syntax error becomes a Problem, not an exception."""
    try:
        return yaml.load(text, Loader=_Loader), []  # _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(path, line, f"not valid YAML: {reason}")]


# --- values -------------------------------------------------------------------------------


def parse_duration(value: Any) -> float | None:
    """'20s', '15m', '6h', '1d', '250ms' or a number of seconds; None if not a duration."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    match = _DURATION.match(str(value))
    return float(match[1]) * _UNITS[match[2] or "s"] if match else None


def parse_size(value: Any) -> int | None:
    """'10MB', '512KiB', or a number of bytes; None if not a size."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    match = _SIZE.match(str(value))
    return int(float(match[1]) * _SIZES[(match[2] or "b").lower()]) if match else None


def check_url(url: Any) -> str | None:
    """Why ``url`` is not an http(s) URL a feed can have, or None if it is fine."""
    if not isinstance(url, str) or not url.strip():
        return "must be an http:// or https:// URL"
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http:// or https:// URL"
    try:
        parts.port  # noqa: B018 - raises for a port that is not one
    except ValueError:
        return f"{url!r}: the port is not a number from 0 to 65535"
    return None


# --- the reader ---------------------------------------------------------------------------


class Reader:
    """Collects the problems of one file.  ``where`` names the part of the file a problem is
    in (``fetch``, ``feeds[2]``, a watchlist entry's id) and ``key`` the field; the line is
    the key's own line where the YAML gave one.  ``noun`` is what the file calls its keys in
    messages ("key" in monitor.yaml, "field" in a watchlist)."""

    __slots__ = ("noun", "path", "problems")

    def __init__(self, path: str, noun: str = "key") -> None:
        self.path = path
        self.noun = noun
        self.problems: list[Problem] = []

    def at(self, line: int | None, message: str, where: str | None = None,
           key: str | None = None) -> None:
        """A problem at a line the caller knows."""
        self.problems.append(Problem(self.path, line, message, where, key))

    def add(self, data: Any, key: str | None, message: str, where: str | None = None) -> None:
        """A problem with ``key`` of the mapping ``data`` (or with ``data`` itself)."""
        lines = getattr(data, "key_lines", {})
        line = lines.get(key, getattr(data, "line", None)) if key else getattr(data, "line", None)
        self.problems.append(Problem(self.path, line, message, where, key))

    def keys(self, data: Any, allowed: tuple[str, ...], where: str | None) -> None:
        """Keys given twice, and keys not in ``allowed`` (with the closest allowed one)."""
        for key, line in getattr(data, "duplicates", ()):
            self.at(line, f"'{key}' is given twice", where, str(key))
        for key in data:
            if key not in allowed:  # the key as written: `1:` or `true:` has its line too
                line = getattr(data, "key_lines", {}).get(key, getattr(data, "line", None))
                self.at(line, f"unknown {self.noun}{did_you_mean(key, allowed)}; "
                        f"allowed: {', '.join(allowed)}", where, str(key))

    def duration(self, data: Any, key: str, default: float, where: str | None = None) -> float:
        if key not in data:
            return default
        value = parse_duration(data[key])
        if value is None:
            self.add(data, key, f"{data[key]!r} is not a duration (e.g. 30s, 15m, 6h, 1d)", where)
            return default
        return value

    def integer(self, data: Any, key: str, default: int, low: int = 1,
                where: str = "fetch") -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            self.add(data, key, f"{value!r} must be a whole number >= {low}", where)
            return default
        return value

    def boolean(self, data: Any, key: str, default: bool, where: str | None = None) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.add(data, key, f"{value!r} must be true or false", where)
            return default
        return value

    def text(self, data: Any, key: str, where: str | None = None) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.add(data, key, "must be text", where)
            return None
        return str(value)
