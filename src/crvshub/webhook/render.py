"""JSON shapes of subscriptions, deliveries and attempts on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from crvshub.auth.domain import ClientSummary, creator_username
from crvshub.webhook import domain
from crvshub.webhook.models import Attempt, Delivery, Subscription

CREATED_BY_TYPE = {"WEBHOOK": "webhook", "NATIONAL_ID": "nationalId", "HEALTH": "health",
                   "RECORD_SEARCH": "recordsearch"}


def _iso(at: datetime | None) -> str | None:
    return domain.iso_millis(at) if at else None


def subscription_json(
    sub: Subscription, client: ClientSummary | None, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """Return a subscription as listed by `GET /webhooks` (OpenCRVS fields first)."""
    body: dict[str, Any] = {
        "id": sub.id,
        "callback": sub.callback,
        "createdAt": _iso(sub.created_at),
        "createdBy": {
            "client_id": client.client_id if client else None,
            "type": CREATED_BY_TYPE.get(client.type, client.type.lower()) if client else None,
            # The username of the admin who registered the client, as OpenCRVS (spec 5.1).
            "username": creator_username(client.created_by) if client else "",
            "name": client.name if client else None,
        },
        "topic": sub.topic,
        "status": sub.status,
        "statusReason": sub.status_reason,
        "statusChangedAt": _iso(sub.status_changed_at),
        "mode": sub.style,
        "payload": sub.payload_kind,
        "expiresAt": _iso(sub.expires_at),
        "lastSequence": sub.last_sequence,
        "consecutiveFailures": sub.consecutive_failures,
        "lastSuccessAt": _iso(sub.last_success_at),
    }
    if counts is not None:
        body["deliveries"] = counts
    return body


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    """Return one delivery attempt."""
    return {
        "at": _iso(attempt.at),
        "outcome": attempt.outcome,
        "statusCode": attempt.status_code,
        "latencyMs": attempt.latency_ms,
        "response": attempt.response_excerpt,
        "error": attempt.error,
    }


def delivery_json(
    delivery: Delivery, attempts: list[Attempt], *, with_body: bool = False
) -> dict[str, Any]:
    """Return one delivery with its attempts."""
    body: dict[str, Any] = {
        "id": delivery.id,
        "subscriptionId": delivery.subscription_id,
        "eventId": delivery.event_id,
        "topic": delivery.topic,
        "recordId": delivery.record_id,
        "sequence": delivery.sequence,
        "status": delivery.status,
        "createdAt": _iso(delivery.created_at),
        "nextAttemptAt": (_iso(delivery.next_attempt_at)
                          if delivery.status == "pending" else None),
        "deliveredAt": _iso(delivery.delivered_at),
        "attemptCount": delivery.attempts,
        "lastStatusCode": delivery.last_status_code,
        "lastError": delivery.last_error,
        "attempts": [attempt_json(a) for a in attempts],
    }
    if with_body:
        body["payload"] = orjson.loads(delivery.body)
    return body
