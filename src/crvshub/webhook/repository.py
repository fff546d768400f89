"""SQL of webhook subscriptions, deliveries and attempts."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    String,
    and_,
    bindparam,
    column,
    delete,
    func,
    insert,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, aliased

from crvshub.auth.domain import ClientSummary
from crvshub.db import JSONType, utcnow
from crvshub.webhook.domain import callback_origin
from crvshub.webhook.models import Attempt, Delivery, Subscription

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
CANCELLED = "cancelled"
RECEIVER_AWAY = (502, 503, 504)  # answers of a proxy whose receiver is down

# The auth feature's `clients` table by name (not its model): subscriptions of inactive clients
# are skipped, and the fan-out reads its subscribers' clients, in the same statement.
Client = table(
    "clients",
    column("id", String),
    column("client_id", String),
    column("name", String),
    column("type", String),
    column("status", String),
    column("created_by", String),
    column("webhook_permissions", JSONType),
)
_CLIENT_COLUMNS = [getattr(Client.c, name) for name in (
    "id", "client_id", "name", "type", "status", "created_by", "webhook_permissions")]


def add(session: Session, row: Subscription | Delivery) -> None:
    """Add a new row to the session."""
    session.add(row)


def subscription(
    session: Session, subscription_id: str, *, client_id: str | None = None
) -> Subscription | None:
    """Return a subscription by id, only if it belongs to `client_id` when one is given."""
    query = select(Subscription).where(Subscription.id == subscription_id)
    if client_id is not None:
        query = query.where(Subscription.client_id == client_id)
    return session.scalars(query).first()


def subscriptions(
    session: Session, *, client_id: str | None = None, status: str | None = None
) -> Sequence[Subscription]:
    """Return subscriptions, oldest first, optionally of one client or in one status."""
    query = select(Subscription).order_by(Subscription.created_at, Subscription.id)
    if client_id is not None:
        query = query.where(Subscription.client_id == client_id)
    if status is not None:
        query = query.where(Subscription.status == status)
    return session.scalars(query).all()


def find_subscription(
    session: Session, client_id: str, callback: str, topic: str
) -> Subscription | None:
    """Return a client's subscription of a callback to a topic."""
    return session.scalars(
        select(Subscription).where(
            Subscription.client_id == client_id,
            Subscription.callback == callback,
            Subscription.topic == topic,
        )
    ).first()


def delete_subscription(session: Session, row: Subscription) -> None:
    """Delete a subscription and (by cascade) its deliveries and attempts."""
    session.execute(delete(Attempt).where(Attempt.delivery_id.in_(
        select(Delivery.id).where(Delivery.subscription_id == row.id))))
    session.execute(delete(Delivery).where(Delivery.subscription_id == row.id))
    session.delete(row)


def _live(now: datetime | Any, statuses: tuple[str, ...] = ("active",)) -> Any:
    return and_(
        Subscription.status.in_(statuses),
        Client.c.status == "active",
        or_(Subscription.expires_at.is_(None), Subscription.expires_at > now),
    )


COLLECTING = ("active", "disabled")


@functools.cache
def _collecting_query() -> Select[str]:
    return (
        select(Subscription.id)
        .join(Client, Client.c.id == Subscription.client_id)
        .where(Subscription.topic == bindparam("topic"),
               _live(bindparam("now", type_=Subscription.expires_at.type), COLLECTING))
        .limit(1)
    )


def matching_subscriptions(
    session: Session, topic: str, now: datetime
) -> list[tuple[Subscription, ClientSummary]]:
    """Return the subscriptions of a topic that collect events, with their (active) clients.

    Disabled subscriptions still collect: their deliveries wait until the owner re-enables.
    Every change emits an event and most topics have no subscriber, so a light query asks
    first whether there is any.
    """
    params = {"topic": topic, "now": now}
    if session.connection().execute(_collecting_query(), params).first() is None:
        return []
    rows = session.execute(
        select(Subscription, *_CLIENT_COLUMNS)
        .join(Client, Client.c.id == Subscription.client_id)
        .where(Subscription.topic == topic, _live(now, COLLECTING))
        .order_by(Subscription.id)
    ).all()
    return [(row[0], ClientSummary(*row[1:])) for row in rows]


def next_sequences(session: Session, subscription_ids: Sequence[str]) -> dict[str, int]:
    """Increment the sequence of several subscriptions at once; return each one's new value.

    Two statements whatever the number of subscribers: the rows are locked in id order first
    (as the recording of attempts does, so the two never deadlock), then updated in one go.
    They stay locked until commit.
    """
    ids = sorted(set(subscription_ids))
    if not ids:
        return {}
    locking = select(Subscription.id).where(Subscription.id.in_(ids)).order_by(Subscription.id)
    if session.get_bind().dialect.name == "postgresql":
        locking = locking.with_for_update()
    session.execute(locking)
    rows = session.execute(
        update(Subscription)
        .where(Subscription.id.in_(ids))
        .values(last_sequence=Subscription.last_sequence + 1)
        .returning(Subscription.id, Subscription.last_sequence)
    ).all()
    return {str(sub_id): int(value) for sub_id, value in rows}


def add_deliveries(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert many deliveries at once."""
    if rows:
        session.execute(insert(Delivery), rows)


def claim_due(
    session: Session, now: datetime, *, limit: int, lease_seconds: float
) -> list[tuple[Delivery, Subscription]]:
    """Lease up to `limit` due deliveries of live subscriptions (SKIP LOCKED on PostgreSQL)."""
    query = (
        select(Delivery, Subscription)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(Client, Client.c.id == Subscription.client_id)
        .where(Delivery.status == PENDING, Delivery.next_attempt_at <= now, _live(now))
        .where(or_(Delivery.locked_until.is_(None), Delivery.locked_until < now))
        .order_by(Delivery.next_attempt_at, Delivery.sequence)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Delivery)
    rows = [(d, s) for d, s in session.execute(query).all()]
    if rows:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_([d.id for d, _ in rows]))
            .values(locked_until=now + timedelta(seconds=lease_seconds))
        )
    return rows


def lease_due_now(
    conn: Connection, now: datetime, *, limit: int, lease_seconds: float
) -> list[Any]:
    """Lease up to `limit` due deliveries in one statement (PostgreSQL, autocommit connection).

    The same choice as `claim_due` (`FOR UPDATE SKIP LOCKED`, so concurrent workers never
    take the same delivery), with the lease written and the rows returned by one `UPDATE`:
    one round trip instead of a transaction of four. Rows carry the delivery's `id`,
    `subscription_id`, `body`, `attempts`, `retry_step`, `created_at`, `sequence` and the
    subscription's `callback`, `style` and `secret_enc`, in the order they are due.
    """
    due = aliased(Delivery)
    live = aliased(Subscription)
    chosen = (
        select(due.id)
        .join(live, live.id == due.subscription_id)
        .join(Client, Client.c.id == live.client_id)
        .where(due.status == PENDING, due.next_attempt_at <= now,
               live.status == "active", Client.c.status == "active",
               or_(live.expires_at.is_(None), live.expires_at > now))
        .where(or_(due.locked_until.is_(None), due.locked_until < now))
        .order_by(due.next_attempt_at, due.sequence)
        .limit(limit)
        .with_for_update(skip_locked=True, of=due)
    )
    rows = conn.execute(
        update(Delivery)
        .where(Delivery.id.in_(chosen), Delivery.subscription_id == Subscription.id)
        .values(locked_until=now + timedelta(seconds=lease_seconds))
        .returning(Delivery.id, Delivery.subscription_id, Delivery.body, Delivery.attempts,
                   Delivery.retry_step, Delivery.created_at, Delivery.sequence,
                   Delivery.next_attempt_at, Subscription.callback, Subscription.style,
                   Subscription.secret_enc)
    ).all()
    return sorted(rows, key=lambda row: (row.next_attempt_at, row.sequence))


def expedite_waiting(session: Session, origin_prefix: str, origin: str, now: datetime,
                     *, skip: Sequence[str] = ()) -> int:
    """Make due now the deliveries waiting because the receiver at `origin` was unreachable.

    Only deliveries whose last attempt found the receiver away (no answer, 502, 503, 504) are
    brought forward: one the receiver refused (4xx, 500) keeps its schedule. Rows another
    worker holds (leased, or locked on PostgreSQL) are left alone: no waits, so no deadlocks
    with concurrent workers. Returns how many deliveries were brought forward.
    """
    # One statement: the prefix narrows the subscriptions, the exact origin is checked here.
    query = (
        select(Delivery.id, Subscription.callback)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(Subscription.callback.startswith(origin_prefix, autoescape=True))
        .where(Delivery.status == PENDING, Delivery.next_attempt_at > now,
               Delivery.id.not_in(skip))
        .where(or_(Delivery.last_status_code.is_(None),
                   Delivery.last_status_code.in_(RECEIVER_AWAY)))
        .where(or_(Delivery.locked_until.is_(None), Delivery.locked_until < now))
        .order_by(Delivery.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Delivery)
    ids = [delivery_id for delivery_id, callback in session.execute(query).all()
           if callback_origin(callback) == origin]
    if ids:
        session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(next_attempt_at=now))
    return len(ids)


def add_attempts(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert many attempt rows at once."""
    if rows:
        session.execute(insert(Attempt), rows)


def update_delivery(session: Session, delivery_id: str, values: dict[str, Any]) -> None:
    """Update one delivery's columns (and release its lease)."""
    session.execute(
        update(Delivery).where(Delivery.id == delivery_id).values(locked_until=None, **values)
    )


@functools.cache
def _outcome_update() -> Any:
    b = bindparam
    return (
        update(Delivery)
        .where(Delivery.id == b("b_id"))
        .values(
            status=b("b_status"), attempts=b("b_attempts"), retry_step=b("b_retry_step"),
            last_status_code=b("b_status_code"), last_error=b("b_error"),
            first_attempt_at=func.coalesce(Delivery.first_attempt_at,
                                           b("b_first_attempt_at", type_=Delivery.created_at.type)),
            delivered_at=b("b_delivered_at", type_=Delivery.created_at.type),
            next_attempt_at=func.coalesce(b("b_next_attempt_at", type_=Delivery.created_at.type),
                                          Delivery.next_attempt_at),
            locked_until=None,
        )
    )


def record_outcomes(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store the outcome of many attempts in one statement (and release their leases).

    Each row has `id`, `status`, `attempts`, `retry_step`, `status_code`, `error`,
    `first_attempt_at` (kept if already set), `delivered_at` and `next_attempt_at` (kept when
    None).
    """
    if rows:
        params = [{f"b_{key}": value for key, value in row.items()}
                  for row in sorted(rows, key=lambda r: str(r["id"]))]
        session.connection().execute(_outcome_update(), params)


def mark_healthy(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Record successes of several subscriptions in one statement, in id order.

    Each row has `id`, `consecutive_failures`, `failing_since` and `last_success_at`.
    """
    if not rows:
        return
    b = bindparam
    statement = (
        update(Subscription)
        .where(Subscription.id == b("b_id"))
        .values(consecutive_failures=b("b_consecutive_failures"),
                failing_since=b("b_failing_since", type_=Subscription.created_at.type),
                last_success_at=b("b_last_success_at", type_=Subscription.created_at.type))
    )
    params = [{f"b_{key}": value for key, value in row.items()}
              for row in sorted(rows, key=lambda r: str(r["id"]))]
    session.connection().execute(statement, params)


def cancel_pending(session: Session, subscription_id: str, reason: str) -> int:
    """Cancel every pending delivery of a subscription; return how many."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription_id, Delivery.status == PENDING)
        .values(status=CANCELLED, last_error=reason, locked_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def deliveries(
    session: Session, subscription_id: str, *, status: str | None, since: datetime | None,
    limit: int, offset: int,
) -> Sequence[Delivery]:
    """Return a subscription's deliveries, newest first."""
    query = select(Delivery).where(Delivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    if since is not None:
        query = query.where(Delivery.created_at >= since)
    query = query.order_by(Delivery.sequence.desc()).limit(limit).offset(offset)
    return session.scalars(query).all()


def delivery(session: Session, delivery_id: str, subscription_id: str) -> Delivery | None:
    """Return one delivery of a subscription."""
    return session.scalars(
        select(Delivery).where(
            Delivery.id == delivery_id, Delivery.subscription_id == subscription_id
        )
    ).first()


def attempts_of(session: Session, delivery_ids: Sequence[str]) -> dict[str, list[Attempt]]:
    """Return the attempts of deliveries, oldest first, by delivery id."""
    found: dict[str, list[Attempt]] = {i: [] for i in delivery_ids}
    if not delivery_ids:
        return found
    rows = session.scalars(
        select(Attempt).where(Attempt.delivery_id.in_(delivery_ids)).order_by(Attempt.id)
    ).all()
    for row in rows:
        found[row.delivery_id].append(row)
    return found


def requeue(session: Session, subscription_id: str, since: datetime, now: datetime) -> int:
    """Queue again every delivery of a subscription created since a time; return how many."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription_id, Delivery.created_at >= since)
        .values(status=PENDING, retry_step=0, next_attempt_at=now, locked_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def counts_by_status(
    session: Session, subscription_id: str | None = None
) -> dict[str, dict[str, int]]:
    """Return delivery counts by subscription and status."""
    query = select(Delivery.subscription_id, Delivery.status, func.count()).group_by(
        Delivery.subscription_id, Delivery.status
    )
    if subscription_id is not None:
        query = query.where(Delivery.subscription_id == subscription_id)
    found: dict[str, dict[str, int]] = {}
    for sub_id, status, n in session.execute(query).all():
        found.setdefault(str(sub_id), {})[str(status)] = int(n)
    return found


def oldest_pending(session: Session) -> datetime | None:
    """Return the creation time of the oldest pending delivery."""
    return session.scalar(
        select(func.min(Delivery.created_at)).where(Delivery.status == PENDING)
    )


def pending_total(session: Session) -> int:
    """Return how many deliveries are pending."""
    return int(session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.status == PENDING)
    ) or 0)


def oldest_due(session: Session) -> datetime | None:
    """Return when the oldest pending delivery that is due now became due."""
    return session.scalar(
        select(func.min(Delivery.next_attempt_at))
        .where(Delivery.status == PENDING, Delivery.next_attempt_at <= utcnow())
    )
