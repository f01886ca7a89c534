"""The archive source: saved articles on disk, for `monitor backfill --from PATH` (files,
not a polled feed, so it yields ``Record`` values rather than feed items): HTML
(optionally gzipped), plain text, JSON Lines / JSON, and WARC.  Files are streamed one
record at a time (a million-article archive is never held in memory); a file that cannot
be read is a ``Skipped`` value naming the path (and line or record) and the reason, never
an exception.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from monitor.extract import canonical_link, parse_date
from monitor.sites import same_site

HTML = (".html", ".htm", ".html.gz", ".htm.gz")
TEXT = (".txt",)
JSON = (".jsonl", ".json", ".jsonl.gz")
WARC = (".warc", ".warc.gz")
FORMATS = HTML + TEXT + JSON + WARC
MAX_ARTICLE = 10 * 10**6  # a page or text; backfill passes fetch.max_bytes (the same default)
MAX_JSON = 64 * 2**20  # a .json file, parsed whole (.jsonl is read a line at a time)
BLOCK = 64 * 1024


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


def files(root: Path) -> Iterator[Path | Skipped]:
    """Each real file under ``root`` (itself if a file) once, in a stable order, lazily.

    Symbolic links are followed, but a folder already walked (a loop such as ``sub/up ->
    ..``, or two links to one folder) is not walked again, and a file met under a second
    name (a link to it, a hard link) is not read again.  What is remembered grows with the
    folders and links, not with the files; a folder that cannot be listed is a skip."""
    if not root.is_dir():
        yield root
        return
    walk = _Walk()
    stack = [iter(walk.enter(root))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
        elif isinstance(entry, Skipped):
            yield entry
        elif _is_dir(entry):
            stack.append(iter(walk.enter(Path(entry.path))))
        elif _is_file(entry):
            if not walk.seen(entry):
                yield Path(entry.path)
        elif entry.is_symlink():  # a link to nothing: read() says so
            yield Path(entry.path)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # a link to a folder too
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()  # not sockets, pipes or devices (reading a pipe would wait)
    except OSError:
        return False


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _key(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


class _Walk:
    """The folders walked and the files read by a second name, by (device, inode)."""

    def __init__(self) -> None:
        self.folders: set[tuple[int, int]] = set()
        self.linked: set[tuple[int, int]] = set()

    def enter(self, folder: Path) -> list[os.DirEntry[str] | Skipped]:
        """The folder's entries by name, or none if it was walked already."""
        try:
            key = _key(folder.stat())
            if key in self.folders:
                return []
            self.folders.add(key)
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=_name)
            return [*listed]
        except OSError as exc:
            return [Skipped(str(folder), f"folder cannot be read: {exc.strerror or exc}")]

    def seen(self, entry: os.DirEntry[str]) -> bool:
        """Whether this file was (or will be) read under another name.  A link to a file in
        a walked folder is left to that folder; any other link, and a hard-linked file, is
        remembered, and every file is checked against those."""
        try:
            key = _key(entry.stat())
            if entry.is_symlink():
                if _key(Path(os.path.realpath(entry.path)).parent.stat()) in self.folders:
                    return True
                seen = key in self.linked
                self.linked.add(key)
                return seen
            if key in self.linked:
                return True
            if entry.stat().st_nlink > 1:
                self.linked.add(key)
        except OSError:
            pass  # gone since it was listed: read() says so
        return False


def read(path: Path, limit: int = MAX_ARTICLE) -> Iterator[Record | Skipped]:
    """The records of one file, or why it was skipped.  A page or text larger than
    ``limit`` (fetch.max_bytes: what the daemon would not fetch) is skipped; files of many
    articles (.jsonl, .warc) are read a record at a time, whatever their size."""
    group = kind(path)
    if group is None:
        yield Skipped(str(path), "not an article format (.html, .htm, .txt, .jsonl, .json, "
                                 ".warc, optionally .gz)")
        return
    if group == "warc":
        yield from _warc(path, limit)
        return
    if group == "json" and not path.name.lower().endswith(".json"):
        yield from _json_lines(path, limit)
        return
    try:
        data = _bytes(path, MAX_JSON if group == "json" else limit)
    except _TooLarge as exc:
        yield Skipped(str(path), str(exc))
        return
    except (OSError, EOFError, zlib.error) as exc:
        yield Skipped(str(path), f"cannot be read: {getattr(exc, 'strerror', None) or exc}")
        return
    if group == "json":
        yield from _json(path, data, limit)
        return
    if _binary(data):
        yield Skipped(str(path), "binary, not text")
    elif group == "html":
        yield _html(str(path), data, path.resolve().as_uri())
    else:
        yield from _text(path, data)


class _TooLarge(ValueError):
    pass


def _too_large(what: str, limit: int) -> str:
    if limit == MAX_JSON:
        return (f"{what} larger than {MAX_JSON // 2**20} MB (a .json file is read whole: "
                "write large archives as .jsonl, read a line at a time)")
    return f"{what} larger than fetch.max_bytes ({limit:,} bytes)"


def _bytes(path: Path, limit: int) -> bytes:
    if path.stat().st_size > limit:
        raise _TooLarge(_too_large("file", limit))
    with _open(path) as handle:
        data: bytes = handle.read(limit + 1)
    if len(data) > limit:
        raise _TooLarge(_too_large("file (once decompressed)", limit))
    return data


def _open(path: Path) -> BinaryIO:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


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


def _json(path: Path, data: bytes, limit: int) -> Iterator[Record | Skipped]:
    try:
        loaded = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        yield Skipped(str(path), f"not valid JSON: {exc}")
        return
    objects = loaded if isinstance(loaded, list) else [loaded]
    for index, obj in enumerate(objects, 1):
        yield _object(f"{path}#{index}", obj, limit)


def _json_lines(path: Path, limit: int) -> Iterator[Record | Skipped]:
    """A JSON Lines file a line at a time: an archive of any size is never held whole."""
    number = 0
    try:
        with _open(path) as handle:
            while line := handle.readline(limit + 1):
                number += 1
                if len(line) > limit and not line.endswith(b"\n"):
                    while (rest := handle.readline(BLOCK)) and not rest.endswith(b"\n"):
                        pass
                    yield Skipped(f"{path}:{number}", _too_large("line", limit))
                elif line.strip():
                    yield _json_line(f"{path}:{number}", line, limit)
    except (OSError, EOFError, zlib.error) as exc:
        why = getattr(exc, "strerror", None) or exc
        yield Skipped(f"{path}:{number + 1}" if number else str(path),
                      f"cannot be read{f' from line {number + 1} on' if number else ''}: {why}")


def _json_line(origin: str, line: bytes, limit: int) -> Record | Skipped:
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        return Skipped(origin, f"not valid JSON: {exc}")
    return _object(origin, obj, limit)


def _object(origin: str, obj: Any, limit: int) -> Record | Skipped:
    if not isinstance(obj, dict):
        return Skipped(origin, "expected an object with url and html or text")
    url, html, text = obj.get("url"), obj.get("html"), obj.get("text")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return Skipped(origin, "'url' must be an http(s) URL")
    if not isinstance(html, str) and not isinstance(text, str):
        return Skipped(origin, "needs 'html' or 'text' (a string)")
    if len(html if isinstance(html, str) else str(text)) > limit:
        return Skipped(origin, _too_large("'html' or 'text'", limit))
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


def _warc(path: Path, limit: int) -> Iterator[Record | Skipped]:
    """The HTML responses of a WARC file.  A record that is wrong inside (no target URI, a
    payload that is not HTTP, headers that never end, cut short) is a skip and the next
    record is read; a record whose end cannot be found (no Content-Length, not a WARC
    header, broken compression) costs the rest of its gzip member, or of an uncompressed
    file, since the next record's start is unknown."""
    from warcio.archiveiterator import WARCIterator
    from warcio.exceptions import ArchiveLoadFailed

    number = current = 0
    try:
        with path.open("rb") as handle:
            for part, gzipped in _warc_parts(handle):
                records = WARCIterator(part, no_record_parse=True)
                try:
                    while True:
                        current = number + 1
                        record = next(records, None)
                        if record is None:
                            break
                        number = current
                        found = _warc_record(record, f"{path}#{number}", limit)
                        if found is not None:
                            yield found
                        records.read_to_end()
                except (ArchiveLoadFailed, _Unframed) as exc:
                    number = current
                    why = _printable(" ".join(str(exc).split()), 120)
                    if not gzipped:
                        yield Skipped(f"{path}#{number}", _unreadable(number, why))
                        return
                    yield Skipped(f"{path}#{number}", f"not a readable WARC record: {why} "
                                                      "(read on from the next gzip member)")
    except OSError as exc:
        yield Skipped(f"{path}#{current}" if current else str(path),
                      _unreadable(current, exc.strerror or str(exc)))
    except Exception as exc:  # warcio's own bugs on hostile input: this file's problem only
        yield Skipped(f"{path}#{current}" if current else str(path),
                      _unreadable(current, f"{type(exc).__name__}: {exc}"))


def _printable(text: str, limit: int) -> str:
    """Bytes from the file, shown in a message: no control characters, at most ``limit``."""
    shown = "".join(c if c.isprintable() else "?" for c in text[:limit])
    return shown + ("…" if len(text) > limit else "")


def _unreadable(number: int, why: str) -> str:
    return f"not a readable WARC{f' from record {number} on' if number > 1 else ''}: {why}"


class _Unframed(ValueError):
    """A record whose length is unknown: where the next one starts cannot be known."""


class _Broken(OSError):
    """Compressed data that is cut short or corrupt (warcio would print the error to stderr
    and carry on as if the file had ended)."""


class _TooLong(ValueError):
    pass


def _warc_record(record: Any, origin: str, limit: int) -> Record | Skipped | None:
    """One WARC record as an HTML page, a skip with the reason, or None for records that
    are not pages (requests, metadata, DNS lookups, images, errors)."""
    length = record.rec_headers.get_header("Content-Length")
    if length is None:
        raise _Unframed("it has no Content-Length")
    if not length.strip().isdigit():
        raise _Unframed(f"its Content-Length {length!r} is not a length")
    if record.rec_type is None:
        return Skipped(origin, "record without a WARC-Type")
    if record.rec_type != "response":
        return None
    url = record.rec_headers.get_header("WARC-Target-URI")
    if not url:
        return Skipped(origin, "response record without a WARC-Target-URI")
    if not url.lower().startswith(("http://", "https://")):
        return None  # dns:, whois:, ftp: …: not a web page
    http = _http_headers(record.raw_stream)
    if isinstance(http, str):
        return Skipped(origin, f"response record {http}")
    ctype = http.get_header("Content-Type") or ""
    if http.get_statuscode() != "200" or "html" not in ctype.lower():
        return None
    record.http_headers = http  # content_stream() then undoes chunking and compression
    data = record.content_stream().read(limit + 1)
    if len(data) > limit:
        return Skipped(origin, _too_large("response", limit))
    while record.raw_stream.read(BLOCK):
        pass
    missing = getattr(record.raw_stream, "limit", 0)
    if missing:
        return Skipped(origin, f"response record truncated: the file ends {missing} bytes "
                               "before the record does")
    return _html(origin, data, url, ctype)


MAX_HEADERS = 256 * 1024


def _http_headers(stream: Any) -> Any:
    """The HTTP status and headers at the start of a response record's payload (warcio's
    parser), or what is wrong with them."""
    from warcio.statusandheaders import StatusAndHeadersParser

    lines = _CappedLines(stream)
    try:
        first = lines.readline()
        if not first.strip():
            return "with an empty payload"
        if not re.match(rb"HTTP/\d", first, re.IGNORECASE):
            shown = _printable(first.decode("utf-8", "replace").strip(), 40)
            return f"whose payload is not an HTTP response (it starts '{shown}')"
        return StatusAndHeadersParser(["HTTP/"], verify=False).parse(lines, first)
    except _TooLong:
        return f"whose HTTP headers are longer than {MAX_HEADERS // 1024} KB"


class _CappedLines:
    """A record's payload for warcio's header parser, which reads lines without a limit: a
    payload without line ends would be read whole into one line."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.left = stream, MAX_HEADERS

    def readline(self, size: int | None = None) -> bytes:
        line: bytes = self.stream.readline(self.left + 1)
        self.left -= len(line)
        if self.left < 0:
            raise _TooLong
        return line


def _warc_parts(handle: BinaryIO) -> Iterator[tuple[Any, bool]]:
    """The file as streams for warcio, and whether they are gzip members: each member of a
    .warc.gz on its own (crawlers compress each record alone, so a record whose end cannot
    be found costs only its member), or the whole of an uncompressed file."""
    magic = handle.read(2)
    handle.seek(0)
    if magic != b"\x1f\x8b":
        yield handle, False
        return
    member = _Member(handle, b"")
    while member.starts():
        yield member, True
        member = _Member(handle, member.rest())


class _Member:
    """One gzip member, decompressed as it is read (so memory does not grow with it)."""

    def __init__(self, handle: BinaryIO, head: bytes) -> None:
        self.handle, self.input = handle, head
        self.inflate = zlib.decompressobj(wbits=31)
        self.offset = 0

    def starts(self) -> bool:
        """Whether a member follows (not the end of the file, or only its zero padding)."""
        while not self.input.strip(b"\0"):
            self.input = self.handle.read(BLOCK)
            if not self.input:
                return False
        return True

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return b"".join(iter(lambda: self.read(BLOCK), b""))
        while not self.inflate.eof:
            data = self.inflate.unconsumed_tail or self.input or self.handle.read(BLOCK)
            self.input = b""
            if not data:
                raise _Broken("truncated: the file ends inside a gzip member")
            try:
                out = self.inflate.decompress(data, max(size, 1))
            except zlib.error as exc:
                raise _Broken(f"corrupt gzip data ({exc})") from exc
            if out:
                self.offset += len(out)
                return out
        return b""

    def tell(self) -> int:
        return self.offset

    def rest(self) -> bytes:
        """What follows this member in the file, once it has been read to its end."""
        while self.read(BLOCK):
            pass
        return bytes(self.inflate.unused_data)
