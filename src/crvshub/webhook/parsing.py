"""Parse subscription requests: OpenCRVS JSON `{"hub": {...}}` or W3C WebSub form fields."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson

from crvshub.errors import BadRequest
from crvshub.webhook import domain
from crvshub.webhook.errors import InvalidSubscription
from crvshub.webhook.service import SubscribeRequest

FORM = "application/x-www-form-urlencoded"
HUB_FIELDS = ("callback", "mode", "topic", "secret", "payload")


def parse_subscribe(content_type: str, body: bytes) -> SubscribeRequest:
    """Return the subscription request of a body, in the style its content type says."""
    if content_type.split(";", 1)[0].strip().lower() == FORM:
        return _parse_form(body)
    return _parse_json(body)


def hub_topic(content_type: str, body: bytes) -> str | None:
    """Return the raw topic of a request body, if it can be read (for denial bodies)."""
    try:
        return parse_subscribe(content_type, body).topic or None
    except Exception:
        return None


def _parse_json(body: bytes) -> SubscribeRequest:
    try:
        data: Any = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Malformed JSON: {exc}") from None
    hub = data.get("hub") if isinstance(data, dict) else None
    if not isinstance(hub, dict):
        raise InvalidSubscription('The body must be {"hub": {"callback", "mode", "topic", '
                                  '"secret"}}', expression="hub")
    values: dict[str, str] = {}
    for name in HUB_FIELDS:
        value = hub.get(name, "")
        if not isinstance(value, str):
            raise InvalidSubscription(f"hub.{name} must be a string", expression=f"hub.{name}")
        values[name] = value
    return SubscribeRequest(
        style=domain.STYLE_OPENCRVS, callback=values["callback"].strip(), mode=values["mode"],
        topic=values["topic"], secret=values["secret"],
        payload=values["payload"] or domain.PAYLOAD_FULL,
    )


def _parse_form(body: bytes) -> SubscribeRequest:
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"Malformed form body: {exc}") from None
    lease_raw = fields.get("hub.lease_seconds", "").strip()
    lease: int | None = None
    if lease_raw:
        if not lease_raw.isdigit():
            raise InvalidSubscription("hub.lease_seconds must be a whole number of seconds",
                                      expression="hub.lease_seconds")
        lease = int(lease_raw)
    return SubscribeRequest(
        style=domain.STYLE_WEBSUB, callback=fields.get("hub.callback", "").strip(),
        mode=fields.get("hub.mode", ""), topic=fields.get("hub.topic", ""),
        secret=fields.get("hub.secret", ""), lease_seconds=lease,
        payload=fields.get("hub.payload", "") or domain.PAYLOAD_FULL,
    )
