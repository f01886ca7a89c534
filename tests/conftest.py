from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, settings

from monitor.match import Matcher
from monitor.store import Store
from monitor.watchlist import Watchlist, load_watchlists, parse_watchlist

ROOT = Path(__file__).resolve().parent.parent

# --- property tests: reproducible in CI, randomised on a developer's machine ---------------
# "ci" (CI=true, as .ci/run sets): the same examples every run (derandomize), no example
# database, a failure printed with its reproduction blob.  "dev" (the default): random
# examples, failures remembered in .hypothesis/.  "fuzz" (HYPOTHESIS_PROFILE=fuzz, README
# "Reliability"): random and FUZZ_FACTOR times as many examples, for long runs by hand.
# HYPOTHESIS_PROFILE names a profile explicitly.
FUZZ_FACTOR = 50
_BASE = settings.get_profile("default")  # Hypothesis's own (its import may load "ci")
settings.register_profile("dev", _BASE, deadline=None)
settings.register_profile("ci", _BASE, derandomize=True, database=None, print_blob=True,
                          deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", _BASE, deadline=None, max_examples=100 * FUZZ_FACTOR,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _CI else "dev"))


def examples(n: int) -> int:
    """A property test's example count: ``n``, or FUZZ_FACTOR times more under "fuzz"."""
    return n * FUZZ_FACTOR if settings.get_current_profile_name() == "fuzz" else n


def watchlist_from_yaml(text: str, path: str = "test.yaml") -> Watchlist:
    watchlist, problems = parse_watchlist(text, path)
    assert not problems, problems
    assert watchlist is not None
    return watchlist


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """`monitor run` called in-process points the root logger at the stdout of its test
    (pytest's capture); later tests must not log into that closed file."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def seed_watchlists() -> list[Watchlist]:
    return load_watchlists(ROOT / "watchlists")


@pytest.fixture(scope="session")
def seed_matcher(seed_watchlists: list[Watchlist]) -> Matcher:
    return Matcher(seed_watchlists)


@pytest.fixture(scope="session")
def seed_text() -> str:
    return next((ROOT / "seeds").glob("*.txt")).read_text(encoding="utf-8")


# --- databases: every storage test runs on SQLite and on PostgreSQL -----------------------

POSTGRES_URL = os.environ.get("MONITOR_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_or_skip() -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:
        reason = f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"
        if os.environ.get("MONITOR_REQUIRE_POSTGRES"):
            pytest.fail(reason + " (MONITOR_REQUIRE_POSTGRES is set)")
        pytest.skip(reason)
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    return _postgres_or_skip()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    yield s
    s.close()


# --- a real HTTP server on 127.0.0.1 -------------------------------------------------------

Handler = Callable[["Request"], "Reply"]


@dataclass
class Request:
    path: str
    headers: dict[str, str]


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterator[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow server)


class _Loopback:
    """A threaded HTTP server on 127.0.0.1 (port 0) with a request handler class."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Server(_Loopback):
    """Routes path -> Reply (or a function of the request); records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply | Handler] = {}
        self.requests: list[Request] = []
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()})
                server.requests.append(request)
                route = server.routes.get(self.path.split("?")[0]) or server.routes.get(self.path)
                if route is None:
                    reply = Reply(404, b"not found")
                else:
                    reply = route(request) if callable(route) else route
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    if isinstance(reply.body, bytes):
                        self.send_header("Content-Length", str(len(reply.body)))
                        self.end_headers()
                        self.wfile.write(reply.body)
                    else:
                        self.send_header("Connection", "close")
                        self.end_headers()
                        for chunk in reply.body:
                            self.wfile.write(chunk)
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._serve(_Handler)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path.split("?")[0] == path)


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture
def hosts(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """More names for the loopback servers (the test's /etc/hosts): name -> address, seen by
    the fetcher's resolver; other names resolve as usual."""
    from monitor import netguard

    table: dict[str, str] = {}
    system = netguard.system_resolver
    monkeypatch.setattr(netguard, "system_resolver", lambda host, port: (
        [table[host]] if host in table else system(host, port)))
    return table


def rss(items: list[dict[str, str]], title: str = "Test feed") -> bytes:
    """A small RSS 2.0 document; each item: title, link, guid, description, pubDate."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
             f"<title>{title}</title><link>http://example.org/</link>"]
    for item in items:
        parts.append("<item>" + "".join(
            f"<{k}>{escape(v)}</{k}>" for k, v in item.items()) + "</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def article_html(title: str, paragraphs: list[str], canonical: str | None = None,
                 lang: str = "en") -> bytes:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title>{link}</head><body><nav>Home | World | Sport</nav>"
            f"<article><h1>{escape(title)}</h1>{body}</article>"
            f"<footer>Comentarios (0) · Copyright</footer></body></html>").encode()


# --- a real SMTP server (aiosmtpd) on 127.0.0.1, with STARTTLS/SSL and AUTH ---------------


SMTP_USER, SMTP_PASSWORD = "monitor", "s3cret-pass"


@dataclass
class Mailbox:
    """What the SMTP server received; ``refuse``: replies to give to the next messages."""

    port: int
    ca_file: str
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str]:
    import trustme

    ca = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


def _smtp(test_ca: tuple[object, str], implicit_tls: bool) -> Iterator[Mailbox]:
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ca, ca_file = test_ca
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)  # type: ignore[attr-defined]
    box = Mailbox(_free_port(), ca_file)

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            if box.refuse:
                return box.refuse.pop(0)
            box.messages.append((envelope.mail_from, list(envelope.rcpt_tos),  # type: ignore
                                 envelope.original_content))  # type: ignore[attr-defined]
            return "250 OK"

    def authenticator(server: object, session: object, envelope: object, mechanism: str,
                      data: object) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and data.login.decode() == SMTP_USER
              and data.password.decode() == SMTP_PASSWORD)
        if isinstance(data, LoginPassword):
            box.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    tls = {"ssl_context": context} if implicit_tls else {"tls_context": context,
                                                          "require_starttls": True}
    # implicit TLS: aiosmtpd does not see the session as TLS, so it must not insist on it
    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port,
                            authenticator=authenticator, auth_required=True,
                            auth_require_tls=not implicit_tls,
                            auth_exclude_mechanism=["LOGIN"], **tls)  # type: ignore[arg-type]
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(test_ca: tuple[object, str]) -> Iterator[Mailbox]:
    """STARTTLS on a plain port, AUTH required (user monitor)."""
    yield from _smtp(test_ca, implicit_tls=False)


@pytest.fixture
def smtps_server(test_ca: tuple[object, str]) -> Iterator[Mailbox]:
    """TLS from the first byte (port 465 style), AUTH required."""
    yield from _smtp(test_ca, implicit_tls=True)


# --- a real webhook receiver on 127.0.0.1 that checks signatures -------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver(_Loopback):
    """Answers POSTs with the statuses in ``replies`` (then 200) and the ``headers``;
    records every request.  ``trickle``: seconds between the bytes of a long answer."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.replies: list[int] = []
        self.headers: dict[str, str] = {}
        self.trickle = 0.0
        self.delay = 0.0  # seconds before answering (after recording the request)
        receiver = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(Received(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.replies.pop(0) if receiver.replies else 200
                reply = b"ok" if status < 300 else b"try again later"
                time.sleep(receiver.delay)
                self.send_response(status)
                for key, value in receiver.headers.items():
                    self.send_header(key, value)
                if receiver.trickle:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    for _ in range(200):
                        try:
                            self.wfile.write(b"x")
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(receiver.trickle)
                    return
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._serve(_Handler)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


# --- a TCP proxy, to take a database away and bring it back ------------------------------


class Proxy:
    """Forwards 127.0.0.1:<port> to a target; ``stop()`` drops the listener and every
    connection (the database "goes away"), ``start()`` listens again on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        import socket

        self.target = target
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.port = 0
        self.start()

    def start(self) -> None:
        import socket

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: object) -> None:
        import socket

        assert isinstance(listener, socket.socket)
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: object, sink: object) -> None:
        import socket

        assert isinstance(source, socket.socket) and isinstance(sink, socket.socket)
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        import socket

        if self.listener is not None:
            # shutdown wakes the thread blocked in accept(); close() alone would not
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.sockets = []


# --- the store's invariants, checked after every fault -----------------------------------


@dataclass
class Counts:
    articles: int
    items: int
    stories: int
    hits: int


def assert_consistent(store: Store) -> Counts:
    """Nothing duplicated, nothing half-written: one article per canonical URL, one hit per
    (story, watchlist, entry), no story without articles, every hit's article in its story,
    every item's article present; SQLite's own integrity check.  Returns the counts."""
    from sqlalchemy import func, select, text

    from monitor.store.models import Article, Hit, Item, Story

    with store.engine.connect() as c:
        def one(query: Any) -> int:
            return int(c.execute(query).scalar_one())

        counts = Counts(*(one(select(func.count()).select_from(model))
                          for model in (Article, Item, Story, Hit)))
        assert one(select(func.count(func.distinct(Article.canonical_url)))) == counts.articles
        dupes = c.execute(select(Hit.story_id, Hit.watchlist, Hit.entry).group_by(
            Hit.story_id, Hit.watchlist, Hit.entry).having(func.count() > 1)).all()
        assert dupes == []
        assert one(select(func.count()).select_from(Story).where(
            ~select(Article.id).where(Article.story_id == Story.id).exists())) == 0
        assert one(select(func.count()).select_from(Hit).join(
            Article, Article.id == Hit.article_id).where(Article.story_id != Hit.story_id)) == 0
        assert one(select(func.count()).select_from(Item).where(
            Item.article_id.is_not(None),
            ~select(Article.id).where(Article.id == Item.article_id).exists())) == 0
        if store.engine.dialect.name == "sqlite":
            assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    return counts
