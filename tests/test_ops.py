"""Liveness, readiness, metrics, request ids and the API documentation."""

from __future__ import annotations

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
