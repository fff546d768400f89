"""A receiver back after an outage: its waiting deliveries go at the next poll, not hours later."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.webhook import domain
from crvshub.webhook.delivery import DeliveryEngine
from tests.webhook.conftest import Subscriber, subscribe
from tests.webhook.factories import register_births
from tests.webhook.receiver import Receiver


def _slow_engine(ctx: AppContext) -> DeliveryEngine:
    ctx.settings.webhook_retry_schedule = "300,300,300"
    return DeliveryEngine(ctx)


def test_a_success_brings_forward_what_waits_for_the_same_receiver(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver
) -> None:
    subscribe(client, subscriber, receiver.url)
    # Another callback at the same origin (another path) waits for the same receiver.
    subscribe(client, subscriber, receiver.url.replace("/hook", "/other"))
    port = receiver.port
    receiver.stop()
    register_births(ctx, 3)
    engine = _slow_engine(ctx)
    try:
        assert engine.run_once() == 6  # all refused: the next try is 300 s away
        assert engine.run_once() == 0
        receiver.port = port
        receiver.start()
        register_births(ctx, 1)
        assert engine.run_once() == 2  # only the new event is due; it is delivered
        assert engine.run_once() == 6  # the receiver is back: the waiting ones go at once
    finally:
        engine.close()
    assert len(receiver.ids()) == 8


def test_a_delivery_the_receiver_refused_keeps_its_schedule(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver
) -> None:
    subscribe(client, subscriber, receiver.url)
    receiver.script = [400]
    engine = _slow_engine(ctx)
    try:
        register_births(ctx, 1)
        assert engine.run_once() == 1  # refused with 400: retried in 300 s
        register_births(ctx, 1)
        assert engine.run_once() == 1  # delivered
        assert engine.run_once() == 0  # the refused one was not brought forward
    finally:
        engine.close()


def test_the_default_schedule_retries_within_minutes_first() -> None:
    assert domain.DEFAULT_RETRY_SCHEDULE[:4] == (5, 30, 120, 300)
    assert sum(domain.DEFAULT_RETRY_SCHEDULE) > 72 * 3600
