"""Operate webhooks: delivery log, redelivery, replay, re-enable, backlog (owner or admin)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crvshub.auth import service as auth_service
from crvshub.auth.domain import ClientSummary
from crvshub.db import utcnow
from crvshub.outbox.wakeup import wake_on_commit
from crvshub.webhook import repository
from crvshub.webhook.errors import DeliveryNotFound, InvalidReplay
from crvshub.webhook.models import Attempt, Delivery, Subscription
from crvshub.webhook.service import owned

MAX_PAGE = 200


@dataclass(frozen=True)
class DeliveryPage:
    """Deliveries of a subscription with their attempts."""

    deliveries: list[Delivery]
    attempts: dict[str, list[Attempt]]


def subscription_detail(
    session: Session, subscription_id: str, owner: str | None
) -> tuple[Subscription, ClientSummary | None, dict[str, int]]:
    """Return a subscription with its client and its delivery counts by status."""
    sub = owned(session, subscription_id, owner)
    counts = repository.counts_by_status(session, sub.id).get(sub.id, {})
    return sub, auth_service.client_summary(session, sub.client_id), counts


def list_deliveries(
    session: Session, subscription_id: str, owner: str | None, *, status: str | None,
    since: datetime | None, limit: int, offset: int,
) -> DeliveryPage:
    """Return a page of a subscription's deliveries, newest first, with their attempts."""
    sub = owned(session, subscription_id, owner)
    rows = list(repository.deliveries(session, sub.id, status=status, since=since,
                                      limit=min(max(limit, 1), MAX_PAGE),
                                      offset=max(offset, 0)))
    return DeliveryPage(rows, repository.attempts_of(session, [d.id for d in rows]))


def get_delivery(
    session: Session, subscription_id: str, delivery_id: str, owner: str | None
) -> DeliveryPage:
    """Return one delivery with its attempts."""
    sub = owned(session, subscription_id, owner)
    row = repository.delivery(session, delivery_id, sub.id)
    if row is None:
        raise DeliveryNotFound(f"No delivery {delivery_id} in subscription {sub.id}")
    return DeliveryPage([row], repository.attempts_of(session, [row.id]))


def redeliver(
    session: Session, subscription_id: str, delivery_id: str, owner: str | None
) -> Delivery:
    """Queue one delivery again now, with the same `webhook-id`."""
    page = get_delivery(session, subscription_id, delivery_id, owner)
    row = page.deliveries[0]
    row.status, row.retry_step, row.next_attempt_at = repository.PENDING, 0, utcnow()
    row.locked_until = None
    wake_on_commit(session)
    return row


def replay(session: Session, subscription_id: str, since: datetime | None,
           owner: str | None) -> int:
    """Queue again every delivery of a subscription created since a time."""
    # Ownership first: another client's subscription is 404 whatever the body says.
    sub = owned(session, subscription_id, owner)
    if since is None or since.tzinfo is None:
        raise InvalidReplay(expression="since")
    requeued = repository.requeue(session, sub.id, since, utcnow())
    if requeued:
        wake_on_commit(session)
    return requeued


def enable(session: Session, subscription_id: str, owner: str | None) -> Subscription:
    """Re-enable a disabled subscription; its waiting deliveries resume."""
    sub = owned(session, subscription_id, owner)
    sub.status, sub.status_reason, sub.status_changed_at = "active", None, utcnow()
    sub.consecutive_failures, sub.failing_since = 0, None
    wake_on_commit(session)
    return sub


def all_subscriptions(
    session: Session, *, client_id: str | None, status: str | None
) -> list[tuple[Subscription, ClientSummary | None]]:
    """Return every subscription with its client (admin), optionally filtered."""
    subs = repository.subscriptions(session, client_id=client_id, status=status)
    return [(sub, auth_service.client_summary(session, sub.client_id)) for sub in subs]


def backlog(session: Session) -> dict[str, Any]:
    """Return the waiting deliveries overall and per subscription."""
    counts = repository.counts_by_status(session)
    oldest = repository.oldest_pending(session)
    per_sub = [
        {"subscriptionId": sub_id, **by_status}
        for sub_id, by_status in sorted(counts.items())
        if by_status.get(repository.PENDING) or by_status.get(repository.FAILED)
    ]
    return {
        "pending": sum(c.get(repository.PENDING, 0) for c in counts.values()),
        "failed": sum(c.get(repository.FAILED, 0) for c in counts.values()),
        "oldestPendingAt": oldest.isoformat() if oldest else None,
        "subscriptions": per_sub,
    }
