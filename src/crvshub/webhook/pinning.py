"""Connections to callback URLs: resolve the host once, check every address, connect to it.

The check and the connection use the same DNS answer, so a host that answers a public address
to the check and a private one to the connection (DNS rebinding) cannot reach the inside. The
URL keeps its host name: the `Host` header, TLS SNI and certificate check use the name.
"""

from __future__ import annotations

import functools
import socket
import ssl
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import httpcore
import httpx

if TYPE_CHECKING:
    from crvshub.webhook.callbacks import AddressPolicy


class AddressRefused(Exception):
    """A callback host resolves to an address the operator's policy refuses."""

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(f"{host} resolves to a private, loopback or link-local address")


def _addresses(infos: Iterable[Sequence[Any]]) -> list[str]:
    found: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in found:
            found.append(address)
    return found


def checked(policy: AddressPolicy, host: str, infos: Iterable[Sequence[Any]]) -> list[str]:
    """Return the addresses to try, in resolver order, or raise if any is refused."""
    addresses = _addresses(infos)
    if not addresses:
        raise httpcore.ConnectError(f"{host} has no address")
    if policy.host_allowlisted(host):
        return addresses
    if not all(policy.address_allowed(address) for address in addresses):
        raise AddressRefused(host)
    return addresses


class PinnedBackend(httpcore.SyncBackend):
    """The blocking network backend, connecting only to addresses the policy allows."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve, check and connect to the first address that answers."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise httpcore.ConnectError(f"{host} cannot be resolved") from None
        error: httpcore.ConnectError | None = None
        for address in checked(self.policy, host, infos):
            try:
                return super().connect_tcp(address, port, timeout, local_address,
                                           socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error


class PinnedAsyncBackend(httpcore.AnyIOBackend):
    """The asynchronous network backend, connecting only to addresses the policy allows."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve, check and connect to the first address that answers."""
        try:
            with anyio.fail_after(timeout):
                infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError, TimeoutError):
            raise httpcore.ConnectError(f"{host} cannot be resolved") from None
        error: httpcore.ConnectError | None = None
        for address in checked(self.policy, host, infos):
            try:
                return await super().connect_tcp(address, port, timeout, local_address,
                                                 socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds: done once per process, not per call.
    return httpx.create_ssl_context()


def client(policy: AddressPolicy, timeout: httpx.Timeout, limits: httpx.Limits,
           headers: dict[str, str] | None = None) -> httpx.Client:
    """Return a blocking HTTP client that never follows redirects and checks each connection."""
    transport = httpx.HTTPTransport(verify=_ssl_context(), limits=limits)
    # httpx takes no network backend: its connection pool is rebuilt with ours.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=_ssl_context(), max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry, network_backend=PinnedBackend(policy),
    )
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False,
                        headers=headers)


def async_client(policy: AddressPolicy, timeout: httpx.Timeout,
                 headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    """Return an async HTTP client that never follows redirects and checks each connection."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=0)
    transport = httpx.AsyncHTTPTransport(verify=_ssl_context(), limits=limits)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=_ssl_context(), max_connections=1, max_keepalive_connections=0,
        network_backend=PinnedAsyncBackend(policy),
    )
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False,
                             headers=headers)


def peer_address(response: httpx.Response) -> str | None:
    """Return the IP address a response came from, when the connection tells it."""
    stream = response.extensions.get("network_stream")
    try:
        peer = stream.get_extra_info("server_addr") if stream is not None else None
    except OSError:
        return None
    return str(peer[0]) if isinstance(peer, tuple) and peer else None
