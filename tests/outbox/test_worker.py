"""The transactional outbox: jobs commit with their change and run once, with retries."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.outbox import service, worker
from crvshub.outbox.models import DomainEvent, OutboxJob
from crvshub.outbox.worker import Dead, Done, Retry, Worker

CALLS: list[tuple[str, dict]] = []


def _ok(ctx, job) -> worker.Outcome:
    CALLS.append(("ok", job.payload))
    return Done()


def _flaky(ctx, job) -> worker.Outcome:
    if job.attempts < 2:
        return Retry(utcnow() - timedelta(seconds=1), f"attempt {job.attempts} failed")
    return Done()


def _dead(ctx, job) -> worker.Outcome:
    return Dead("receiver said no")


def _crash(ctx, job) -> worker.Outcome:
    raise RuntimeError("bug in handler")


@pytest.fixture
def ctx(ctx: AppContext) -> AppContext:
    """The test app's context, wired with the test job handlers and no pollers."""
    handlers = {"test.ok": _ok, "test.flaky": _flaky, "test.dead": _dead, "test.crash": _crash}
    wiring = dataclasses.replace(ctx.wiring, handlers=handlers, pollers=())
    return dataclasses.replace(ctx, wiring=wiring)


def _job(ctx, kind: str, **payload) -> int:
    with ctx.db.transaction() as session:
        job = service.enqueue(session, kind, payload)
        session.flush()
        return job.id


def _status(ctx, job_id: int) -> OutboxJob:
    with ctx.db.transaction() as session:
        job = session.get(OutboxJob, job_id)
        assert job is not None
        session.expunge(job)
        return job


def test_job_runs_once_and_is_done(ctx) -> None:
    CALLS.clear()
    job_id = _job(ctx, "test.ok", n=1)
    runner = Worker(ctx)
    assert runner.run_once() >= 1
    assert runner.run_once() == 0
    assert CALLS == [("ok", {"n": 1})]
    done = _status(ctx, job_id)
    assert done.status == "done"
    assert done.attempts == 1


def test_retry_then_done(ctx) -> None:
    job_id = _job(ctx, "test.flaky")
    runner = Worker(ctx)
    for _ in range(3):
        runner.run_once()
    job = _status(ctx, job_id)
    assert job.status == "done"
    assert job.attempts == 3


def test_dead_and_crash(ctx) -> None:
    dead_id = _job(ctx, "test.dead")
    crash_id = _job(ctx, "test.crash")
    Worker(ctx).run_once()
    assert _status(ctx, dead_id).status == "dead"
    crashed = _status(ctx, crash_id)
    assert crashed.status == "pending"
    assert "bug in handler" in (crashed.last_error or "")
    assert crashed.available_at > utcnow()


def test_rolled_back_change_leaves_no_job(ctx) -> None:
    with pytest.raises(RuntimeError), ctx.db.transaction() as session:
        service.enqueue(session, "test.ok", {"lost": True})
        raise RuntimeError("request failed")
    with ctx.db.transaction() as session:
        rows = session.scalars(select(OutboxJob).where(OutboxJob.kind == "test.ok")).all()
        assert all(not r.payload.get("lost") for r in rows)


def test_concurrent_workers_never_run_a_job_twice(ctx) -> None:
    CALLS.clear()
    ids = [_job(ctx, "test.ok", n=i) for i in range(60)]
    runners = [Worker(ctx, batch=7) for _ in range(3)]

    def drain(runner: Worker) -> None:
        while runner.run_once():
            pass

    threads = [threading.Thread(target=drain, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    seen = [payload["n"] for kind, payload in CALLS if kind == "ok"]
    assert sorted(seen) == list(range(60))
    assert all(_status(ctx, i).status == "done" for i in ids)


def test_expired_lease_is_claimed_again(ctx) -> None:
    job_id = _job(ctx, "test.ok", n="lease")
    with ctx.db.transaction() as session:
        from crvshub.outbox import repository

        claimed = repository.claim_due(session, worker_id="crashed", kinds=["test.ok"],
                                       limit=10, lease_seconds=-1)
        assert any(j.id == job_id for j in claimed)
    Worker(ctx).run_once()
    assert _status(ctx, job_id).status == "done"


def test_emit_records_event_and_calls_listeners(ctx) -> None:
    seen: list[str] = []

    def listener(session, event: DomainEvent) -> None:
        seen.append(event.topic)

    sessions = sessionmaker(ctx.db.engine)
    service.EventListeners((listener,)).attach(sessions)
    with sessions() as session, session.begin():
        service.emit(session, "BIRTH_TESTED", record_id=None, data={"x": 1})
    assert seen == ["BIRTH_TESTED"]
    with ctx.db.transaction() as session:
        assert session.scalars(select(DomainEvent).where(DomainEvent.topic == "BIRTH_TESTED")).one()


def test_emit_without_wired_listeners_fails_and_writes_nothing(ctx) -> None:
    unwired = sessionmaker(ctx.db.engine)
    with pytest.raises(service.ListenersNotWired), unwired() as session, session.begin():
        service.emit(session, "BIRTH_UNWIRED", record_id=None)
    with ctx.db.transaction() as session:
        found = session.scalars(select(DomainEvent).where(DomainEvent.topic == "BIRTH_UNWIRED"))
        assert found.all() == []


def test_backlog_metric(ctx, client) -> None:
    _job(ctx, "test.dead")
    runner = Worker(ctx)
    runner.update_backlog_metric()
    assert 'crvshub_outbox_backlog{kind="test.dead"} 1.0' in client.get("/metrics").text
