"""Callback URLs: the address policy (SSRF guard) and the subscription intent check."""

from __future__ import annotations

import base64
import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import anyio
import httpx
import orjson
import structlog

from crvshub import __version__
from crvshub.settings import Settings
from crvshub.webhook import domain, pinning
from crvshub.webhook.errors import CallbackInvalid, CallbackNotAllowed, VerificationFailed

USER_AGENT = f"CRVSHub-Webhooks/{__version__}"
MAX_CALLBACK_LENGTH = 2048
MAX_ECHO_BYTES = 4096  # an echoed challenge is short; more is never read
VERIFICATION_FAILED = ("Subscription callback check failed: the callback URL did not answer "
                       "the verification request as required (a 2xx answer echoing the "
                       "challenge, within the time limit, without redirects)")
log = structlog.get_logger("crvshub.webhook")


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

    def host_allowlisted(self, host: str) -> bool:
        """Tell whether the operator allowlisted a host name (any address it resolves to)."""
        return host.lower().rstrip(".") in self.allowlist


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


def new_challenge() -> str:
    """Return a random 24-character challenge, as OpenCRVS sends."""
    return base64.b64encode(os.urandom(16)).decode()


async def verify_opencrvs(settings: Settings, callback: str, topic: str) -> None:
    """Send the OpenCRVS intent check and demand the `{"challenge": ...}` echo."""
    challenge = new_challenge()
    parts = urlsplit(callback)
    query = urlencode({"mode": "subscribe", "challenge": challenge, "topic": topic})
    url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))
    status, body = await _get(settings, url, {"Content-Type": "application/json"})
    try:
        echoed = orjson.loads(body).get("challenge")
    except (orjson.JSONDecodeError, AttributeError):
        echoed = None
    if not 200 <= status < 300 or echoed != challenge:
        raise _failed(url, f"HTTP {status} without the JSON challenge echo")


async def verify_websub(settings: Settings, callback: str, mode: str, topic: str,
                        lease_seconds: int | None) -> None:
    """Send the W3C WebSub intent check and demand the plain-text challenge echo."""
    challenge = new_challenge()
    parts = urlsplit(callback)
    params = parse_qsl(parts.query, keep_blank_values=True)
    params += [("hub.mode", mode), ("hub.topic", topic), ("hub.challenge", challenge)]
    if lease_seconds is not None:
        params.append(("hub.lease_seconds", str(lease_seconds)))
    url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(params), ""))
    status, body = await _get(settings, url, {})
    if not 200 <= status < 300 or body.decode("utf-8", "replace").strip() != challenge:
        raise _failed(url, f"HTTP {status} without the hub.challenge echo")


async def _get(settings: Settings, url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """GET an intent-check URL within the time limit; return the status and the body's start."""
    limit = settings.webhook_verify_timeout
    timeout = httpx.Timeout(limit, connect=min(settings.webhook_connect_timeout, limit))
    client = pinning.async_client(AddressPolicy(settings), timeout, {"User-Agent": USER_AGENT})
    try:
        with anyio.fail_after(limit):
            async with client, client.stream("GET", url, headers=headers) as response:
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) >= MAX_ECHO_BYTES:
                        break
                return response.status_code, body
    except pinning.AddressRefused as exc:
        raise CallbackNotAllowed(
            f"hub.callback host {exc.host} resolves to a private, loopback or link-local "
            "address; the operator can allow it with CRVSHUB_WEBHOOK_ALLOWLIST"
        ) from None
    except (httpx.HTTPError, TimeoutError) as exc:
        raise _failed(url, type(exc).__name__) from None


def _failed(url: str, detail: str) -> VerificationFailed:
    # The caller learns only that the check failed: details of what answered (a closed port,
    # a status, a protocol error) would map the inside of the network for them.
    log.info("webhook_intent_check_failed", host=urlsplit(url).hostname, detail=detail)
    return VerificationFailed(VERIFICATION_FAILED)
