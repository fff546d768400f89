"""Fixtures of the webhook tests: fast retries, a live receiver, a subscribed client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from crvshub.auth.clients import IssuedCredentials
from crvshub.context import AppContext
from crvshub.settings import Settings
from crvshub.webhook.delivery import DeliveryEngine
from tests.helpers import bearer, new_client
from tests.webhook.receiver import Receiver

BIRTH_PERMISSIONS = [{"event": "birth", "permissions": ["child-details"]},
                     {"event": "death", "permissions": ["deceased-details"]}]


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Test settings with a fast retry schedule."""
    return Settings(
        database_url=database_url, environment="test", embedded_worker=False,
        log_level="WARNING", webhook_allow_private=True, outbox_poll_interval=0.05,
        webhook_retry_schedule="0.2,0.5,1,1,1,1,1,1,1,1", webhook_lease_seconds=5,
        public_metrics=True,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running webhook receiver."""
    rec = Receiver().start()
    yield rec
    rec.stop()


@dataclass
class Subscriber:
    """A WEBHOOK client with its credentials and token."""

    creds: IssuedCredentials
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@pytest.fixture
def subscriber(ctx: AppContext) -> Subscriber:
    """A WEBHOOK client allowed to see the child's details of births."""
    creds, token = new_client(ctx, "WEBHOOK", webhook_permissions=BIRTH_PERMISSIONS)
    return Subscriber(creds, token)


def subscribe(client: TestClient, sub: Subscriber, callback: str,
              topic: str = "BIRTH_REGISTERED", **extra: str) -> str:
    """Subscribe through the API and return the new subscription id."""
    hub = {"callback": callback, "mode": "subscribe", "topic": topic,
           "secret": sub.creds.sha_secret, **extra}
    response = client.post("/webhooks", json={"hub": hub}, headers=sub.headers)
    assert response.status_code == 202, response.text
    entries = client.get("/webhooks", headers=sub.headers).json()["entries"]
    return str(entries[-1]["id"])


@pytest.fixture
def engine(ctx: AppContext) -> Iterator[DeliveryEngine]:
    """The delivery engine, driven by hand in tests."""
    eng = DeliveryEngine(ctx)
    yield eng
    eng.close()


def drain(engine: DeliveryEngine, rounds: int = 50) -> int:
    """Run the engine until nothing is due; return how many attempts were made."""
    total = 0
    for _ in range(rounds):
        ran = engine.run_once()
        total += ran
        if ran == 0:
            break
    return total
