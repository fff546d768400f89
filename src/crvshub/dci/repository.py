"""All SQL of the DCI feature: transactions and subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crvshub.dci.models import DciClientKey, DciSubscription, DciTransaction


def add(session: Session, row: DciTransaction | DciSubscription) -> None:
    """Add a row to the session (written at the next flush)."""
    session.add(row)


def transaction(session: Session, correlation_id: str) -> DciTransaction | None:
    """Return a transaction by its correlation id."""
    return session.get(DciTransaction, correlation_id)


def transactions_of(session: Session, client_id: str, *, transaction_id: str | None = None,
                    correlation_id: str | None = None, action: str | None = None,
                    limit: int = 20) -> Sequence[DciTransaction]:
    """Return a client's transactions by transaction id or correlation id, newest first."""
    query = select(DciTransaction).where(DciTransaction.client_id == client_id)
    if transaction_id is not None:
        query = query.where(DciTransaction.transaction_id == transaction_id)
    if correlation_id is not None:
        query = query.where(DciTransaction.id == correlation_id)
    if action is not None:
        query = query.where(DciTransaction.action == action)
    return session.scalars(query.order_by(DciTransaction.created_at.desc()).limit(limit)).all()


def by_message(session: Session, client_id: str, message_id: str,
               action: str) -> DciTransaction | None:
    """Return a client's earlier transaction of the same message id and action, if any."""
    return session.scalars(select(DciTransaction).where(
        DciTransaction.client_id == client_id, DciTransaction.message_id == message_id,
        DciTransaction.action == action).limit(1)).first()


def live_subscriptions(session: Session, events: Sequence[str]) -> Sequence[DciSubscription]:
    """Return the subscriptions still in force for some events."""
    return session.scalars(select(DciSubscription).where(
        DciSubscription.event.in_(events), DciSubscription.status == "subscribe",
    ).order_by(DciSubscription.created_at)).all()


def subscription(session: Session, code: str) -> DciSubscription | None:
    """Return a subscription by code."""
    return session.get(DciSubscription, code)


def subscriptions_of(session: Session, client_id: str,
                     codes: Sequence[str] | None = None) -> Sequence[DciSubscription]:
    """Return a client's subscriptions (those named, or all)."""
    query = select(DciSubscription).where(DciSubscription.client_id == client_id)
    if codes is not None:
        query = query.where(DciSubscription.code.in_(codes))
    return session.scalars(query.order_by(DciSubscription.created_at)).all()


def end_subscriptions(session: Session, client_id: str, codes: Sequence[str],
                      at: datetime) -> int:
    """Mark a client's subscriptions unsubscribed; return how many changed."""
    result = session.execute(update(DciSubscription).where(
        DciSubscription.client_id == client_id, DciSubscription.code.in_(codes),
        DciSubscription.status == "subscribe",
    ).values(status="unsubscribe", ended_at=at))
    return int(getattr(result, "rowcount", 0) or 0)


def client_key(session: Session, client_id: str) -> DciClientKey | None:
    """Return the signing key a client registered, if any."""
    return session.get(DciClientKey, client_id)


def set_client_key(session: Session, row: DciClientKey) -> None:
    """Register or replace a client's signing key."""
    session.merge(row)


def remove_client_key(session: Session, client_id: str) -> bool:
    """Forget a client's signing key; tell whether it had one."""
    found = session.get(DciClientKey, client_id)
    if found is not None:
        session.delete(found)
    return found is not None
