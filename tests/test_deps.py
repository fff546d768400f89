"""The request transaction: commit after the work, roll back on error, one run per request."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crvshub.context import AppContext
from crvshub.db import new_id, utcnow
from crvshub.deps import Transaction
from crvshub.outbox.models import DomainEvent


def _event(topic: str) -> DomainEvent:
    return DomainEvent(id=new_id(), topic=topic, record_id=None, data={}, at=utcnow())


def _count(ctx: AppContext, topic: str) -> int:
    with ctx.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(DomainEvent)
                                  .where(DomainEvent.topic == topic)) or 0)


def test_run_commits_the_work(ctx: AppContext) -> None:
    def work(session: Session) -> str:
        session.add(_event("T_COMMITTED"))
        return "done"

    assert asyncio.run(Transaction(ctx.db).run(work)) == "done"
    assert _count(ctx, "T_COMMITTED") == 1


def test_run_rolls_back_when_the_work_fails(ctx: AppContext) -> None:
    def work(session: Session) -> None:
        session.add(_event("T_ROLLED_BACK"))
        session.flush()
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        asyncio.run(Transaction(ctx.db).run(work))
    assert _count(ctx, "T_ROLLED_BACK") == 0


def test_one_run_per_request(ctx: AppContext) -> None:
    async def twice() -> None:
        transaction = Transaction(ctx.db)
        await transaction.run(lambda session: None)
        await transaction.run(lambda session: None)

    with pytest.raises(RuntimeError, match="one transaction per request"):
        asyncio.run(twice())
