"""Enqueue side effects in the caller's transaction; emit domain events to their listeners."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crvshub.db import new_id, utcnow
from crvshub.outbox import repository
from crvshub.outbox.models import DomainEvent, OutboxJob

EventListener = Callable[[Session, DomainEvent], None]
_listeners: list[EventListener] = []


def enqueue(
    session: Session, kind: str, payload: dict[str, Any], *, available_at: datetime | None = None
) -> OutboxJob:
    """Add a job that a worker runs after this transaction commits."""
    now = utcnow()
    job = OutboxJob(
        kind=kind,
        payload=payload,
        status="pending",
        attempts=0,
        available_at=available_at or now,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    return job


def on_event(listener: EventListener) -> EventListener:
    """Register a function called (inside the transaction) for every emitted event."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def emit(
    session: Session, topic: str, *, record_id: str | None, data: dict[str, Any] | None = None
) -> DomainEvent:
    """Record a domain event and let listeners (e.g. webhook fan-out) react in this transaction."""
    event = DomainEvent(id=new_id(), topic=topic, record_id=record_id, data=data or {},
                        at=utcnow())
    session.flush()  # the changes the event reports reach the database before it
    repository.add_event(session, event)
    for listener in list(_listeners):
        listener(session, event)
    return event
