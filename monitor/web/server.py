"""uvicorn on a thread with its own event loop: how `monitor run` serves /healthz, /metrics
and the web interface next to its scheduler, and how `monitor web` serves the interface.

The socket is bound before the thread starts, so a port in use stops the start with a
message (and port 0 gets a port the caller can read).  The daemon keeps its own signal
handling: uvicorn installs none off the main thread, and ``close`` asks it to stop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

import uvicorn
from starlette.types import ASGIApp

from monitor.errors import MonitorError

SHUTDOWN = 5.0  # seconds open requests get when the server stops (within the daemon's grace)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``, or MonitorError saying what to change."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise MonitorError(f"server: cannot listen on {host}:{port}: {exc.strerror or exc} "
                           "(set server.host to an address of this host)") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:  # in use, or not an address of this host
        sock.close()
        raise MonitorError(f"server: cannot listen on {host}:{port}: {exc.strerror or exc} "
                           "(is monitor already running? set server.port, or server: "
                           "false)") from exc
    sock.set_inheritable(True)
    return sock


class ThreadedServer:
    """Serve ``app`` on ``host:port`` until ``close``."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.socket = bind(host, port)
        self.port = int(self.socket.getsockname()[1])
        config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False,
                                lifespan="off",
                                proxy_headers=False, server_header=False,
                                timeout_graceful_shutdown=int(SHUTDOWN))
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="web", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(self.server.serve(sockets=[self.socket]))

    def close(self, timeout: float = SHUTDOWN + 2) -> None:
        """Stop taking connections, give open requests up to SHUTDOWN seconds."""
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(1.0)
        self.socket.close()
