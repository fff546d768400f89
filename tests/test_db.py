"""Pooled connections: idle ones are checked before use; a lost one is a 503 the caller retries."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from crvshub import db
from crvshub.context import AppContext
from tests.notification.helpers import (
    codes,
    example,
    fresh_ids,
    health_token,
    post,
    records,
)

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def _terminate_other_connections(database_url: str) -> int:
    """Cut every connection to the test database, as a database restart would."""
    url = make_url(database_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username,
                         dbname=url.database, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)



def test_lost_connection_is_503_and_the_retry_is_saved_once(
    client: TestClient, ctx: AppContext, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)  # busy pool: no ping before use
    token = health_token(ctx)
    assert post(client, token, fresh_ids(example("birth-minimal"))).status_code == 200
    before = records(ctx)
    assert _terminate_other_connections(database_url) >= 1

    bundle = fresh_ids(example("death-minimal"))
    lost = post(client, token, bundle, **{"Idempotency-Key": "restart-1"})
    assert lost.status_code == 503
    assert codes(lost) == ["GEN-503-001"]
    assert lost.headers["retry-after"] == "5"
    assert "psycopg" not in lost.text and "terminat" not in lost.text

    retried = post(client, token, bundle, **{"Idempotency-Key": "restart-1"})
    assert retried.status_code == 200
    again = post(client, token, bundle, **{"Idempotency-Key": "restart-1"})
    assert again.headers["idempotent-replayed"] == "true"
    assert records(ctx) == before + 1


def test_idle_connection_is_checked_and_replaced_before_use(
    client: TestClient, ctx: AppContext, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # every pooled connection counts as idle
    token = health_token(ctx)
    assert post(client, token, fresh_ids(example("birth-minimal"))).status_code == 200
    assert _terminate_other_connections(database_url) >= 1
    response = post(client, token, fresh_ids(example("birth-full")))
    assert response.status_code == 200, response.text
