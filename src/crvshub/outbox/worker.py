"""The background worker: claims due outbox jobs and runs their handlers outside any transaction.

The handler of each job kind and the pollers come from the context's wiring
(`crvshub.composition`). A handler returns `Done`, `Retry(at, error)` or `Dead(error)`; an
exception counts as a retry.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.observability import OUTBOX_ATTEMPTS, OUTBOX_BACKLOG, OUTBOX_LATENCY
from crvshub.outbox import repository
from crvshub.outbox.models import OutboxJob

log = structlog.get_logger("crvshub.worker")


@dataclass(frozen=True)
class Done:
    """The job succeeded."""


@dataclass(frozen=True)
class Retry:
    """Try again at a later time."""

    at: datetime
    error: str


@dataclass(frozen=True)
class Dead:
    """Give up for good."""

    error: str


Outcome = Done | Retry | Dead
Handler = Callable[[AppContext, OutboxJob], Outcome]


class Poller(Protocol):
    """Drains a feature's own queue table (e.g. webhook deliveries) once per worker cycle."""

    # True when the last `run_once` left nothing due (a batch shorter than its limit).
    drained: bool

    def run_once(self) -> int:
        """Handle one batch; return how many items were handled."""
        ...

    def close(self) -> None:
        """Release threads and connections."""
        ...


# Builds a process's poller from its context (one per worker).
PollerFactory = Callable[[AppContext], Poller]


def backoff(attempt: int, *, base: float = 5.0, cap: float = 6 * 3600.0) -> timedelta:
    """Return the exponential delay with full jitter before attempt number `attempt + 1`."""
    ceiling = min(cap, base * (2 ** max(attempt, 0)))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311


class Worker:
    """Polls the outbox and runs due jobs; one per process, safe to run many on PostgreSQL."""

    def __init__(self, ctx: AppContext, *, batch: int = 50, lease_seconds: float = 60.0) -> None:
        self.ctx = ctx
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.handlers: dict[str, Handler] = dict(ctx.wiring.handlers)
        self.pollers: list[Poller] = [make(ctx) for make in ctx.wiring.pollers]
        self.started_at = utcnow()
        self._last_beat = -float("inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Whether the last round left nothing due in the outbox and every poller's queue.
        self.drained = False
        self._outbox_claimed_at = -float("inf")
        self._outbox_found = True

    def heartbeat(self, *, force: bool = False) -> None:
        """Record that this worker is alive, at most once per CRVSHUB_WORKER_HEARTBEAT_SECONDS."""
        every = self.ctx.settings.worker_heartbeat_seconds
        if not force and time.monotonic() - self._last_beat < every:
            return
        self._last_beat = time.monotonic()
        with self.ctx.db.transaction() as session:
            repository.beat(session, self.worker_id, socket.gethostname(), os.getpid(),
                            self.started_at)
            # Rows of workers killed without a clean stop go once they are a day old.
            repository.forget_workers(session, beaten_before=utcnow() - timedelta(days=1))

    def _forget_heartbeat(self) -> None:
        try:
            with self.ctx.db.transaction() as session:
                repository.forget_workers(session, worker_id=self.worker_id)
        except Exception:
            log.warning("worker_heartbeat_not_removed", worker_id=self.worker_id)

    def run_once(self) -> int:
        """Claim and run one batch of due jobs; return how many ran."""
        polled = 0
        drained = True
        for poller in self.pollers:
            self.heartbeat()  # between steps too: a long batch is not a stalled worker
            polled += poller.run_once()
            drained = drained and poller.drained
        kinds = sorted(self.handlers)
        if not kinds or not self._outbox_due():
            self.drained = drained
            return polled
        self._outbox_claimed_at = time.monotonic()
        with self.ctx.db.transaction() as session:
            jobs = repository.claim_due(
                session,
                worker_id=self.worker_id,
                kinds=kinds,
                limit=self.batch,
                lease_seconds=self.lease_seconds,
            )
            session.flush()  # write the leases before detaching the rows
            session.expunge_all()
        self.drained = drained and len(jobs) < self.batch
        self._outbox_found = bool(jobs)
        for job in jobs:
            self.heartbeat()
            self._run_job(job)
        return len(jobs) + polled

    def _outbox_due(self) -> bool:
        """Tell whether to claim outbox jobs this round.

        Yes when a commit queued jobs since the last claim, when the last claim found jobs
        (more, or retries, may be due), or once per poll interval (jobs retried later and
        commits whose signal was lost); a round woken only by webhook deliveries skips it.
        """
        signalled = self.ctx.wakeup.take_jobs_signal()  # first: cleared before the claim
        interval = self.ctx.settings.outbox_poll_interval
        return (signalled or self._outbox_found
                or time.monotonic() - self._outbox_claimed_at >= interval)

    def _run_job(self, job: OutboxJob) -> None:
        if job.attempts == 0:
            OUTBOX_LATENCY.labels(job.kind).observe((utcnow() - job.created_at).total_seconds())
        try:
            outcome = self.handlers[job.kind](self.ctx, job)
        except Exception as exc:  # a handler bug must not stop the worker
            log.exception("outbox_handler_failed", job_id=job.id, kind=job.kind)
            outcome = Retry(utcnow() + backoff(job.attempts), f"{type(exc).__name__}: {exc}")
        self._record(job, outcome)

    def _record(self, job: OutboxJob, outcome: Outcome) -> None:
        with self.ctx.db.transaction() as session:
            if isinstance(outcome, Done):
                repository.finish(session, job.id, status="done", error=None)
            elif isinstance(outcome, Retry):
                repository.finish(
                    session,
                    job.id,
                    status="pending",
                    error=outcome.error,
                    available_at=outcome.at,
                )
            else:
                repository.finish(session, job.id, status="dead", error=outcome.error)
        OUTBOX_ATTEMPTS.labels(job.kind, type(outcome).__name__.lower()).inc()

    def update_backlog_metric(self) -> None:
        """Publish the pending-job count per kind."""
        with self.ctx.db.transaction() as session:
            counts = repository.backlog(session)
        for kind in sorted(self.handlers):
            OUTBOX_BACKLOG.labels(kind).set(counts.get(kind, 0))

    def run_forever(self) -> None:
        """Run until stopped; when idle, wait for a commit that queued work or the poll interval."""
        self.ctx.wakeup.listen()
        try:
            self._loop()
        finally:
            self.ctx.wakeup.unlisten()
        self._forget_heartbeat()

    def _loop(self) -> None:
        last_metric = 0.0
        while not self._stop.is_set():
            try:
                self.heartbeat()
                ran = self.run_once()
                if time.monotonic() - last_metric > 5:
                    self.update_backlog_metric()
                    last_metric = time.monotonic()
            except Exception:
                log.exception("outbox_poll_failed")
                ran = 0
            # A drained round needs no empty round after it when every commit is heard:
            # whatever committed since its claims began has signalled a wake-up (the signal is
            # cleared before claiming).
            drained = self.drained and self.ctx.wakeup.hears_every_commit
            if (ran == 0 or drained) and not self._stop.is_set():
                # Polling stays the fallback: a lost notification waits one interval at most.
                self.ctx.wakeup.wait(self.ctx.settings.outbox_poll_interval)

    def start(self) -> None:
        """Run the worker in a daemon thread."""
        self._thread = threading.Thread(target=self.run_forever, name="outbox-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the worker to stop and wait for the current batch to finish."""
        self._stop.set()
        self.ctx.wakeup.poke()
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self.close()

    def close(self) -> None:
        """Close the pollers (call once the loop has ended)."""
        for poller in self.pollers:
            poller.close()
        self.pollers = []
