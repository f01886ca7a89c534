"""Saved articles on disk, for `monitor backfill --from PATH`: HTML (optionally gzipped),
plain text, JSON Lines / JSON, and WARC.  Files are streamed one record at a time (a
million-article archive is never held in memory); a file that cannot be read is a
``Skipped`` value naming the path (and line or record) and the reason, never an exception.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.extract import canonical_link, parse_date
from monitor.sites import same_site

HTML = (".html", ".htm", ".html.gz", ".htm.gz")
TEXT = (".txt",)
JSON = (".jsonl", ".json", ".jsonl.gz")
WARC = (".warc", ".warc.gz")
FORMATS = HTML + TEXT + JSON + WARC
MAX_FILE = 64 * 1024 * 1024  # an HTML, text or JSON file larger than this is not an article


@dataclass(frozen=True, slots=True)
class Record:
    """One saved article: a page (``html``) or its text (``text``), and where it came from."""

    origin: str  # path, with :line or #record where a file holds several
    # the page's canonical URL (for a record that came with a URL, only on that URL's
    # site), or the given one, or the file's file:// URL
    url: str
    url_is_path: bool  # no URL was known: the file path stands in (content decides duplicates)
    html: bytes | None = None
    text: str | None = None
    title: str | None = None
    published: datetime | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    origin: str
    reason: str


def kind(path: Path) -> str | None:
    name = path.name.lower()
    for group, suffixes in (("html", HTML), ("text", TEXT), ("json", JSON), ("warc", WARC)):
        if name.endswith(suffixes):
            return group
    return None


def files(root: Path) -> Iterator[Path]:
    """The files under ``root`` (itself if a file), in a stable order, lazily."""
    if not root.is_dir():
        yield root
        return
    for path in sorted(root.iterdir()):
        if path.is_dir():
            yield from files(path)
        elif path.is_file():
            yield path


def read(path: Path) -> Iterator[Record | Skipped]:
    """The records of one file, or why it was skipped."""
    group = kind(path)
    if group is None:
        yield Skipped(str(path), "not an article format (.html, .htm, .txt, .jsonl, .json, "
                                 ".warc, optionally .gz)")
        return
    try:
        if group == "warc":
            yield from _warc(path)
            return
        data = _bytes(path)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        yield Skipped(str(path), f"cannot be read: {getattr(exc, 'strerror', None) or exc}")
        return
    if group == "json":
        yield from _json(path, data)
        return
    if _binary(data):
        yield Skipped(str(path), "binary, not text")
    elif group == "html":
        yield _html(str(path), data, path.resolve().as_uri())
    else:
        yield from _text(path, data)


def _bytes(path: Path) -> bytes:
    if path.stat().st_size > MAX_FILE:
        raise OSError(f"larger than {MAX_FILE // 2**20} MB")
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            data = handle.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            raise OSError(f"more than {MAX_FILE // 2**20} MB once decompressed")
        return data
    return path.read_bytes()


def _binary(data: bytes) -> bool:
    head = data[:8192]
    return b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _html(origin: str, data: bytes, fallback_url: str,
          content_type: str | None = None) -> Record:
    head = data[:400_000].decode("utf-8", errors="replace")
    url = canonical_link(head, fallback_url)
    if url and not fallback_url.startswith("file:") and not same_site(url, fallback_url):
        url = None  # a page saved with its URL names another site's: it keeps its own
    return Record(origin, url or fallback_url, url is None and fallback_url.startswith("file:"),
                  html=data, content_type=content_type)


def _text(path: Path, data: bytes) -> Iterator[Record | Skipped]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield Skipped(str(path), f"not UTF-8 text (byte {exc.start})")
        return
    title, _, body = text.strip().partition("\n")
    if not body.strip():
        yield Skipped(str(path), "no text after the title line")
        return
    yield Record(str(path), path.resolve().as_uri(), True, text=body.strip(),
                 title=title.strip() or None)


def _json(path: Path, data: bytes) -> Iterator[Record | Skipped]:
    name = path.name.lower()
    if name.endswith(".json"):
        try:
            loaded = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            yield Skipped(str(path), f"not valid JSON: {exc}")
            return
        objects = loaded if isinstance(loaded, list) else [loaded]
        for index, obj in enumerate(objects, 1):
            yield _object(f"{path}#{index}", obj)
        return
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            yield Skipped(f"{path}:{number}", f"not valid JSON: {exc}")
            continue
        yield _object(f"{path}:{number}", obj)


def _object(origin: str, obj: Any) -> Record | Skipped:
    if not isinstance(obj, dict):
        return Skipped(origin, "expected an object with url and html or text")
    url, html, text = obj.get("url"), obj.get("html"), obj.get("text")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return Skipped(origin, "'url' must be an http(s) URL")
    if not isinstance(html, str) and not isinstance(text, str):
        return Skipped(origin, "needs 'html' or 'text' (a string)")
    title, published = obj.get("title"), obj.get("published")
    when = parse_date(published) if isinstance(published, str) else None
    if published is not None and when is None:
        return Skipped(origin, f"'published' {published!r} is not a date (ISO 8601 or RFC 822)")
    if isinstance(html, str):
        record = _html(origin, html.encode("utf-8"), url, "text/html; charset=utf-8")
        return Record(origin, record.url, False, html=record.html, title=_str(title),
                      published=when, content_type=record.content_type)
    return Record(origin, url, False, text=str(text), title=_str(title), published=when)


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _warc(path: Path) -> Iterator[Record | Skipped]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    number = 0
    try:
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                number += 1
                if record.rec_type is None:
                    raise ValueError(f"record {number} has no WARC-Type")
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                status = record.http_headers.get_statuscode()
                ctype = record.http_headers.get_header("Content-Type") or ""
                if status != "200" or "html" not in ctype.lower():
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                data = record.content_stream().read(MAX_FILE + 1)
                origin = f"{path}#{number}"
                if len(data) > MAX_FILE:
                    yield Skipped(origin, f"response larger than {MAX_FILE // 2**20} MB")
                elif not url.startswith(("http://", "https://")):
                    yield Skipped(origin, "response without an http(s) WARC-Target-URI")
                else:
                    yield _html(origin, data, url, ctype)
    except (ArchiveLoadFailed, OSError, EOFError, zlib.error, ValueError) as exc:
        yield Skipped(f"{path}#{number}" if number else str(path),
                      f"not a readable WARC: {exc}")
