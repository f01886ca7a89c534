"""Cursors and limits of the API's listings: a cursor is opaque to clients (base64 of the
last row's sort key and id), so the ordering can change without breaking them."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from monitor.errors import UsageError
from monitor.web.data import Key

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode(key: Key) -> str:
    raw = json.dumps([key[0], key[1]], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> Key | None:
    """The (sort key, id) a cursor carries; UsageError for one this API did not make."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, ident = json.loads(raw)
        if key:
            datetime.fromisoformat(key)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise UsageError("cursor: not one this API gave (use the 'next' link)") from None
    if not isinstance(key, str) or isinstance(ident, bool) or not isinstance(ident, int):
        raise UsageError("cursor: not one this API gave (use the 'next' link)")
    return key, ident


def limit(value: str | None) -> int:
    """``?limit=``: 1 to MAX_LIMIT (larger asks get MAX_LIMIT), DEFAULT_LIMIT if absent."""
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isdigit() or int(value) < 1:
        raise UsageError(f"limit {value!r}: a whole number from 1 to {MAX_LIMIT}")
    return min(int(value), MAX_LIMIT)
