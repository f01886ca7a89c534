"""Where monitor may connect: the address guard for feeds, pages and webhooks (SSRF).

Feed content is untrusted (a feed links anywhere; a page redirects anywhere) and so is a
webhook URL copied from a chat.  Unless private addresses are explicitly allowed, every
connection resolves its host once, refuses it if any address is not a public one
(loopback, private, link-local such as the 169.254.169.254 metadata service, shared,
multicast, reserved), and then connects to the very address it checked: a DNS answer that
changes between the check and the connection (DNS rebinding) cannot slip through.

The guard sits in httpcore's network backend, under httpx, so it holds for every hop of a
redirect chain and every new connection of the pool.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any

import anyio
import httpcore
import httpx

Resolver = Callable[[str, int], list[str]]


class AddressBlocked(httpcore.ConnectError):
    """A host resolved to an address that is not public (its message says how to allow it)."""


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (an IPv4-mapped IPv6 as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses, in the order the system prefers them."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Policy:
    """Which addresses a connection may reach; ``resolver`` and ``public`` are injectable
    (tests play DNS rebinding with them)."""

    def __init__(self, allow_private: bool, setting: str, *, resolver: Resolver | None = None,
                 public: Callable[[str], bool] = is_public) -> None:
        self.allow_private = allow_private
        self.setting = setting  # named in the refusal, e.g. "fetch.allow_private_addresses"
        self.resolver = resolver or system_resolver
        self.public = public

    def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to; raises AddressBlocked or ConnectError."""
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise httpcore.ConnectError(f"cannot resolve {host}: {reason}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}: no address")
        if not self.allow_private:
            for address in addresses:
                if not self.public(address):
                    raise AddressBlocked(
                        f"{host} resolves to {address}, a private or local address "
                        f"(set {self.setting} to allow it)")
        return addresses


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await anyio.to_thread.run_sync(self.policy.addresses, host, port)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address,
                                                    socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not used")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _SyncBackend(httpcore.NetworkBackend):
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in self.policy.addresses(host, port):
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address,
                                              socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error


def async_transport(policy: Policy, limits: httpx.Limits,
                    verify: ssl.SSLContext | bool = True) -> httpx.AsyncHTTPTransport:
    """httpx's own transport, its connection pool built on the guarded backend."""
    transport = httpx.AsyncHTTPTransport(limits=limits, verify=verify)
    transport._pool = httpcore.AsyncConnectionPool(  # the one seam httpx offers for this
        ssl_context=httpx.create_ssl_context(verify=verify),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_AsyncBackend(policy),
    )
    return transport


def sync_transport(policy: Policy, verify: ssl.SSLContext | bool = True) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(verify=verify)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify),
        network_backend=_SyncBackend(policy),
    )
    return transport


def blocked_reason(exc: BaseException) -> str | None:
    """The refusal's message if an httpx error came from the guard, else None."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, AddressBlocked):
            return str(cause)
        cause = cause.__cause__ or cause.__context__
    return None
