"""Faults with real processes: receiver outage, worker killed with SIGKILL mid-batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from crvshub.settings import Settings
from tests.helpers import LiveServer, bearer, new_client
from tests.webhook.conftest import BIRTH_PERMISSIONS
from tests.webhook.factories import register_births
from tests.webhook.receiver import Receiver

pytestmark = pytest.mark.slow


def _subscribe(live: LiveServer, callback: str) -> dict[str, str]:
    creds, token = new_client(live.ctx, "WEBHOOK", webhook_permissions=BIRTH_PERMISSIONS)
    body = {"hub": {"callback": callback, "mode": "subscribe", "topic": "BIRTH_REGISTERED",
                    "secret": creds.sha_secret}}
    response = httpx.post(f"{live.url}/webhooks", json=body, headers=bearer(token), timeout=10)
    assert response.status_code == 202, response.text
    return bearer(token)


def test_receiver_down_for_a_while_gets_every_event_when_back(
    live_server: LiveServer, receiver: Receiver
) -> None:
    headers = _subscribe(live_server, receiver.url)
    port = receiver.port
    receiver.stop()
    ids = register_births(live_server.ctx, 5)
    time.sleep(1.5)  # several attempts fail with connection refused
    receiver.port = port
    receiver.start()
    receiver.wait_for(lambda got: len({r.headers["webhook-id"] for r in got}) == 5, timeout=20)
    assert {r.json["event"]["context"][0]["entry"][0]["resource"]["focus"]["reference"]
            for r in receiver.received} == {f"urn:uuid:{i}" for i in ids}
    sub_id = httpx.get(f"{live_server.url}/webhooks", headers=headers).json()["entries"][0]["id"]
    page = httpx.get(f"{live_server.url}/webhooks/{sub_id}/deliveries", headers=headers).json()
    for delivery in page["entries"]:
        assert delivery["status"] == "delivered"
        assert delivery["attempts"][0]["error"].startswith("network error")
        assert delivery["attempts"][-1]["statusCode"] == 200


def _worker(settings: Settings, cwd: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CRVSHUB_DATABASE_URL": settings.database_url,
        "CRVSHUB_ENVIRONMENT": "test",
        "CRVSHUB_WEBHOOK_ALLOW_PRIVATE": "true",
        "CRVSHUB_WEBHOOK_LEASE_SECONDS": "2",
        "CRVSHUB_WEBHOOK_CONCURRENCY": "2",
        "CRVSHUB_WEBHOOK_BATCH_SIZE": "10",
        "CRVSHUB_OUTBOX_POLL_INTERVAL": "0.05",
        "CRVSHUB_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "crvshub", "worker"], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_worker_killed_mid_batch_loses_nothing(
    settings: Settings, client: object, receiver: Receiver, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from crvshub.context import AppContext

    assert isinstance(client, TestClient)
    ctx: AppContext = client.app.state.ctx  # type: ignore[attr-defined]
    creds, token = new_client(ctx, "WEBHOOK", webhook_permissions=BIRTH_PERMISSIONS)
    body = {"hub": {"callback": receiver.url, "mode": "subscribe", "topic": "BIRTH_REGISTERED",
                    "secret": creds.sha_secret}}
    assert client.post("/webhooks", json=body, headers=bearer(token)).status_code == 202
    receiver.delay = 0.05
    total = 60
    register_births(ctx, total)
    worker = _worker(settings, tmp_path)
    try:
        receiver.wait_for(lambda got: len(got) >= 8, timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert len(receiver.ids()) < total, "the worker finished before it was killed"
        worker = _worker(settings, tmp_path)
        receiver.wait_for(lambda got: len({r.headers["webhook-id"] for r in got}) == total,
                          timeout=60)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(15)
    sequences = sorted({int(r.headers["x-crvshub-sequence"]) for r in receiver.received})
    assert sequences == list(range(1, total + 1))
