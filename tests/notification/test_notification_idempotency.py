"""Retries never duplicate a record: Idempotency-Key, Composition identifier, concurrency."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crvshub.context import AppContext
from crvshub.notification.models import IdempotencyKey
from crvshub.record import creation
from crvshub.record.models import Record
from tests.helpers import LiveServer, bearer
from tests.notification.helpers import (
    codes,
    example,
    fresh_ids,
    health_token,
    post,
    records,
)


def test_retry_with_idempotency_key_returns_the_original(client: TestClient, ctx: AppContext):
    token = health_token(ctx)
    bundle = fresh_ids(example("birth-minimal"))
    first = post(client, token, bundle, **{"Idempotency-Key": "his-42"})
    again = post(client, token, bundle, **{"Idempotency-Key": "his-42"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert records(ctx) == 1


def test_same_key_different_payload_is_409(client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx)
    assert post(client, token, example("birth-minimal"),
                **{"Idempotency-Key": "k1"}).status_code == 200
    response = post(client, token, example("death-minimal"), **{"Idempotency-Key": "k1"})
    assert response.status_code == 409
    assert codes(response) == ["NOTIF-409-001"]
    assert records(ctx) == 1


def test_composition_identifier_is_the_implicit_key(client: TestClient, ctx: AppContext):
    token = health_token(ctx)
    bundle = example("birth-full")  # carries identifier HARAMBO-HOSP-2026-000123
    first = post(client, token, bundle)
    again = post(client, token, bundle)
    assert again.status_code == 200 and again.json() == first.json()
    assert records(ctx) == 1
    changed = example("birth-full")
    changed["entry"][2]["resource"]["gender"] = "female"
    conflict = post(client, token, changed)
    assert conflict.status_code == 409
    assert conflict.json()["issue"][0]["expression"] == ["Bundle.entry[0].resource.identifier"]


def test_keys_are_per_client(client: TestClient, ctx: AppContext) -> None:
    bundle = example("birth-full")
    first = post(client, health_token(ctx, "Hospital A"), bundle)
    second = post(client, health_token(ctx, "Hospital B"), bundle)
    assert first.status_code == second.status_code == 200
    assert first.json()["entry"][0]["resource"]["id"] != second.json()["entry"][0]["resource"]["id"]
    assert records(ctx) == 2


def test_bundles_without_identifier_or_key_are_distinct(client: TestClient, ctx: AppContext):
    token = health_token(ctx)
    for _ in range(2):
        assert post(client, token, example("birth-minimal")).status_code == 200
    assert records(ctx) == 2


def test_a_failed_request_leaves_no_key_behind(client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx)
    bad = example("birth-minimal")
    bad["entry"][1]["resource"]["status"] = "ready"
    assert post(client, token, bad, **{"Idempotency-Key": "k2"}).status_code == 422
    good = post(client, token, example("birth-minimal"), **{"Idempotency-Key": "k2"})
    assert good.status_code == 200
    with ctx.db.transaction() as session:
        assert len(session.scalars(select(IdempotencyKey)).all()) == 1


def test_tracking_id_collision_draws_a_new_one(
    client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = health_token(ctx)
    taken = post(client, token, example("birth-minimal")).json()
    taken_id = taken["entry"][0]["resource"]["identifier"]["value"]
    draws = iter([taken_id, taken_id, "BZZZZZ9"])
    monkeypatch.setattr(creation, "new_tracking_id", lambda event: next(draws))
    response = post(client, token, example("birth-minimal"))
    assert response.status_code == 200, response.text
    assert response.json()["entry"][0]["resource"]["identifier"]["value"] == "BZZZZZ9"
    with ctx.db.transaction() as session:
        ids = sorted(session.scalars(select(Record.tracking_id)).all())
    assert ids == sorted([taken_id, "BZZZZZ9"])


def test_concurrent_retries_create_one_record(live_server: LiveServer) -> None:
    token = health_token(live_server.ctx)
    bundle = fresh_ids(example("death-full"))
    results: list[Any] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        with httpx.Client(base_url=live_server.url, timeout=60) as http:
            barrier.wait()
            results.append(http.post("/notification", json=bundle, headers={
                **bearer(token), "Idempotency-Key": "storm-1"}))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200] * 8, [r.text for r in results]
    ids = {r.json()["entry"][0]["resource"]["id"] for r in results}
    assert len(ids) == 1
    assert sum(1 for r in results if "idempotent-replayed" not in r.headers) == 1
    assert records(live_server.ctx) == 1


def test_a_retry_gets_the_first_answer_even_after_the_record_moved_on(
    client: TestClient, ctx: AppContext
) -> None:
    """A hospital retrying after a timeout sees what it would have seen, not later changes."""
    from tests.helpers import REGISTRATION_AGENT, user_token

    token = health_token(ctx)
    bundle = example("birth-full")  # carries a Composition identifier: the retry key
    first = post(client, token, bundle)
    assert first.status_code == 200
    rid = first.headers["location"].rsplit("/", 1)[1]
    validated = client.post(f"/api/records/{rid}/actions/validate",
                            headers=bearer(user_token(ctx, REGISTRATION_AGENT)))
    assert validated.status_code == 200, validated.text
    assert validated.json()["status"] == "VALIDATED"

    again = post(client, token, bundle)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    task = again.json()["entry"][1]["resource"]
    assert task["businessStatus"]["coding"][0]["code"] == "DECLARED"
    assert records(ctx) == 1
