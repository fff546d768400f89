"""Commits that queue deliveries wake the worker at once; polling stays the fallback."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from structlog.testing import capture_logs

from crvshub.composition import build_context
from crvshub.context import AppContext
from crvshub.outbox import service
from crvshub.outbox.wakeup import Wakeup
from crvshub.outbox.worker import Done, Worker
from crvshub.settings import Settings
from crvshub.webhook.delivery import DeliveryEngine
from crvshub.webhook.models import Delivery
from tests.helpers import new_client, statements, wait_for
from tests.webhook.conftest import BIRTH_PERMISSIONS, Subscriber, subscribe
from tests.webhook.factories import emit_event, make_record
from tests.webhook.receiver import Receiver

POLL_SECONDS = 10.0  # far longer than any wake-up the tests wait for
WAKE_SECONDS = 2.0


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings whose worker polls only every ten seconds."""
    return Settings(
        database_url=database_url, environment="test", embedded_worker=False,
        log_level="WARNING", webhook_allow_private=True, outbox_poll_interval=POLL_SECONDS,
        webhook_retry_schedule="0.2,0.5,1", webhook_lease_seconds=5,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running webhook receiver."""
    rec = Receiver().start()
    yield rec
    rec.stop()


@pytest.fixture
def subscribed(client: TestClient, ctx: AppContext, receiver: Receiver) -> str:
    """Subscribe the receiver to births; return the subscription id."""
    creds, token = new_client(ctx, "WEBHOOK", webhook_permissions=BIRTH_PERMISSIONS)
    return subscribe(client, Subscriber(creds, token), receiver.url)


@pytest.fixture
def writer(ctx: AppContext, settings: Settings, backend: str) -> Iterator[AppContext]:
    """The context that registers births: on PostgreSQL another process's (its own wake-up)."""
    if backend == "sqlite":
        yield ctx  # a SQLite worker hears only commits of its own process
        return
    other = build_context(settings)
    yield other
    other.db.dispose()


@pytest.fixture
def worker(ctx: AppContext) -> Iterator[Worker]:
    """A real worker thread, idle and listening before the test starts."""
    runner = Worker(ctx)
    runner.start()
    _wait_listening(ctx)
    time.sleep(0.5)  # its first, empty rounds are over: it now waits
    yield runner
    runner.stop()


def _wait_listening(ctx: AppContext, *, other_than: int | None = None) -> None:
    if ctx.db.engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listener = ctx.wakeup.listener
        pid = listener.backend_pid if listener else None
        if pid is not None and pid != other_than:
            return
        time.sleep(0.02)
    raise AssertionError("the worker never listened")


def _register(writer: AppContext) -> float:
    emit_event(writer, make_record(writer), "BIRTH_REGISTERED")
    return time.monotonic()


def test_a_committed_delivery_is_attempted_at_once(
    subscribed: str, worker: Worker, writer: AppContext, receiver: Receiver
) -> None:
    for n in range(1, 4):
        committed = _register(writer)
        receiver.wait_for(lambda got, n=n: len(got) == n, timeout=WAKE_SECONDS)
        assert time.monotonic() - committed < WAKE_SECONDS


def test_an_enqueued_job_wakes_the_worker(ctx: AppContext, writer: AppContext) -> None:
    ran: list[float] = []

    def handler(_ctx: AppContext, _job: object) -> object:
        ran.append(time.monotonic())
        return Done()

    wiring = dataclasses.replace(ctx.wiring, handlers={"test.wake": handler}, pollers=())
    runner = Worker(dataclasses.replace(ctx, wiring=wiring))
    runner.start()
    try:
        _wait_listening(ctx)
        time.sleep(0.5)
        with writer.db.transaction() as session:
            service.enqueue(session, "test.wake", {})
        committed = time.monotonic()
        deadline = committed + WAKE_SECONDS
        while not ran and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ran and ran[0] - committed < WAKE_SECONDS
    finally:
        runner.stop()


def test_a_rolled_back_transaction_wakes_nobody(
    subscribed: str, ctx: AppContext, writer: AppContext
) -> None:
    ctx.wakeup.listen()
    try:
        _wait_listening(ctx)
        ctx.wakeup.wait(0.5)  # the catch-up wake of a new listener
        record = make_record(writer)
        with pytest.raises(RuntimeError), writer.db.transaction() as session:
            service.emit(session, "BIRTH_REGISTERED", record_id=record.id)
            session.flush()
            raise RuntimeError("the request failed after the fan-out")
        assert ctx.wakeup.wait(1.5) is False
        _register(writer)  # the same, committed, does wake
        assert ctx.wakeup.wait(WAKE_SECONDS) is True
    finally:
        ctx.wakeup.unlisten()


def test_a_burst_of_commits_is_one_wake(ctx: AppContext, writer: AppContext) -> None:
    ctx.wakeup.listen()
    try:
        _wait_listening(ctx)
        ctx.wakeup.wait(0.5)
        for _ in range(50):
            with writer.db.transaction() as session:
                service.enqueue(session, "test.burst", {})
        time.sleep(0.5)  # every notification has arrived
        assert ctx.wakeup.wait(WAKE_SECONDS) is True
        assert ctx.wakeup.wait(0.3) is False  # coalesced: no wake left per commit
    finally:
        ctx.wakeup.unlisten()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_dropped_listen_connection_reconnects(
    subscribed: str, ctx: AppContext, worker: Worker, writer: AppContext, receiver: Receiver
) -> None:
    listener = ctx.wakeup.listener
    assert listener is not None and listener.backend_pid is not None
    dropped = listener.backend_pid
    with capture_logs() as logs:
        with ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        _wait_listening(ctx, other_than=dropped)
    assert "outbox_listen_lost" in [entry["event"] for entry in logs]  # a warning
    time.sleep(0.5)  # the catch-up round after reconnecting is over
    committed = _register(writer)
    receiver.wait_for(lambda got: len(got) == 1, timeout=WAKE_SECONDS)
    assert time.monotonic() - committed < WAKE_SECONDS


@pytest.mark.parametrize("backend", ["postgresql"])
def test_without_a_listen_connection_the_worker_polls(
    subscribed: str, ctx: AppContext, writer: AppContext, receiver: Receiver
) -> None:
    # A listener whose server is unreachable: only the poll interval can find the delivery.
    unreachable = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    polling = dataclasses.replace(
        ctx, wakeup=Wakeup(unreachable),
        settings=ctx.settings.model_copy(update={"outbox_poll_interval": 1.0}))
    runner = Worker(polling)
    with capture_logs() as logs:
        runner.start()
        try:
            time.sleep(0.5)
            committed = _register(writer)
            receiver.wait_for(lambda got: len(got) == 1, timeout=5)
            waited = time.monotonic() - committed
        finally:
            runner.stop()
    assert "outbox_listen_lost" in [entry["event"] for entry in logs]
    assert waited < 2.5


SUBSCRIBERS = 4


@pytest.fixture
def many_subscribed(client: TestClient, ctx: AppContext, receiver: Receiver) -> list[str]:
    """Subscribe the receiver to births several times (one delivery each per birth)."""
    creds, token = new_client(ctx, "WEBHOOK", webhook_permissions=BIRTH_PERMISSIONS)
    return [subscribe(client, Subscriber(creds, token), f"{receiver.url}?s={i}")
            for i in range(SUBSCRIBERS)]


def _first_attempt_delays(ctx: AppContext) -> list[float]:
    with ctx.db.transaction() as session:
        rows = session.execute(select(Delivery.created_at, Delivery.first_attempt_at)).all()
    return [(first - created).total_seconds() for created, first in rows if first is not None]


def test_a_steady_stream_is_attempted_long_before_the_poll_interval(
    many_subscribed: list[str], ctx: AppContext, worker: Worker, writer: AppContext,
    receiver: Receiver,
) -> None:
    # Births arrive while the worker is busy with the previous ones: every commit must be
    # heard (a round that drained its queue waits for the next signal, never for the poll).
    births = 12
    for _ in range(births):
        _register(writer)
        time.sleep(0.05)
    receiver.wait_for(lambda got: len(got) == births * SUBSCRIBERS, timeout=WAKE_SECONDS * 3)
    wait_for(lambda: len(_first_attempt_delays(ctx)) == births * SUBSCRIBERS)
    delays = _first_attempt_delays(ctx)
    # Fan-out to first attempt (the commit is in between): far below the ten-second poll.
    assert max(delays) < WAKE_SECONDS, sorted(delays)[-5:]


def test_an_outbox_job_wakes_a_worker_that_only_had_deliveries_to_do(
    subscribed: str, ctx: AppContext, writer: AppContext, receiver: Receiver
) -> None:
    ran: list[float] = []

    def handler(_ctx: AppContext, _job: object) -> object:
        ran.append(time.monotonic())
        return Done()

    handlers = {**ctx.wiring.handlers, "test.wake": handler}
    runner = Worker(dataclasses.replace(ctx, wiring=dataclasses.replace(ctx.wiring,
                                                                        handlers=handlers)))
    runner.start()
    try:
        _wait_listening(ctx)
        time.sleep(0.5)  # its first rounds, which claim the outbox, are over
        _register(writer)  # a delivery-only wake: the outbox is not claimed for it
        receiver.wait_for(lambda got: len(got) == 1, timeout=WAKE_SECONDS)
        with writer.db.transaction() as session:
            service.enqueue(session, "test.wake", {})
        committed = time.monotonic()
        wait_for(lambda: ran, timeout=WAKE_SECONDS * 2)
        assert ran[0] - committed < WAKE_SECONDS
    finally:
        runner.stop()


def test_a_round_woken_by_deliveries_does_not_claim_the_outbox(
    subscribed: str, ctx: AppContext, receiver: Receiver
) -> None:
    runner = Worker(ctx)
    try:
        runner.run_once()  # the first round claims the outbox (nothing there)
        _register(ctx)
        sql = statements(ctx, runner.run_once)
        runner.pollers[0].close()  # pipelined: the attempt is recorded once this returns
        runner.pollers = []
    finally:
        runner.close()
    assert receiver.received, "the delivery was sent"
    assert not [s for s in sql if " outbox" in s], sql
    assert runner.drained  # one delivery, far below the batch: no empty round after it


def test_a_pipelined_engine_records_every_attempt_once(
    many_subscribed: list[str], ctx: AppContext, writer: AppContext, receiver: Receiver
) -> None:
    engine = DeliveryEngine.in_worker(ctx)
    try:
        for _ in range(3):
            _register(writer)
            assert engine.run_once() == SUBSCRIBERS  # sent; recorded while the next is sent
    finally:
        engine.close()  # waits for the last recording
    with ctx.db.transaction() as session:
        rows = session.execute(select(Delivery.status, Delivery.attempts)).all()
    assert sorted(rows) == [("delivered", 1)] * 3 * SUBSCRIBERS
    assert len(receiver.received) == 3 * SUBSCRIBERS
