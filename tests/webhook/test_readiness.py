"""`/readyz?worker=1` notices webhook deliveries that are due and wait too long."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.outbox.worker import Worker
from crvshub.webhook.models import Delivery
from tests.webhook.conftest import Subscriber, subscribe
from tests.webhook.factories import register_births
from tests.webhook.receiver import Receiver


def test_an_overdue_webhook_delivery_makes_the_worker_unready(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver
) -> None:
    subscribe(client, subscriber, receiver.url)
    register_births(ctx, 1)
    Worker(ctx).heartbeat(force=True)
    with ctx.db.transaction() as session:  # a retry scheduled later is not overdue
        session.execute(update(Delivery).values(next_attempt_at=utcnow() + timedelta(hours=1)))
    ready = client.get("/readyz?worker=1")
    assert ready.status_code == 200, ready.json()
    with ctx.db.transaction() as session:
        session.execute(update(Delivery).values(next_attempt_at=utcnow() - timedelta(seconds=900)))
    response = client.get("/readyz?worker=1")
    assert response.status_code == 503
    worker = response.json()["worker"]
    assert worker["oldest_due_webhook_seconds"] >= 900
    assert any("oldest due webhook delivery has waited" in p for p in worker["problems"])
