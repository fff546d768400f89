"""Idempotency keys of notifications: a retry with the same key gets the first answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from crvshub.db import Base, JSONType, UTCDateTime, new_id, utcnow


class IdempotencyKey(Base):
    """A client's idempotency key and the response it got, so a retry gets the same answer."""

    __tablename__ = "idempotency_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    client_ref: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str | None] = mapped_column(ForeignKey("records.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The body of the first answer (the saved record bundle as it was then), replayed as is.
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = (Index("uq_idempotency_client_key", "client_ref", "key", unique=True),)
