"""SQL for registration hook calls."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crvshub.registration_hook.models import HookCall


def add(session: Session, call: HookCall) -> None:
    """Stage a new hook call."""
    session.add(call)


def get(session: Session, call_id: str) -> HookCall | None:
    """Return a hook call by id."""
    return session.get(HookCall, call_id)


def latest_for(session: Session, record_id: str) -> HookCall | None:
    """Return the newest hook call of a record."""
    return session.scalars(
        select(HookCall)
        .where(HookCall.record_id == record_id)
        .order_by(HookCall.created_at.desc(), HookCall.id.desc())
        .limit(1)
    ).first()


def latest_for_many(session: Session, record_ids: Iterable[str]) -> dict[str, HookCall]:
    """Return the newest hook call of each record in a list."""
    ids = list(record_ids)
    if not ids:
        return {}
    rows: Sequence[HookCall] = session.scalars(
        select(HookCall).where(HookCall.record_id.in_(ids)).order_by(HookCall.created_at)
    ).all()
    return {row.record_id: row for row in rows}
