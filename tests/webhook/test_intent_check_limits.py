"""The subscription intent check: off the thread pool, time-limited, a few at a time per client."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import LiveServer, bearer, new_client
from tests.webhook.conftest import BIRTH_PERMISSIONS, Subscriber
from tests.webhook.receiver import Receiver


def _hub(secret: str, callback: str) -> dict[str, object]:
    return {"hub": {"callback": callback, "mode": "subscribe", "topic": "BIRTH_REGISTERED",
                    "secret": secret}}


@pytest.mark.slow
def test_slow_callbacks_leave_the_other_requests_fast(
    live_server: LiveServer, receiver: Receiver
) -> None:
    live_server.ctx.settings.webhook_verify_per_client = 100
    live_server.ctx.settings.webhook_verify_timeout = 15  # room for a loaded test machine
    creds, token = new_client(live_server.ctx, "WEBHOOK", webhook_permissions=BIRTH_PERMISSIONS)
    headers = bearer(token)
    receiver.verify_delay = 6
    body = _hub(creds.sha_secret, receiver.url)

    def post(_: int) -> int:
        return httpx.post(f"{live_server.url}/webhooks", json=body, headers=headers,
                          timeout=30).status_code

    with ThreadPoolExecutor(45) as pool:
        posts = [pool.submit(post, i) for i in range(45)]
        # Measured while the first checks still wait (they answer after 6 s).
        deadline = time.monotonic() + 2.5
        while len(receiver.verifications) < 45 and time.monotonic() < deadline:
            time.sleep(0.05)
        waiting = len(receiver.verifications)
        start = time.perf_counter()
        # A route that runs in the thread pool (a sync endpoint with its session).
        other = httpx.get(f"{live_server.url}/webhooks", headers=headers, timeout=30)
        elapsed = time.perf_counter() - start
        statuses = [p.result() for p in posts]
    assert other.status_code == 200
    assert elapsed < 2, f"GET /webhooks took {elapsed:.2f} s while {waiting} checks waited"
    assert statuses == [202] * 45


def test_a_client_has_two_checks_in_flight_then_429(
    client: TestClient, subscriber: Subscriber, receiver: Receiver
) -> None:
    receiver.verify_delay = 1.5
    body = _hub(subscriber.creds.sha_secret, receiver.url)

    def post(_: int) -> httpx.Response:
        return client.post("/webhooks", json=body, headers=subscriber.headers)

    with ThreadPoolExecutor(3) as pool:
        first = [pool.submit(post, i) for i in range(2)]
        deadline = time.monotonic() + 10
        while len(receiver.verifications) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        third = pool.submit(post, 2).result()
        assert [f.result().status_code for f in first] == [202, 202]
    assert third.status_code == 429
    assert third.headers["Retry-After"] == "5"
    assert third.json()["issue"][0]["details"]["coding"][0]["code"] == "WH-429-001"
    assert len(receiver.verifications) == 2  # the refused request never called the callback
    # The slots are free again once the checks are done.
    assert post(3).status_code == 202


def test_a_slow_callback_fails_the_check_at_the_time_limit(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver
) -> None:
    ctx.settings.webhook_verify_timeout = 1.0
    receiver.verify_delay = 4
    start = time.perf_counter()
    response = client.post("/webhooks", json=_hub(subscriber.creds.sha_secret, receiver.url),
                           headers=subscriber.headers)
    assert time.perf_counter() - start < 3
    assert response.status_code == 400
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "WH-400-006"
    assert client.get("/webhooks", headers=subscriber.headers).json()["entries"] == []
