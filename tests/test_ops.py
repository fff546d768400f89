"""Liveness, readiness, metrics, request ids and the API documentation."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_and_migrations(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["migrations"] == "at head"


def test_readyz_is_503_when_schema_is_behind(client: TestClient, ctx) -> None:
    from sqlalchemy import text

    with ctx.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "pending" in response.json()["migrations"]


def test_request_id_is_returned_and_generated(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc"}).headers["x-request-id"] == "abc"
    assert len(client.get("/healthz").headers["x-request-id"]) == 32


def test_metrics_count_requests_by_route(client: TestClient) -> None:
    client.get("/healthz")
    body = client.get("/metrics").text
    assert 'crvshub_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert "crvshub_http_request_duration_seconds_bucket" in body


def test_documentation_and_openapi(client: TestClient) -> None:
    assert "swagger" in client.get("/documentation").text.lower()
    spec = client.get("/openapi.json").json()
    assert "/api/auth/login" in spec["paths"]


def test_plain_readyz_does_not_need_a_worker(client: TestClient) -> None:
    """Load balancers keep sending traffic to the API while the worker is down."""
    assert client.get("/readyz").status_code == 200


def test_readyz_worker_is_503_without_a_heartbeat(client: TestClient) -> None:
    response = client.get("/readyz?worker=1")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["worker"]["last_heartbeat_seconds"] is None
    assert "no outbox worker is running" in body["worker"]["problems"][0]


def test_readyz_worker_follows_the_heartbeat(client: TestClient, ctx) -> None:
    from sqlalchemy import update

    from crvshub.db import utcnow
    from crvshub.outbox.models import WorkerHeartbeat
    from crvshub.outbox.worker import Worker

    worker = Worker(ctx)
    worker.heartbeat(force=True)
    response = client.get("/readyz?worker=1")
    assert response.status_code == 200, response.json()
    assert response.json()["worker"]["problems"] == []
    assert response.json()["worker"]["last_heartbeat_seconds"] < 5

    with ctx.db.transaction() as session:  # the worker stalls: its last beat grows old
        session.execute(update(WorkerHeartbeat).values(beat_at=utcnow() - timedelta(seconds=90)))
    response = client.get("/readyz?worker=1")
    assert response.status_code == 503
    assert "heartbeat for 90 s" in response.json()["worker"]["problems"][0]

    worker.heartbeat(force=True)
    assert client.get("/readyz?worker=1").status_code == 200
    worker.stop()
    worker.run_forever()  # already stopped: returns at once and removes its heartbeat
    assert client.get("/readyz?worker=1").status_code == 503


def test_readyz_worker_is_503_when_due_work_waits_too_long(client: TestClient, ctx) -> None:
    from crvshub.db import utcnow
    from crvshub.outbox.models import OutboxJob
    from crvshub.outbox.worker import Worker

    Worker(ctx).heartbeat(force=True)
    with ctx.db.transaction() as session:
        session.add(OutboxJob(kind="anything", payload={},
                              available_at=utcnow() + timedelta(hours=1)))  # not due yet
    assert client.get("/readyz?worker=1").status_code == 200
    with ctx.db.transaction() as session:
        session.add(OutboxJob(kind="anything", payload={},
                              available_at=utcnow() - timedelta(seconds=600)))
    response = client.get("/readyz?worker=1")
    assert response.status_code == 503
    worker = response.json()["worker"]
    assert worker["oldest_due_outbox_seconds"] >= 600
    assert "oldest due outbox job has waited" in worker["problems"][0]
