"""The caller's address and scheme: X-Forwarded-For/-Proto believed from trusted proxies only."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = {"http": ("http", "https"), "websocket": ("ws", "wss")}


def parse_networks(value: str) -> tuple[Network, ...]:
    """Return the networks of a comma-separated list of IP addresses and CIDRs."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in value.split(",") if part.strip()
    )


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def forwarded_client(peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """Return the caller's address: the right-most hop of X-Forwarded-For not ours.

    Every trusted proxy appends the address it saw, so walking from the right past our own
    proxies reaches the first address nobody we trust vouches for beyond; anything left of it
    may be made up by the caller. An unreadable hop stops the walk at the last trusted one.
    """
    current = peer
    for hop in reversed(forwarded_for.split(",")):
        if not _trusted(_address(current), networks):
            break
        address = _address(hop)
        if address is None:
            break
        current = str(address)
    return current


def _header(scope: Scope, name: bytes) -> str:
    values = [v.decode("latin-1") for k, v in scope.get("headers") or [] if k == name]
    return ",".join(values)


class ProxyHeadersMiddleware:
    """Rewrite the client address and scheme from a trusted proxy's forwarding headers."""

    def __init__(self, app: ASGIApp, *, trusted: str) -> None:
        self.app = app
        self.networks = parse_networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.networks and scope["type"] in SCHEMES:
            self._rewrite(scope)
        await self.app(scope, receive, send)

    def _rewrite(self, scope: Scope) -> None:
        peer = (scope.get("client") or ("", 0))[0]
        if not _trusted(_address(peer), self.networks):
            return
        forwarded_for = _header(scope, b"x-forwarded-for")
        if forwarded_for:
            scope["client"] = (forwarded_client(peer, forwarded_for, self.networks), 0)
        proto = _header(scope, b"x-forwarded-proto").split(",")[-1].strip().lower()
        plain, secure = SCHEMES[scope["type"]]
        if proto in ("http", "https"):
            scope["scheme"] = secure if proto == "https" else plain


def client_address(request: Request) -> str | None:
    """Return the caller's IP address (the proxy's client when the proxy is trusted)."""
    return request.client.host if request.client else None


async def client_address_dependency(request: Request) -> str | None:
    """Return the caller's IP address (as a dependency that skips the thread pool)."""
    return client_address(request)


ClientAddressDep = Annotated[str | None, Depends(client_address_dependency)]
