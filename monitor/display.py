"""What people see, made safe: untrusted text for a terminal, cells for a spreadsheet, and
URLs with their secrets masked.  Every human-readable output (CLI listings, logs, digests'
subjects and footers, errors) goes through these, so each rule is written once.

Feed text is untrusted: an ESC or a C1 control in a title can retitle a terminal, clear it
or hide what follows, and a bidi override can reorder what a line seems to say.  Feed and
webhook URLs may carry credentials (``user:pass@``, ``?token=``): the real URL is stored
and used, the masked one is shown.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

# Line breaks and tabs (C0, NEL, the Unicode separators) become a space: one field, one line.
_BREAKS = re.compile("[\t\n\x0b\x0c\r\x1c-\x1f\x85\u2028\u2029]")
# Other C0 and C1 controls, DEL, and the bidi embeddings, overrides and isolates go.
_UNSAFE = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
# What JSON leaves raw but a terminal may act on (C1, DEL, bidi, line separators).
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# OWASP: a spreadsheet cell starting with one of these is read as a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")

MASK = "***"
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"'`]+")
# Query (or fragment) keys whose values are secrets: exact names, and names containing or
# ending with these (api_key, X-Amz-Signature, access_token, client_secret, sessionid ...).
_SECRET_KEYS = frozenset({"key", "sig", "auth", "pass", "pwd", "code", "sid", "jwt"})
_SECRET_PARTS = ("token", "secret", "passw", "signature", "apikey", "credential", "session",
                 "privatekey", "accesskey")
_SECRET_ENDS = ("key", "sig", "auth", "pwd")


def safe(text: str) -> str:
    """``text`` fit for a terminal line: no C0/C1 controls (line breaks and tabs become
    spaces) and no bidi overrides or isolates (U+202A-202E, U+2066-2069)."""
    if text.isascii() and text.isprintable():
        return text
    return _UNSAFE.sub("", _BREAKS.sub(" ", text))


def shown(value: Any) -> str:
    """Free text from outside (an error, a feed's name) as shown: URLs in it masked, and
    safe for a terminal."""
    return safe(mask_urls("" if value is None else str(value)))


def csv_cell(value: Any) -> Any:
    """A value for ``hits --csv``: text made safe and, if a spreadsheet would read it as a
    formula (=, +, -, @, tab, CR first), prefixed with a single quote (OWASP's rule)."""
    if not isinstance(value, str):
        return value
    value = safe(value)
    return "'" + value if value.startswith(_FORMULA) else value


def json_line(data: Any) -> str:
    """One JSON object per line that a terminal can print: the same JSON (any parser reads
    the same values) with C1 controls, DEL and bidi controls written as \\u escapes."""
    text = json.dumps(data, ensure_ascii=False)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _secret_key(key: str) -> bool:
    name = re.sub(r"[^a-z0-9]", "", unquote(key).lower())
    return (name in _SECRET_KEYS or name.endswith(_SECRET_ENDS)
            or any(part in name for part in _SECRET_PARTS))


def _mask_pairs(text: str) -> str:
    """``a=1&token=x`` -> ``a=1&token=***``."""
    pairs = []
    for pair in text.split("&"):
        key, eq, value = pair.partition("=")
        pairs.append(f"{key}={MASK}" if eq and value and _secret_key(key) else pair)
    return "&".join(pairs)


def mask_url(url: str, *, keep_user: bool = False) -> str:
    """A URL fit for listings, logs and errors: its userinfo (``user:pass@``) and the values
    of secret-looking query and fragment parameters (token, key, api_key, sig, password ...)
    replaced by ``***``; anything else as it was.  ``keep_user``: ``user:***@`` (a database
    URL's user is no secret)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a broken IPv6 host: mask anything between :// and @ all the same
        return re.sub(r"(?<=://)[^/?#@]*@", f"{MASK}@", url)
    prefix, netloc, rest = f"{parts.scheme}:" if parts.scheme else "", parts.netloc, ""
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = (f"{user}:{MASK}@{host}" if keep_user and colon
                  else f"{userinfo}@{host}" if keep_user else f"{MASK}@{host}")
    if parts.query:
        rest += "?" + _mask_pairs(parts.query)
    if parts.fragment:
        rest += "#" + _mask_pairs(parts.fragment)
    slashes = "//" if parts.netloc or url[len(prefix):].startswith("//") else ""
    masked = f"{prefix}{slashes}{netloc}{parts.path}{rest}"
    return masked if masked != _unmasked(parts, prefix, slashes) else url


def _unmasked(parts: Any, prefix: str, slashes: str) -> str:
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return f"{prefix}{slashes}{parts.netloc}{parts.path}{query}{fragment}"


def mask_urls(text: str) -> str:
    """Every URL in a message (an error, a log line) masked with mask_url."""
    if "://" not in text:
        return text
    return _URL.sub(lambda m: mask_url(m.group()), text)


def webhook_url(url: str) -> str:
    """A webhook URL fit for logs and status: its origin, and for the path and query (where
    Slack-style hooks keep their token) a short hash that tells two hooks apart."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    if parts.path.strip("/") or parts.query:
        digest = hashlib.sha256(url.encode()).hexdigest()[:8]
        return f"{origin}/…#{digest}"
    return origin
