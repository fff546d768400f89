"""Create a record: the one path for notifications, staff declarations and later imports.

A new record is written by one INSERT that also allocates its tracking ID (the unique index
decides, see `repository.insert_new`), then its first audit entry, then its domain event
(`BIRTH_NOTIFIED`, `DEATH_DECLARED`, ...) through the outbox, in the caller's transaction.
Its search columns come from `search_columns`, like after every later change, and its people
enter the search index (`search.service.index_record`) in the same transaction, and it is
checked for potential duplicates (`record.dedup.check`, flagged when some are found).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crvshub.db import new_id, utcnow
from crvshub.record import dedup, domain, repository
from crvshub.record.domain import Action, Event, Status, new_tracking_id
from crvshub.record.models import Record, RecordAction
from crvshub.record.search_columns import search_columns
from crvshub.record.service import Actor, emit_status
from crvshub.search import service as search

# Returns the bundle to store for a record id and tracking ID (called again if the ID is taken).
BundleBuilder = Callable[[str, str], dict[str, Any]]
FIRST_ACTIONS = (Action.NOTIFY, Action.DECLARE)


@dataclass(frozen=True)
class NewRecord:
    """What a new record is: its event, first status, office and where it came from."""

    event: Event
    status: Status
    action: Action  # NOTIFY or DECLARE: names the audit entry and the domain event
    office_id: str
    composition_type: str
    source: str  # "health-system" (an integration client) or "staff"
    source_client_id: str | None = None


def create_record(
    session: Session, new: NewRecord, build: BundleBuilder, actor: Actor,
    *, now: datetime | None = None,
) -> Record:
    """Write a new record with a free tracking ID, its first audit entry and its event."""
    if new.action not in FIRST_ACTIONS:
        raise ValueError(f"a record is created by {FIRST_ACTIONS}, not {new.action}")
    now = now or utcnow()
    record = Record(
        id=new_id(), event=new.event.value, status=new.status.value, office_id=new.office_id,
        composition_type=new.composition_type, bundle={}, version=1, source=new.source,
        source_client_id=new.source_client_id, created_at=now, updated_at=now,
        # Set, not left to defaults, so that reading them later costs no reload.
        registration_number=None, assigned_user_id=None, status_reason=None, registered_at=None,
    )

    def assign(row: Record) -> None:
        row.tracking_id = new_tracking_id(new.event)
        row.bundle = build(row.id, row.tracking_id)
        for column, value in search_columns(row.bundle, new.event).items():
            setattr(row, column, value)

    repository.insert_new(session, record, assign)
    search.index_record(session, record.id, record.created_at, record.bundle, replace=False)
    repository.add_action_now(session, _first_action(record, actor, new.action))
    dedup.check(session, record, actor, new=True)
    emit_status(session, record, domain.event_topic(record.event, new.action, record.status))
    return record


def _first_action(record: Record, actor: Actor, action: Action) -> RecordAction:
    return RecordAction(
        id=new_id(), record_id=record.id, action=domain.AUDIT_NAMES[action],
        at=record.created_at, actor_type=actor.type, actor_id=actor.id, actor_name=actor.name,
        actor_role=actor.role, office_id=actor.office_id, ip=actor.ip, reason=None,
        comment=None, status_before=None, status_after=record.status, version_before=None,
        version_after=record.version, data=dict(actor.data),
    )
