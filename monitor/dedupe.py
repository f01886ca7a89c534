"""Duplicates and stories, as pure functions: canonical URLs, item identity, and MinHash
fingerprints whose LSH bands are stored in an indexed column (store.py), so finding the
story an article belongs to is a few index lookups whatever the size of the archive.

A fingerprint is a MinHash signature (64 hash functions) of the article's word 4-grams.
Sixteen bands of four values each make a band key; two articles share at least one band
key with probability 1 - (1 - J^4)^16 (J: the Jaccard similarity of their 4-gram sets):
0.99 at J = 0.6, 0.63 at J = 0.3, 0.02 at J = 0.1.  Candidates are then confirmed on the
whole signature (estimated J >= SAME_STORY).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from monitor.normalize import fold

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SHINGLE = 4
SAME_STORY = 0.5  # estimated Jaccard similarity of 4-gram sets from which two texts are one story
MIN_TOKENS = 20  # shorter texts (a headline) are compared by their exact hash only
# Multiply-shift hashing (odd 64-bit multipliers, top 32 bits); the seed is fixed because
# stored fingerprints must stay comparable.
_rng = np.random.default_rng(20240619)
_A = _rng.integers(0, 1 << 63, size=PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _rng.integers(0, 1 << 63, size=PERMUTATIONS, dtype=np.uint64)
_SHIFT = np.uint64(32)

# Query parameters that only track the reader: dropped from canonical URLs.
TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|"
    r"_hsenc|_hsmi|hsctatracking|mkt_tok|oly_anon_id|oly_enc_id|rb_clickid|s_cid|vero_\w+|"
    r"wt\.mc_\w+|cmpid|ncid|ocid|at_medium|at_campaign|at_custom\d*|sr_share|ref_src|smid|"
    r"__twitter_impression|outputtype|amp)$",
    re.IGNORECASE,
)
_AMP_PATH = re.compile(r"(/amp/?$|/amp(?=/)|\.amp(?=\.html?$|$))", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_END = re.compile(r"[/\s]+$")


def canonical_url(url: str) -> str:
    """One spelling per page: lower-case scheme and host, no default port, no fragment, no
    tracking parameters (utm_*, fbclid, gclid, mc_*...), sorted query, no AMP variant
    (amp.example.com, /amp/, .amp.html, ?amp), no trailing slash on a path.  A URL that
    cannot be parsed (a bad port, a broken IPv6 host) is its own key, never an error.
    Idempotent: a canonical URL is its own canonical form (what is stripped from the ends
    of the input is stripped from the ends of the path too, and a path with no host keeps
    one leading slash, or it would read as a host the next time)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower().rstrip(".")
    while host.startswith(("amp.", "www.")):
        host = host[4:]
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = _path(parts.path)
    if not netloc and path.startswith("//"):
        path = "/" + path.lstrip("/")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not TRACKING.match(k)))
    return urlunsplit((scheme, netloc, path, query, ""))


def _path(path: str) -> str:
    """The path without AMP variants or a trailing slash, to a fixed point (removing one
    can reveal another: /a.amp.amp, /x/amp /)."""
    while (shorter := _PATH_END.sub("", _AMP_PATH.sub("", path))) != path:
        path = shorter
    return path or "/"


def item_key(guid: str | None, link: str | None, title: str, summary: str) -> str:
    """An item's identity in its feed: its GUID, else its canonical link, else a hash."""
    if guid and guid.strip():
        return "guid:" + guid.strip()
    if link and link.strip():
        return "url:" + canonical_url(link)
    digest = hashlib.sha256(f"{title}\x00{summary}".encode()).hexdigest()[:32]
    return "hash:" + digest


def content_hash(text: str) -> str:
    """Hash of the folded text: the same text whatever its spacing, case or punctuation."""
    return _folded_hash(fold(text))


def _folded_hash(folded: str) -> str:
    return hashlib.sha256(folded.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    signature: bytes  # PERMUTATIONS little-endian uint32 values, empty for a short text
    bands: tuple[int, ...]  # BANDS signed 63-bit keys (band number mixed in)
    content: str  # content_hash


def fingerprint(text: str) -> Fingerprint:
    """The MinHash fingerprint of a text (pure; the same text gives the same fingerprint)."""
    folded = fold(text)  # folded once: for the hash and for the shingles
    tokens = folded.split()
    digest = _folded_hash(folded)
    if len(tokens) < MIN_TOKENS:
        return Fingerprint(b"", (), digest)
    hashes = np.fromiter((zlib.crc32(t.encode()) for t in tokens), dtype=np.uint64,
                         count=len(tokens))
    shingles = hashes[: len(hashes) - SHINGLE + 1].copy()
    for k in range(1, SHINGLE):
        shingles = (shingles * np.uint64(1_000_003) + hashes[k: len(hashes) - SHINGLE + 1 + k])
    shingles = np.unique(shingles)
    values = (shingles[:, None] * _A[None, :] + _B[None, :]) >> _SHIFT  # wraps mod 2**64
    signature = values.min(axis=0).astype("<u4")
    return Fingerprint(signature.tobytes(), band_keys(signature), digest)


def band_keys(signature: np.ndarray) -> tuple[int, ...]:
    rows = signature.reshape(BANDS, ROWS)
    keys = []
    for band, row in enumerate(rows):
        raw = hashlib.blake2b(row.tobytes(), digest_size=8, salt=band.to_bytes(8, "little"))
        keys.append(int.from_bytes(raw.digest(), "little", signed=True) >> 1)
    return tuple(keys)


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two texts from their signatures (0 if either is empty)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    x = np.frombuffer(a, dtype="<u4")
    y = np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(x == y)) / len(x)
