"""Real servers on 127.0.0.1 (port 0): pages and feeds, webhook receivers, SMTP, a TCP proxy."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


SMTP_USER, SMTP_PASSWORD = "monitor", "s3cret-pass"


@dataclass
class Mailbox:
    """What the SMTP server received; ``refuse``: replies to give to the next messages."""

    port: int
    ca_file: str
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


def free_port() -> int:
    """A port nobody listens on now (for servers that must be told their port)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_smtp(test_ca: tuple[object, str], implicit_tls: bool) -> Iterator[Mailbox]:
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ca, ca_file = test_ca
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)  # type: ignore[attr-defined]
    box = Mailbox(free_port(), ca_file)

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
