"""Webhook rules: topics, signatures, retry schedule, payload filtering (pure: stdlib only)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import ipaddress
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

EVENTS = ("BIRTH", "DEATH")
ACTIONS = (
    "NOTIFIED", "DECLARED", "VALIDATED", "WAITING_VALIDATION", "REGISTERED", "REJECTED",
    "CERTIFIED", "ISSUED", "ARCHIVED", "REINSTATED", "CORRECTION_REQUESTED", "CORRECTED",
)
# A registered death reversed by a registrar (the person is alive): deaths only.
TOPICS = frozenset(f"{event}_{action}" for event in EVENTS for action in ACTIONS) | {
    "DEATH_REVERSED"}

STYLE_OPENCRVS = "opencrvs"
STYLE_WEBSUB = "websub"
PAYLOAD_FULL = "full"
PAYLOAD_THIN = "thin"
SECRET_CONTEXT = b"crvshub:webhook-secret"  # binds encrypted secrets to their use

# Sections a NATIONAL_ID client receives (its permissions are fixed, as in OpenCRVS).
NATIONAL_ID_SECTIONS = {
    "birth": ("child-details", "mother-details", "father-details", "supporting-documents",
              "informant-details"),
    "death": ("deceased-details", "supporting-documents", "informant-details", "death-encounter"),
}

# Delay before each retry: 5 s, 30 s, 2 min, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h
# (~75.7 h). The early steps are short so that a receiver back after a minute's outage is
# caught up within seconds, not after five minutes.
DEFAULT_RETRY_SCHEDULE = (5, 30, 120, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
RETRY_AFTER_CAP = 86400.0
JITTER = 0.1
RESPONSE_EXCERPT_BYTES = 256

WEBSUB_DEFAULT_LEASE = 10 * 86400
WEBSUB_MIN_LEASE = 300
WEBSUB_MAX_LEASE = 365 * 86400

# encodeURIComponent leaves these unescaped besides letters and digits.
_URI_COMPONENT_SAFE = "-_.!~*'()"


def callback_origin(url: str) -> str:
    """Return the origin of a callback URL (scheme, lower-case host, port), for grouping."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme.lower()
    port = port or (443 if scheme == "https" else 80)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def origin_prefix(url: str) -> str:
    """Return the callback URL up to its path, as stored (a prefix of same-origin callbacks)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def topic_event(topic: str) -> str:
    """Return "birth" or "death" for a topic name."""
    return topic.split("_", 1)[0].lower()


def normalise_topic(raw: str) -> str:
    """Return the topic name of a raw `hub.topic` (a name, or a URL ending with the name)."""
    return raw.strip().rstrip("/").rsplit("/", 1)[-1].upper()


def parse_schedule(raw: str) -> tuple[float, ...]:
    """Parse a comma-separated list of retry delays in seconds."""
    values = tuple(float(part) for part in raw.split(",") if part.strip())
    if not values or any(v < 0 for v in values):
        raise ValueError("the retry schedule must be a list of non-negative seconds")
    return values


def retry_delay(
    step: int, schedule: Sequence[float], retry_after: float | None,
    rng: random.Random | None = None,
) -> timedelta | None:
    """Return the wait before the next attempt after failed attempt `step`, or None to give up."""
    if step >= len(schedule):
        return None
    if retry_after is not None:
        return timedelta(seconds=min(max(retry_after, 0.0), RETRY_AFTER_CAP))
    base = schedule[step]
    spread = (rng or random).uniform(-JITTER, JITTER)
    return timedelta(seconds=base * (1 + spread))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Return the seconds a `Retry-After` header asks for (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def clamp_lease(requested: int | None) -> int:
    """Return the WebSub lease granted for a requested `hub.lease_seconds`."""
    if requested is None:
        return WEBSUB_DEFAULT_LEASE
    return max(WEBSUB_MIN_LEASE, min(requested, WEBSUB_MAX_LEASE))


def encode_uri_component(text: str) -> str:
    """Percent-encode like JavaScript's encodeURIComponent."""
    return quote(text, safe=_URI_COMPONENT_SAFE)


def opencrvs_signature(body: str, secret: str) -> str:
    """Return the OpenCRVS `X-Hub-Signature` value of a body."""
    message = "sha256:" + encode_uri_component(body)
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def websub_signature(body: str, secret: str) -> str:
    """Return the W3C WebSub `X-Hub-Signature` value: HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def standard_signature(msg_id: str, timestamp: int, body: str, secret: str) -> str:
    """Return the Standard Webhooks `webhook-signature` value (`v1,<base64>`)."""
    content = f"{msg_id}.{timestamp}.{body}".encode()
    mac = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def section_codes(section: dict[str, Any]) -> set[str]:
    """Return the codes of a Composition section."""
    codings = (section.get("code") or {}).get("coding") or []
    return {str(c.get("code")) for c in codings if c.get("code")}


def _entry_keys(entry: dict[str, Any]) -> set[str]:
    resource = entry.get("resource") or {}
    keys = {str(entry.get("fullUrl", ""))}
    if resource.get("id"):
        keys |= {f"urn:uuid:{resource['id']}", f"{resource.get('resourceType')}/{resource['id']}"}
    return keys


def filter_bundle(bundle: dict[str, Any], sections: Iterable[str] | None) -> dict[str, Any]:
    """Return a copy of a record bundle with the Task and the permitted sections' resources.

    `sections=None` means the whole bundle.
    """
    if sections is None:
        return copy.deepcopy(bundle)
    allowed = set(sections)
    entries = bundle.get("entry") or []
    refs: set[str] = set()
    for entry in entries:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "Composition":
            continue
        for section in resource.get("section") or []:
            if section_codes(section) & allowed:
                refs |= {str(e.get("reference")) for e in section.get("entry") or []}
    kept = [
        copy.deepcopy(entry)
        for entry in entries
        if (entry.get("resource") or {}).get("resourceType") == "Task" or _entry_keys(entry) & refs
    ]
    return {**{k: v for k, v in bundle.items() if k != "entry"}, "entry": kept}


def thin_bundle(bundle: dict[str, Any]) -> dict[str, Any]:
    """Return a bundle with only a Task stripped of personal data (ids and status)."""
    kept = []
    for entry in bundle.get("entry") or []:
        task = entry.get("resource") or {}
        if task.get("resourceType") != "Task":
            continue
        slim = {k: task[k] for k in ("resourceType", "id", "identifier", "businessStatus",
                                     "focus", "lastModified", "status") if k in task}
        kept.append({"fullUrl": entry.get("fullUrl"), "resource": copy.deepcopy(slim)})
    return {**{k: v for k, v in bundle.items() if k != "entry"}, "entry": kept}


def permitted_sections(
    client_type: str, permissions: Sequence[dict[str, Any]], event: str
) -> list[str]:
    """Return the Composition section codes a client may receive for an event."""
    if client_type == "NATIONAL_ID":
        return list(NATIONAL_ID_SECTIONS.get(event, ()))
    for item in permissions:
        if str(item.get("event", "")).lower() == event:
            return [str(p) for p in item.get("permissions") or []]
    return []


def iso_millis(at: datetime) -> str:
    """Format a time like JavaScript's toISOString (UTC, milliseconds, Z)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


LOOPBACK_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 prefixes that carry an IPv4 address: calling them reaches that IPv4 host.
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215) and Teredo hide where they lead: never public.
OPAQUE_WRAPPERS = (ipaddress.IPv6Network("64:ff9b:1::/48"), ipaddress.IPv6Network("2001::/32"))


def unwrap_address(address: str) -> IPAddress | None:
    """Return the address a host really reaches (the IPv4 inside mapped, NAT64 and 6to4 forms).

    None means an address whose destination cannot be told (local NAT64, Teredo).
    """
    ip = ipaddress.ip_address(address)
    if not isinstance(ip, ipaddress.IPv6Address):
        return ip
    if any(ip in net for net in OPAQUE_WRAPPERS):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return ip


def address_is_public(address: str) -> bool:
    """Tell whether an IP address is globally routable (not private, loopback, link-local...)."""
    ip = unwrap_address(address)
    if ip is None:
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def address_is_loopback(address: str) -> bool:
    """Tell whether an IP address is a loopback address (also inside an IPv6 wrapper)."""
    ip = unwrap_address(address)
    return ip is not None and any(ip in net for net in LOOPBACK_NETWORKS
                                  if net.version == ip.version)


def address_in(address: str, allowlist: Iterable[str]) -> bool:
    """Tell whether an IP address is in one of the allowlisted addresses or networks."""
    ip = ipaddress.ip_address(address)
    inner = unwrap_address(address)
    for item in allowlist:
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            continue
        if any(a is not None and a.version == network.version and a in network
               for a in (ip, inner)):
            return True
    return False
