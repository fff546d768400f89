"""Callback URLs: the address policy (SSRF guard) and the subscription intent check."""

from __future__ import annotations

import base64
import os
import socket
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import orjson

from crvshub import __version__
from crvshub.settings import Settings
from crvshub.webhook import domain
from crvshub.webhook.errors import CallbackInvalid, CallbackNotAllowed, VerificationFailed

USER_AGENT = f"CRVSHub-Webhooks/{__version__}"
MAX_CALLBACK_LENGTH = 2048


class AddressPolicy:
    """Which callback addresses this server may call, from the operator's settings."""

    def __init__(self, settings: Settings) -> None:
        self.allow_private = settings.webhook_allow_private
        # The local demo (`make serve`) talks to receivers on this machine: an explicit opt-in.
        self.allow_loopback = self.allow_private or settings.webhook_allow_loopback
        items = [i.strip().lower() for i in settings.webhook_allowlist.split(",") if i.strip()]
        self.allowlist = tuple(items)

    def address_allowed(self, address: str) -> bool:
        """Tell whether an IP address may be called."""
        if self.allow_private or domain.address_is_public(address):
            return True
        if self.allow_loopback and domain.address_is_loopback(address):
            return True
        return domain.address_in(address, self.allowlist)

    def check(self, url: str) -> None:
        """Raise if a callback URL is malformed or resolves to a refused address."""
        host, port = parse_callback(url)
        if host.lower() in self.allowlist:
            return
        for address in resolve(host, port):
            if not self.address_allowed(address):
                raise CallbackNotAllowed(
                    f"hub.callback host {host} resolves to {address}, a private, loopback or "
                    "link-local address; the operator can allow it with "
                    "CRVSHUB_WEBHOOK_ALLOWLIST"
                )


def parse_callback(url: str) -> tuple[str, int]:
    """Return the host and port of an absolute http(s) callback URL, or raise."""
    if not url or len(url) > MAX_CALLBACK_LENGTH:
        raise CallbackInvalid(f"hub.callback must be an http(s) URL of at most "
                              f"{MAX_CALLBACK_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise CallbackInvalid(f"hub.callback is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackInvalid()
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(host: str, port: int) -> list[str]:
    """Return every IP address a host name resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise CallbackInvalid(f"hub.callback host {host} cannot be resolved: {exc}") from None
    return sorted({str(info[4][0]).split("%", 1)[0] for info in infos})


def _client(settings: Settings) -> httpx.Client:
    timeout = httpx.Timeout(min(settings.webhook_read_timeout, 10.0),
                            connect=min(settings.webhook_connect_timeout, 5.0))
    return httpx.Client(timeout=timeout, follow_redirects=False,
                        headers={"User-Agent": USER_AGENT})


def new_challenge() -> str:
    """Return a random 24-character challenge, as OpenCRVS sends."""
    return base64.b64encode(os.urandom(16)).decode()


def verify_opencrvs(settings: Settings, callback: str, topic: str) -> None:
    """Send the OpenCRVS intent check and demand the `{"challenge": ...}` echo."""
    challenge = new_challenge()
    parts = urlsplit(callback)
    query = urlencode({"mode": "subscribe", "challenge": challenge, "topic": topic})
    url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))
    try:
        with _client(settings) as client:
            response = client.get(url, headers={"Content-Type": "application/json"})
        echoed = orjson.loads(response.content).get("challenge")
    except (httpx.HTTPError, orjson.JSONDecodeError, AttributeError) as exc:
        raise VerificationFailed(
            f"Subscription callback check failed: {type(exc).__name__}"
        ) from None
    if not response.is_success or echoed != challenge:
        raise VerificationFailed(
            f"Subscription callback check failed: the callback answered HTTP "
            f"{response.status_code} without the JSON echo {{\"challenge\": ...}}"
        )


def verify_websub(settings: Settings, callback: str, mode: str, topic: str,
                  lease_seconds: int | None) -> None:
    """Send the W3C WebSub intent check and demand the plain-text challenge echo."""
    challenge = new_challenge()
    parts = urlsplit(callback)
    params = parse_qsl(parts.query, keep_blank_values=True)
    params += [("hub.mode", mode), ("hub.topic", topic), ("hub.challenge", challenge)]
    if lease_seconds is not None:
        params.append(("hub.lease_seconds", str(lease_seconds)))
    url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(params), ""))
    try:
        with _client(settings) as client:
            response = client.get(url)
    except httpx.HTTPError as exc:
        raise VerificationFailed(
            f"Subscription callback check failed: {type(exc).__name__}"
        ) from None
    if not response.is_success or response.text.strip() != challenge:
        raise VerificationFailed(
            f"Subscription callback check failed: the callback answered HTTP "
            f"{response.status_code} without echoing hub.challenge"
        )
