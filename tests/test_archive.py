"""archive.py: every import format, and every way a file can be bad."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from monitor.sources.archive import Record, Skipped, files, read
from tests.support import article_html
from tests.test_extract import PARAGRAPHS


def one(path: Path) -> Record | Skipped:
    found = list(read(path))
    assert len(found) == 1, found
    return found[0]


def test_html_url_from_canonical_then_og_url_then_path(tmp_path: Path) -> None:
    page = article_html("Putin in Pyongyang", PARAGRAPHS, canonical="https://n.example/a")
    (tmp_path / "a.html").write_bytes(page)
    record = one(tmp_path / "a.html")
    assert isinstance(record, Record)
    assert (record.url, record.url_is_path, record.html) == ("https://n.example/a", False, page)

    og = article_html("T", PARAGRAPHS).replace(
        b"<head>", b'<head><meta property="og:url" content="https://n.example/og">')
    (tmp_path / "b.htm").write_bytes(og)
    assert one(tmp_path / "b.htm").url == "https://n.example/og"  # type: ignore[union-attr]

    (tmp_path / "c.html.gz").write_bytes(gzip.compress(article_html("T", PARAGRAPHS)))
    record = one(tmp_path / "c.html.gz")
    assert isinstance(record, Record) and record.url_is_path
    assert record.url == (tmp_path / "c.html.gz").resolve().as_uri()
    assert record.html == article_html("T", PARAGRAPHS)


def test_text_file_first_line_is_the_title(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("\ufeffPutin in Hanoi\n\nPutin met To Lam in Hanoi.\n")
    record = one(tmp_path / "a.txt")
    assert isinstance(record, Record)
    assert (record.title, record.text, record.url_is_path) == \
        ("Putin in Hanoi", "Putin met To Lam in Hanoi.", True)


def test_json_lines_report_each_bad_line_and_keep_the_good_ones(tmp_path: Path) -> None:
    good = {"url": "https://n.example/1", "text": "Putin met Kim.", "title": "T",
            "published": "2024-06-19T01:00:00Z"}
    html = {"url": "https://n.example/2", "html": "<html><body><p>x</p></body></html>"}
    lines = [json.dumps(good), "", "{broken", json.dumps({"url": "ftp://x", "text": "t"}),
             json.dumps({"url": "https://n.example/3"}), json.dumps([1, 2]),
             json.dumps({**good, "published": "last week"}), json.dumps(html)]
    (tmp_path / "a.jsonl").write_text("\n".join(lines))
    found = list(read(tmp_path / "a.jsonl"))
    records = [f for f in found if isinstance(f, Record)]
    skipped = {f.origin.rsplit(":", 1)[1]: f.reason for f in found if isinstance(f, Skipped)}
    assert [r.url for r in records] == ["https://n.example/1", "https://n.example/2"]
    assert records[0].published == datetime(2024, 6, 19, 1, 0, tzinfo=UTC)
    assert records[0].text == "Putin met Kim." and records[0].title == "T"
    assert records[1].html is not None and not records[1].url_is_path
    assert set(skipped) == {"3", "4", "5", "6", "7"}
    assert "not valid JSON" in skipped["3"] and "http(s) URL" in skipped["4"]
    assert "'html' or 'text'" in skipped["5"] and "object" in skipped["6"]
    assert "not a date" in skipped["7"]


def test_json_file_holds_a_list_or_one_object(tmp_path: Path) -> None:
    objects = [{"url": f"https://n.example/{i}", "text": "Putin."} for i in range(3)]
    (tmp_path / "list.json").write_text(json.dumps(objects))
    (tmp_path / "one.json").write_text(json.dumps(objects[0]))
    (tmp_path / "bad.json").write_text("[{")
    urls = [r.url for r in read(tmp_path / "list.json") if isinstance(r, Record)]
    assert urls == [o["url"] for o in objects]
    assert one(tmp_path / "one.json").url == "https://n.example/0"  # type: ignore[union-attr]
    bad = one(tmp_path / "bad.json")
    assert isinstance(bad, Skipped) and "not valid JSON" in bad.reason


def _warc(path: Path, records: list[tuple[str, str, str, bytes]]) -> None:
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=path.name.endswith(".gz"))
        for url, status, ctype, body in records:
            headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=headers))
        writer.write_record(writer.create_warc_record(
            "https://n.example/a", "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")))


def test_warc_keeps_each_html_response(tmp_path: Path) -> None:
    page = article_html("Putin in Pyongyang", PARAGRAPHS)
    _warc(tmp_path / "crawl.warc.gz", [
        ("https://n.example/a", "200 OK", "text/html; charset=utf-8", page),
        ("https://n.example/logo.png", "200 OK", "image/png", b"\x89PNG"),
        ("https://n.example/gone", "404 Not Found", "text/html", b"<html>gone</html>"),
        ("https://n.example/b", "200 OK", "text/html", page.replace(b"Putin", b"Kim")),
    ])
    found = list(read(tmp_path / "crawl.warc.gz"))
    assert [(r.url, r.content_type) for r in found] == [  # type: ignore[union-attr]
        ("https://n.example/a", "text/html; charset=utf-8"),
        ("https://n.example/b", "text/html")]
    assert found[0].html == page  # type: ignore[union-attr]
    _warc(tmp_path / "plain.warc", [("https://n.example/a", "200 OK", "text/html", page)])
    assert len(list(read(tmp_path / "plain.warc"))) == 1


def test_bad_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    cases = {
        "bin.html": b"\x00\x01\x02PNG" * 100,
        "broken.html.gz": b"\x1f\x8b\x08\x00garbage",
        "latin1.txt": "Putin à Hanoï\nTexte".encode("latin-1"),
        "title-only.txt": b"Just a title\n",
        "broken.warc": b"WARC/1.0\r\nnot really\r\n\r\n",
        "notes.docx": b"PK\x03\x04",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    reasons = {}
    for path in files(tmp_path):
        assert isinstance(path, Path)
        for found in read(path):
            assert isinstance(found, Skipped), (path, found)
            reasons[Path(found.origin.split("#")[0]).name] = found.reason
    assert set(reasons) == set(cases)
    assert reasons["bin.html"] == "binary, not text"
    assert reasons["broken.html.gz"].startswith("cannot be read")
    assert reasons["latin1.txt"].startswith("not UTF-8")
    assert reasons["title-only.txt"] == "no text after the title line"
    assert reasons["broken.warc"].startswith("not a readable WARC")
    assert reasons["notes.docx"].startswith("not an article format")
    missing = one(tmp_path / "missing.html")
    assert isinstance(missing, Skipped) and missing.reason.startswith("cannot be read")


def test_folders_are_walked_recursively_in_a_stable_order(tmp_path: Path) -> None:
    for name in ("b/2.html", "a.txt", "b/1/x.jsonl", "c.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in files(tmp_path)] == \
        ["a.txt", "b/1/x.jsonl", "b/2.html", "c.html"]
    assert list(files(tmp_path / "a.txt")) == [tmp_path / "a.txt"]


# --- malformed WARC records (issue 15, item 12) -------------------------------------------


def warc_record(headers: list[tuple[str, str]], block: bytes,
                length: str | None = None) -> bytes:
    """One WARC record as bytes, written by hand so that it can be wrong in any way."""
    lines = ["WARC/1.0", *(f"{k}: {v}" for k, v in headers)]
    if length != "":
        lines.append(f"Content-Length: {len(block) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + block + b"\r\n\r\n"


def http_response(body: bytes, ctype: str = "text/html", status: str = "200 OK") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}"
            "\r\n\r\n").encode() + body


def response(url: str | None, block: bytes) -> bytes:
    headers = [("WARC-Type", "response"), ("WARC-Record-ID", f"<urn:uuid:{url}>"),
               ("WARC-Date", "2024-06-19T01:00:00Z"),
               ("Content-Type", "application/http; msgtype=response")]
    return warc_record(headers + ([("WARC-Target-URI", url)] if url else []), block)


def write_warc(path: Path, records: list[bytes]) -> None:
    """Each record its own gzip member in a .warc.gz (as crawlers write them)."""
    gz = path.name.endswith(".gz")
    path.write_bytes(b"".join(gzip.compress(r) if gz else r for r in records))


def origins(found: list[Record | Skipped]) -> list[str]:
    return [f.url if isinstance(f, Record) else f"{f.origin.rsplit('#', 1)[1]}: {f.reason}"
            for f in found]


@pytest.mark.parametrize("name", ["bad.warc", "bad.warc.gz"])
def test_a_malformed_warc_record_is_skipped_and_the_rest_of_the_file_is_read(
        tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    page = article_html("Putin in Pyongyang", PARAGRAPHS)
    dns = warc_record([("WARC-Type", "response"), ("WARC-Target-URI", "dns:n.example"),
                       ("Content-Type", "text/dns")], b"20240619 n.example. 300 IN A 1.2.3.4")
    write_warc(tmp_path / name, [
        response("https://n.example/a", http_response(page)),
        response(None, http_response(page)),  # the record of the issue: no WARC-Target-URI
        response("https://n.example/raw", page),  # a page without its HTTP status and headers
        response("https://n.example/empty", b""),
        warc_record([("WARC-Record-ID", "<urn:uuid:x>")], b"what am I?"),  # no WARC-Type
        dns,  # not a web page: not an article, nothing to report
        response("https://n.example/huge", b"HTTP/1.1 200 OK\r\nX: " + b"y" * 300_000
                 + b"\r\n\r\n" + page),
        response("https://n.example/b", http_response(page)),
    ])
    assert origins(list(read(tmp_path / name))) == [
        "https://n.example/a",
        "2: response record without a WARC-Target-URI",
        "3: response record whose payload is not an HTTP response (it starts '<!doctype "
        "html><html lang=\"en\"><head><me…')",
        "4: response record with an empty payload",
        "5: record without a WARC-Type",
        "7: response record whose HTTP headers are longer than 256 KB",
        "https://n.example/b",
    ]
    assert capsys.readouterr().err == ""  # warcio wrote nothing of its own


@pytest.mark.parametrize("name", ["cut.warc", "cut.warc.gz"])
def test_a_truncated_warc_keeps_the_records_before_the_cut(tmp_path: Path, name: str) -> None:
    page = article_html("Putin in Pyongyang", PARAGRAPHS)
    good = [response(f"https://n.example/{n}", http_response(page)) for n in range(3)]
    write_warc(tmp_path / name, good)
    data = (tmp_path / name).read_bytes()
    (tmp_path / name).write_bytes(data[:len(data) - 500])  # the last record is cut short
    found = origins(list(read(tmp_path / name)))
    assert found[:2] == ["https://n.example/0", "https://n.example/1"]
    assert len(found) == 3 and found[2].startswith("3: ") and "truncated" in found[2], found


@pytest.mark.parametrize("broken, why", [
    (b"garbage between records\r\n\r\n",
     "Invalid WARC record, first line: garbage between records"),
    (warc_record([("WARC-Type", "response")], b"x\r\n" * 50, length=""),
     "it has no Content-Length"),
    (warc_record([("WARC-Type", "response")], b"x\r\n" * 50, length="-5"),
     "its Content-Length '-5' is not a length"),
])
def test_a_record_whose_end_cannot_be_found_costs_its_gzip_member_or_the_rest_of_the_file(
        tmp_path: Path, broken: bytes, why: str) -> None:
    page = article_html("Putin in Pyongyang", PARAGRAPHS)
    a, b = (response(f"https://n.example/{n}", http_response(page)) for n in "ab")
    write_warc(tmp_path / "lost.warc", [a, broken, b])
    assert origins(list(read(tmp_path / "lost.warc"))) == [
        "https://n.example/a", f"2: not a readable WARC from record 2 on: {why}"]
    write_warc(tmp_path / "lost.warc.gz", [a, broken, b])  # each record its own member
    assert origins(list(read(tmp_path / "lost.warc.gz"))) == [
        "https://n.example/a",
        f"2: not a readable WARC record: {why} (read on from the next gzip member)",
        "https://n.example/b"]


@pytest.mark.parametrize("name", ["fuzz.warc", "fuzz.warc.gz"])
def test_no_cut_or_damaged_byte_of_a_warc_raises(tmp_path: Path, name: str) -> None:
    """Every prefix of a small WARC, and 400 copies with a byte changed (a fixed
    seed: CI is deterministic), read as records and skips, never an exception."""
    page = article_html("Putin", PARAGRAPHS[:1])
    write_warc(tmp_path / name, [
        response("https://n.example/a", http_response(page)),
        response("https://n.example/b", http_response(page, status="404 Not Found")),
        warc_record([("WARC-Type", "request"), ("WARC-Target-URI", "https://n.example/a")],
                    b"GET /a HTTP/1.1\r\n\r\n"),
        response("https://n.example/c", http_response(page))])
    data = (tmp_path / name).read_bytes()
    chance = random.Random(15)
    damaged = [bytearray(data) for _ in range(400)]
    for copy in damaged:
        copy[chance.randrange(len(copy))] = chance.randrange(256)
    for variant in [data[:cut] for cut in range(0, len(data), 5)] + [bytes(d) for d in damaged]:
        (tmp_path / name).write_bytes(variant)
        for found in read(tmp_path / name):
            assert isinstance(found, Record | Skipped)


# --- walking folders, and large files (issue 15, item 13) ---------------------------------


def names(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() if isinstance(p, Path) else f"skip {p.origin}"
            for p in files(root)]


def test_a_symlink_loop_is_walked_once(tmp_path: Path) -> None:
    """The issue's tree: one .txt and sub/up -> .. read 41 files (until ELOOP)."""
    (tmp_path / "a.txt").write_text("T\nPutin spoke.")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to("..")
    (tmp_path / "sub" / "b.txt").write_text("T\nKim spoke.")
    (tmp_path / "sub" / "deeper").mkdir()
    (tmp_path / "sub" / "deeper" / "top").symlink_to(tmp_path)  # an absolute loop too
    assert names(tmp_path) == ["a.txt", "sub/b.txt"]


def test_a_file_met_under_a_second_name_is_read_once(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "x.txt").write_text("T\nx")
    (outside / "folder" / "y.txt").write_text("T\ny")
    (root / "zz").mkdir(parents=True)
    (root / "zz" / "real.txt").write_text("T\nreal")
    (root / "a.txt").write_text("T\na")
    (root / "0-first.txt").symlink_to(root / "zz" / "real.txt")  # met before the file itself
    (root / "link-to-a.txt").symlink_to("a.txt")  # met after it
    os.link(root / "a.txt", root / "zz" / "hard.txt")
    (root / "l1.txt").symlink_to(outside / "x.txt")  # two links to one file outside
    (root / "l2.txt").symlink_to(outside / "x.txt")
    (root / "m").symlink_to(outside / "folder")  # two links to one folder outside
    (root / "n").symlink_to(outside / "folder")
    (root / "dead.txt").symlink_to(tmp_path / "nowhere.txt")  # reported by read()
    assert names(root) == ["0-first.txt", "a.txt", "dead.txt", "l1.txt", "m/y.txt"]
    dead = one(root / "dead.txt")
    assert isinstance(dead, Skipped) and dead.reason.startswith("cannot be read")


def test_the_walk_is_lazy(tmp_path: Path) -> None:
    """A folder is listed when the walk reaches it, and nothing is collected beforehand:
    a file created in a later folder after the walk began is found."""
    for name in ("a/1.txt", "b/2.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("T\nx")
    walk = files(tmp_path)
    assert next(walk) == tmp_path / "a" / "1.txt"
    (tmp_path / "b" / "0.txt").write_text("T\nx")
    assert list(walk) == [tmp_path / "b" / "0.txt", tmp_path / "b" / "2.txt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can list any folder")
def test_a_folder_that_cannot_be_listed_is_a_skip(tmp_path: Path) -> None:
    (tmp_path / "closed").mkdir()
    (tmp_path / "z.txt").write_text("T\nx")
    (tmp_path / "closed").chmod(0)
    try:
        assert names(tmp_path) == [f"skip {tmp_path / 'closed'}", "z.txt"]
    finally:
        (tmp_path / "closed").chmod(0o755)


def test_a_page_larger_than_the_limit_is_skipped_unread(tmp_path: Path) -> None:
    """The issue's 50 MB files: neither read nor extracted (sparse files: no disk used)."""
    for name in ("big.txt", "big.html"):
        with (tmp_path / name).open("wb") as handle:
            handle.truncate(50_000_000)
    (tmp_path / "bomb.html.gz").write_bytes(gzip.compress(b"<p>x</p>" * 1_500_000))
    for name in ("big.txt", "big.html"):
        assert one(tmp_path / name) == Skipped(
            str(tmp_path / name), "file larger than fetch.max_bytes (10,000,000 bytes)")
    assert one(tmp_path / "bomb.html.gz").reason == (  # type: ignore[union-attr]
        "file (once decompressed) larger than fetch.max_bytes (10,000,000 bytes)")
    (tmp_path / "a.json").write_text(json.dumps([{"url": "https://n.example/1",
                                                  "html": "<p>x</p>" * 200}]))
    assert isinstance(one(tmp_path / "a.json"), Record)
    assert list(read(tmp_path / "a.json", 1000)) == [Skipped(  # fetch.max_bytes is set
        f"{tmp_path / 'a.json'}#1", "'html' or 'text' larger than fetch.max_bytes (1,000 bytes)")]


@pytest.mark.parametrize("name", ["many.jsonl", "many.jsonl.gz"])
def test_json_lines_are_read_a_line_at_a_time(tmp_path: Path, name: str) -> None:
    """A JSON Lines archive may be larger than the limit (only a line may not)."""
    lines = [json.dumps({"url": f"https://n.example/{n}", "text": "Putin spoke. " * 5})
             for n in range(100)]
    lines[50] = json.dumps({"url": "https://n.example/long", "text": "Putin spoke. " * 100})
    data = "\n".join(lines).encode()
    (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    assert len(data) > 10_000
    found = list(read(tmp_path / name, 1000))
    assert [type(f) for f in found] == [Record] * 50 + [Skipped] + [Record] * 49
    assert found[50] == Skipped(f"{tmp_path / name}:51",
                                "line larger than fetch.max_bytes (1,000 bytes)")
    assert found[51].url == "https://n.example/51"  # type: ignore[union-attr]


def test_a_truncated_json_lines_archive_keeps_the_lines_before_the_cut(tmp_path: Path) -> None:
    lines = [json.dumps({"url": f"https://n.example/{n}", "text": f"Story {n}" * 50})
             for n in range(200)]
    data = gzip.compress("\n".join(lines).encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(data[:len(data) // 2])
    found = list(read(tmp_path / "cut.jsonl.gz"))
    assert all(isinstance(f, Record) for f in found[:-1]) and len(found) > 2
    last = found[-1]
    assert isinstance(last, Skipped), last
    assert last.origin == f"{tmp_path / 'cut.jsonl.gz'}:{len(found)}"
    assert last.reason.startswith(f"cannot be read from line {len(found)} on: ")
