"""SQL for claiming and finishing outbox jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from crvshub.db import insert_now, utcnow
from crvshub.outbox.models import DomainEvent, OutboxJob, WorkerHeartbeat


def add_event(session: Session, event: DomainEvent) -> None:
    """Write a domain event row now (one cached INSERT: events are written on every change)."""
    insert_now(session, event)


def claim_due(
    session: Session, *, worker_id: str, kinds: Sequence[str], limit: int, lease_seconds: float
) -> list[OutboxJob]:
    """Lock up to `limit` due jobs for this worker (SKIP LOCKED on PostgreSQL)."""
    now = utcnow()
    query = (
        select(OutboxJob)
        .where(
            OutboxJob.status == "pending", OutboxJob.available_at <= now, OutboxJob.kind.in_(kinds)
        )
        .where((OutboxJob.locked_until.is_(None)) | (OutboxJob.locked_until < now))
        .order_by(OutboxJob.available_at, OutboxJob.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    jobs = list(session.scalars(query).all())
    until = now + timedelta(seconds=lease_seconds)
    for job in jobs:
        job.locked_by = worker_id
        job.locked_until = until
    return jobs


def get(session: Session, job_id: int) -> OutboxJob | None:
    """Return a job by id."""
    return session.get(OutboxJob, job_id)


def finish(
    session: Session,
    job_id: int,
    *,
    status: str,
    error: str | None,
    available_at: datetime | None = None,
) -> None:
    """Record the outcome of an attempt and release the lease."""
    values: dict[str, object] = {
        "status": status,
        "last_error": error,
        "attempts": OutboxJob.attempts + 1,
        "locked_by": None,
        "locked_until": None,
        "updated_at": utcnow(),
    }
    if available_at is not None:
        values["available_at"] = available_at
    session.execute(update(OutboxJob).where(OutboxJob.id == job_id).values(**values))


def backlog(session: Session) -> dict[str, int]:
    """Return the number of pending jobs per kind."""
    rows = session.execute(
        select(OutboxJob.kind, func.count())
        .where(OutboxJob.status == "pending")
        .group_by(OutboxJob.kind)
    ).all()
    return {str(kind): int(n) for kind, n in rows}


def beat(session: Session, worker_id: str, hostname: str, pid: int, started_at: datetime) -> None:
    """Record that a worker is alive now (one UPDATE, or an INSERT on its first beat)."""
    now = utcnow()
    done = session.execute(
        update(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker_id).values(beat_at=now)
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        session.add(WorkerHeartbeat(worker_id=worker_id, hostname=hostname, pid=pid,
                                    started_at=started_at, beat_at=now))


def forget_workers(session: Session, *, worker_id: str | None = None,
                   beaten_before: datetime | None = None) -> None:
    """Delete the heartbeat of a stopped worker, or those of workers silent since a time."""
    query = delete(WorkerHeartbeat)
    if worker_id is not None:
        query = query.where(WorkerHeartbeat.worker_id == worker_id)
    if beaten_before is not None:
        query = query.where(WorkerHeartbeat.beat_at < beaten_before)
    session.execute(query)


def last_beat(session: Session) -> datetime | None:
    """Return the time of the newest heartbeat of any worker."""
    return session.scalar(select(func.max(WorkerHeartbeat.beat_at)))


def oldest_due(session: Session) -> datetime | None:
    """Return when the oldest pending job that is due now became due."""
    return session.scalar(
        select(func.min(OutboxJob.available_at))
        .where(OutboxJob.status == "pending", OutboxJob.available_at <= utcnow())
    )
