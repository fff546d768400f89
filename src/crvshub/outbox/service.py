"""Enqueue side effects in the caller's transaction; emit domain events to their listeners."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crvshub.db import new_id, utcnow
from crvshub.outbox import repository

# The rows listeners and job handlers are given: other features import them from here.
from crvshub.outbox.models import DomainEvent as DomainEvent  # noqa: PLC0414
from crvshub.outbox.models import OutboxJob as OutboxJob  # noqa: PLC0414
from crvshub.outbox.wakeup import wake_on_commit

EventListener = Callable[[Session, DomainEvent], None]
_SESSION_KEY = "crvshub.event_listeners"


class ListenersNotWired(RuntimeError):
    """A session emitted an event but its database was not built by `crvshub.composition`."""


@dataclass(frozen=True)
class EventListeners:
    """The functions every emitted event is given to, in order, inside the emitting transaction."""

    listeners: tuple[EventListener, ...]

    def attach(self, sessions: sessionmaker[Session]) -> None:
        """Make every session of this factory give its events to these listeners."""
        sessions.configure(info={_SESSION_KEY: self})


def listeners_of(session: Session) -> EventListeners:
    """Return the listeners wired to a session, or raise if its process wired none."""
    found = session.info.get(_SESSION_KEY)
    if not isinstance(found, EventListeners):
        # Failing here is the point: an unwired process would otherwise commit the event and
        # silently write no webhook deliveries for it.
        raise ListenersNotWired(
            "this session's database was not built by crvshub.composition.build_context, "
            "so no listener (webhook fan-out, ...) would see the event"
        )
    return found


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
    wake_on_commit(session, jobs=True)
    return job


def emit(
    session: Session, topic: str, *, record_id: str | None, data: dict[str, Any] | None = None
) -> DomainEvent:
    """Record a domain event and let listeners (e.g. webhook fan-out) react in this transaction."""
    wired = listeners_of(session)
    event = DomainEvent(id=new_id(), topic=topic, record_id=record_id, data=data or {},
                        at=utcnow())
    session.flush()  # the changes the event reports reach the database before it
    repository.add_event(session, event)
    for listener in wired.listeners:
        listener(session, event)
    return event
