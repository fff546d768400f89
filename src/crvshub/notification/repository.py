"""SQL of the notification feature: records, their first audit entry and idempotency keys."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crvshub.db import insert_now, insert_unless_taken, new_id
from crvshub.record.models import IdempotencyKey, Record, RecordAction

TRACKING_ID_ATTEMPTS = 20


class TrackingIdExhausted(RuntimeError):
    """No free tracking ID was found after many attempts (the ID space is nearly full)."""


def find_key(session: Session, client_ref: str, key: str) -> IdempotencyKey | None:
    """Return a client's idempotency key row."""
    return session.scalars(
        select(IdempotencyKey).where(
            IdempotencyKey.client_ref == client_ref, IdempotencyKey.key == key
        )
    ).first()


def claim_key(session: Session, row: IdempotencyKey) -> bool:
    """Insert a key row; False if another request already holds the key (unique index)."""
    row.id = row.id or new_id()
    return insert_unless_taken(session, row)


def insert_record(session: Session, record: Record, assign: Callable[[Record], None]) -> None:
    """Insert a record; `assign` draws its tracking ID, again whenever one is already taken."""
    for _ in range(TRACKING_ID_ATTEMPTS):
        assign(record)
        if insert_unless_taken(session, record):
            return
        if not tracking_id_taken(session, record.tracking_id):
            raise RuntimeError(f"record {record.id} conflicts with a stored record")
    raise TrackingIdExhausted(f"no free tracking ID after {TRACKING_ID_ATTEMPTS} attempts")


def tracking_id_taken(session: Session, tracking_id: str) -> bool:
    """Tell whether a tracking ID is already used."""
    found = session.scalar(select(Record.id).where(Record.tracking_id == tracking_id))
    return found is not None


def add_action(session: Session, action: RecordAction) -> None:
    """Write an audit entry (its id set by the caller)."""
    insert_now(session, action)


def get_record(session: Session, record_id: str) -> Record | None:
    """Return a record by id."""
    return session.get(Record, record_id)


def count_records(session: Session) -> int:
    """Return the number of records."""
    return int(session.scalar(select(func.count()).select_from(Record)) or 0)
