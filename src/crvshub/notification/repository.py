"""SQL of the notification feature: idempotency keys and the records they name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crvshub.db import insert_unless_taken, new_id
from crvshub.notification.models import IdempotencyKey


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


