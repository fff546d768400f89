"""Fan-out: each domain event becomes one delivery per live subscription, same transaction."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.orm import Session

from crvshub.auth.domain import ClientSummary
from crvshub.db import new_id, utcnow
from crvshub.outbox.service import DomainEvent
from crvshub.outbox.wakeup import wake_on_commit
from crvshub.record import service as record_service
from crvshub.record.service import Record
from crvshub.webhook import domain, repository
from crvshub.webhook.models import Subscription


def build_payload(
    event: DomainEvent, record: Record | None, sub: Subscription, client: ClientSummary,
    delivery_id: str, sequence: int,
) -> dict[str, Any]:
    """Return the body of one delivery: OpenCRVS's shape (thin payloads add a few keys)."""
    bundle = record.bundle if record is not None else {"resourceType": "Bundle", "entry": []}
    event_name = domain.topic_event(event.topic)
    if sub.payload_kind == domain.PAYLOAD_THIN:
        context = domain.thin_bundle(bundle)
    else:
        sections = domain.permitted_sections(client.type, client.webhook_permissions, event_name)
        context = domain.filter_bundle(bundle, sections)
    # OpenCRVS's shape exactly (spec 5.5): `id` is the subscription id. The delivery id and
    # the sequence travel in headers (`webhook-id`, `X-CRVSHub-Sequence`).
    payload: dict[str, Any] = {
        "timestamp": domain.iso_millis(event.at),
        "id": sub.id,
        "event": {"hub": {"topic": event.topic}, "context": [context]},
    }
    if sub.payload_kind == domain.PAYLOAD_THIN:
        # The thin payload is CRVS Hub's own option: it may carry more keys.
        data = event.data or {}
        payload["deliveryId"] = delivery_id
        payload["sequence"] = sequence
        payload["record"] = {
            "id": event.record_id,
            "event": data.get("event", event_name),
            "trackingId": data.get("tracking_id", record.tracking_id if record else None),
            "status": data.get("status", record.status if record else None),
            "registrationNumber": data.get(
                "registration_number", record.registration_number if record else None
            ),
        }
    return payload


def fan_out(session: Session, event: DomainEvent) -> None:
    """Write a delivery (with its payload snapshot) for every live subscription of the topic."""
    now = utcnow()
    matches = repository.matching_subscriptions(session, event.topic, now)
    if not matches:
        return
    record = record_service.find(session, event.record_id) if event.record_id else None
    rows = []
    sequences = repository.next_sequences(session, [sub.id for sub, _ in matches])
    for sub, client in matches:
        delivery_id = new_id()
        sequence = sequences[sub.id]
        payload = build_payload(event, record, sub, client, delivery_id, sequence)
        rows.append({
            "id": delivery_id, "subscription_id": sub.id, "event_id": event.id,
            "topic": event.topic, "record_id": event.record_id, "sequence": sequence,
            "body": orjson.dumps(payload).decode(), "status": repository.PENDING,
            "attempts": 0, "retry_step": 0, "next_attempt_at": now, "created_at": now,
        })
    repository.add_deliveries(session, rows)
    wake_on_commit(session)
