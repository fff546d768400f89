"""Wake the outbox worker when a transaction that queued work commits; polling stays the fallback.

A transaction that writes outbox jobs or webhook deliveries calls `wake_on_commit(session)`
(`jobs=True` for outbox jobs: a worker claims the outbox only when told it has jobs, when its
last claim found some, or once per poll interval, so a delivery's round costs no outbox claim).
When it commits, the worker of the same process is woken through an in-process event and, on
PostgreSQL, a `NOTIFY crvshub_outbox` sent inside that transaction (delivered only if it
commits) wakes the workers of every other process, which `LISTEN` on a dedicated connection.
A rolled-back transaction wakes nobody. A separate worker process on SQLite has no channel to
hear other processes' commits and keeps polling every `CRVSHUB_OUTBOX_POLL_INTERVAL`; so does
any worker while its listening connection is down (it reconnects with a growing delay).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

if TYPE_CHECKING:
    import psycopg

log = structlog.get_logger("crvshub.worker")

CHANNEL = "crvshub_outbox"
# No pause to gather commits after a wake: on a busy machine a sleep costs a reschedule on top
# of its length, on the path from commit to first attempt. A burst still costs few claims: the
# commits that arrive while a round runs are taken together by the next one.
# How long the listener waits for notifications before checking whether it should stop.
LISTEN_TICK_SECONDS = 1.0
FIRST_RETRY_SECONDS = 0.5
LAST_RETRY_SECONDS = 30.0
_PENDING = "crvshub.wakeup.pending"
# The notification payload of a commit that queued outbox jobs (deliveries send none).
JOBS = "jobs"
# What a listener passes when it (re)connects: anything may have been missed.
EVERYTHING = "*"


def wake_on_commit(session: Session, *, jobs: bool = False) -> None:
    """Wake the outbox workers once this session's transaction commits (nobody on rollback).

    `jobs` tells that the transaction queued outbox jobs (not only webhook deliveries).
    """
    session.info[_PENDING] = session.info.get(_PENDING, False) or jobs


class Wakeup:
    """Wakes this process's worker after commits that queued work, and hears other processes'."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._notify = engine.dialect.name == "postgresql"
        self._event = threading.Event()
        self._jobs = threading.Event()
        self._lock = threading.Lock()
        self._listener: Listener | None = None
        self._users = 0

    def attach(self, sessions: sessionmaker[Session]) -> None:
        """Signal the workers after every commit of these sessions that queued work."""
        event.listen(sessions, "before_commit", self._before_commit)
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_transaction_end", self._after_transaction_end)

    def _before_commit(self, session: Session) -> None:
        if self._notify and _PENDING in session.info:
            # One statement per transaction, delivered by PostgreSQL only if it commits.
            payload = f", '{JOBS}'" if session.info[_PENDING] else ""
            session.connection().exec_driver_sql(f"NOTIFY {CHANNEL}{payload}")

    def _after_commit(self, session: Session) -> None:
        if _PENDING in session.info:
            self.heard(JOBS if session.info.pop(_PENDING) else "")

    def heard(self, payload: str) -> None:
        """Wake the worker for a commit (`payload` JOBS: it queued outbox jobs)."""
        if payload in (JOBS, EVERYTHING):
            self._jobs.set()
        self._event.set()

    def take_jobs_signal(self) -> bool:
        """Return whether a commit queued outbox jobs since the last call (and forget it).

        Call it before claiming: a commit signalled from then on is seen by the next call.
        """
        signalled = self._jobs.is_set()
        if signalled:
            self._jobs.clear()
        return signalled

    def _after_transaction_end(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # rolled back or closed: the next one starts clean
            session.info.pop(_PENDING, None)

    def wait(self, timeout: float) -> bool:
        """Block until woken or for `timeout` seconds; return whether woken."""
        woken = self._event.wait(timeout)
        # Cleared before the caller claims: a commit signalled from now on wakes it again, and
        # one signalled before is already visible to its claim.
        self._event.clear()
        return woken

    def poke(self) -> None:
        """Wake the waiting worker now (to stop it, or to catch up after a reconnection)."""
        self.heard(EVERYTHING)

    @property
    def hears_every_commit(self) -> bool:
        """Tell whether commits of every process wake this one (PostgreSQL, while listening).

        Only then may a worker wait after a round without checking again for work committed
        during it: a SQLite worker does not hear other processes, and keeps looking.
        """
        listener = self._listener
        return listener is not None and listener.backend_pid is not None

    @property
    def listener(self) -> Listener | None:
        """Return the running PostgreSQL listener, if any."""
        return self._listener

    def listen(self) -> None:
        """Start hearing other processes' commits (PostgreSQL only; once per process)."""
        with self._lock:
            self._users += 1
            if self._notify and self._listener is None:
                self._listener = Listener(_connector(self._engine), self.heard)
                self._listener.start()

    def unlisten(self) -> None:
        """Stop hearing other processes' commits once no worker of this process needs it."""
        with self._lock:
            self._users = max(self._users - 1, 0)
            if self._users == 0 and self._listener is not None:
                self._listener.stop()
                self._listener = None


def _connector(engine: Engine) -> Callable[[], psycopg.Connection[Any]]:
    """Return how to open a connection of the engine's database, outside its pool."""
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    params = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 30,
              "keepalives_interval": 10, "keepalives_count": 3, **cparams}

    def connect() -> psycopg.Connection[Any]:
        import psycopg  # only processes that listen (PostgreSQL workers) load the driver here

        return psycopg.connect(*cargs, **params, autocommit=True)

    return connect


class Listener:
    """A thread holding one autocommit connection that runs `LISTEN` and wakes on each notify."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]],
                 wake: Callable[[str], None]) -> None:
        self._connect = connect
        self._wake = wake
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-listen", daemon=True)
        self.backend_pid: int | None = None  # of the listening connection, while connected

    def start(self) -> None:
        """Start listening in a daemon thread."""
        self._thread.start()

    def stop(self, timeout: float = LISTEN_TICK_SECONDS * 3) -> None:
        """Stop listening and close the connection."""
        self._closing.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        delay = FIRST_RETRY_SECONDS
        while not self._closing.is_set():
            connected = False
            try:
                with self._connect() as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    connected = True
                    log.info("outbox_listening", channel=CHANNEL)
                    self.backend_pid = conn.info.backend_pid
                    self._wake(EVERYTHING)  # catch up with commits made while nobody listened
                    self._pump(conn)
            except Exception as exc:  # any failure: poll meanwhile, then reconnect
                self.backend_pid = None
                delay = FIRST_RETRY_SECONDS if connected else min(delay * 2, LAST_RETRY_SECONDS)
                log.warning("outbox_listen_lost", error=type(exc).__name__,
                            detail=str(exc).splitlines()[0] if str(exc) else "",
                            retry_in_seconds=delay, fallback="polling")
                self._closing.wait(delay)
        self.backend_pid = None

    def _pump(self, conn: psycopg.Connection[Any]) -> None:
        while not self._closing.is_set():
            for notify in conn.notifies(timeout=LISTEN_TICK_SECONDS):
                self._wake(notify.payload)
