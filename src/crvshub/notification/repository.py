"""SQL of the notification feature: records, their first audit entry and idempotency keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from crvshub.db import Base, new_id
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


def _insert(session: Session, table: Any) -> Any:
    """Return an INSERT of the session's dialect (for ON CONFLICT DO NOTHING)."""
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def _insert_unless_taken(session: Session, row: Base) -> bool:
    """Insert an ORM row in one statement; False if a unique value is already taken.

    One `INSERT ... ON CONFLICT DO NOTHING RETURNING` replaces a savepoint, an insert and a
    release (three round trips); the row is then attached to the session as persistent.
    """
    table = type(row).__table__
    values = {column.key: getattr(row, column.key) for column in table.columns}
    stmt = _insert(session, table).values(**values).on_conflict_do_nothing()
    if session.execute(stmt.returning(table.c.id)).first() is None:
        return False
    make_transient_to_detached(row)
    session.add(row)
    return True


def claim_key(session: Session, row: IdempotencyKey) -> bool:
    """Insert a key row; False if another request already holds the key (unique index)."""
    row.id = row.id or new_id()
    return _insert_unless_taken(session, row)


def insert_record(session: Session, record: Record, assign: Callable[[Record], None]) -> None:
    """Insert a record; `assign` draws its tracking ID, again whenever one is already taken."""
    for _ in range(TRACKING_ID_ATTEMPTS):
        assign(record)
        if _insert_unless_taken(session, record):
            return
        if not tracking_id_taken(session, record.tracking_id):
            raise RuntimeError(f"record {record.id} conflicts with a stored record")
    raise TrackingIdExhausted(f"no free tracking ID after {TRACKING_ID_ATTEMPTS} attempts")


def tracking_id_taken(session: Session, tracking_id: str) -> bool:
    """Tell whether a tracking ID is already used."""
    found = session.scalar(select(Record.id).where(Record.tracking_id == tracking_id))
    return found is not None


def add_action(session: Session, action: RecordAction) -> None:
    """Stage an audit entry."""
    session.add(action)


def get_record(session: Session, record_id: str) -> Record | None:
    """Return a record by id."""
    return session.get(Record, record_id)


def count_records(session: Session) -> int:
    """Return the number of records."""
    return int(session.scalar(select(func.count()).select_from(Record)) or 0)


def actions_of(session: Session, record_id: str) -> list[RecordAction]:
    """Return a record's audit entries, oldest first."""
    return list(
        session.scalars(
            select(RecordAction).where(RecordAction.record_id == record_id).order_by(
                RecordAction.at
            )
        ).all()
    )
