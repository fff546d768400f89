"""Calls to the registration hook (national ID or country system), one per register action."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crvshub.db import Base, UTCDateTime, new_id, utcnow


class HookCall(Base):
    """The state of one registration sent to the hook: attempts, last error, answer."""

    __tablename__ = "registration_hook_calls"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    # pending (not yet answered), accepted (2xx, waiting for the callback), confirmed, rejected.
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
