"""Operate webhooks: redeliver, replay, backlog; as the owner and as the admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.webhook.delivery import DeliveryEngine
from tests.helpers import LOCAL_REGISTRAR, NATLSYSADMIN, bearer, new_client, user_token
from tests.webhook.conftest import Subscriber, drain, subscribe
from tests.webhook.factories import register_births
from tests.webhook.receiver import Receiver


def test_owner_redelivers_one_and_replays_since_a_time(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    sub_id = subscribe(client, subscriber, receiver.url)
    register_births(ctx, 3)
    drain(engine)
    entries = client.get(f"/webhooks/{sub_id}/deliveries", headers=subscriber.headers).json()
    assert [d["sequence"] for d in entries["entries"]] == [3, 2, 1]
    first = entries["entries"][-1]["id"]
    one = client.get(f"/webhooks/{sub_id}/deliveries/{first}", headers=subscriber.headers).json()
    assert one["id"] == first and one["payload"]["id"] == sub_id
    response = client.post(f"/webhooks/{sub_id}/deliveries/{first}/redeliver",
                           headers=subscriber.headers)
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    drain(engine)
    assert [r.headers["webhook-id"] for r in receiver.received].count(first) == 2
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    replay = client.post(f"/webhooks/{sub_id}/replay", params={"since": since},
                         headers=subscriber.headers)
    assert replay.status_code == 202
    assert replay.json() == {"requeued": 3}
    drain(engine)
    assert len(receiver.received) == 7
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    none = client.post(f"/webhooks/{sub_id}/replay", params={"since": later},
                       headers=subscriber.headers)
    assert none.json() == {"requeued": 0}


def test_bad_input_and_unknown_ids(
    client: TestClient, subscriber: Subscriber, receiver: Receiver
) -> None:
    sub_id = subscribe(client, subscriber, receiver.url)
    h = subscriber.headers
    assert client.post(f"/webhooks/{sub_id}/replay", headers=h).status_code == 400
    naive = client.post(f"/webhooks/{sub_id}/replay", params={"since": "2026-01-01T00:00:00"},
                        headers=h)
    assert naive.status_code == 400
    assert naive.json()["issue"][0]["details"]["coding"][0]["code"] == "WH-400-008"
    assert client.post(f"/webhooks/{sub_id}/replay", params={"since": "yesterday"},
                       headers=h).status_code == 400
    assert client.get(f"/webhooks/{sub_id}/deliveries", params={"status": "weird"},
                      headers=h).status_code == 400
    missing = client.post(f"/webhooks/{sub_id}/deliveries/nope/redeliver", headers=h)
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["details"]["coding"][0]["code"] == "WH-404-002"
    assert client.post("/webhooks/nope/replay", params={"since": "2026-01-01T00:00:00Z"},
                       headers=h).status_code == 404


def test_other_clients_cannot_operate_my_subscription(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    sub_id = subscribe(client, subscriber, receiver.url)
    register_births(ctx, 1)
    drain(engine)
    delivery_id = client.get(f"/webhooks/{sub_id}/deliveries",
                             headers=subscriber.headers).json()["entries"][0]["id"]
    _c, other = new_client(ctx, "WEBHOOK", name="intruder")
    for method, path in (
        ("get", f"/webhooks/{sub_id}/deliveries"),
        ("get", f"/webhooks/{sub_id}/deliveries/{delivery_id}"),
        ("post", f"/webhooks/{sub_id}/deliveries/{delivery_id}/redeliver"),
        ("post", f"/webhooks/{sub_id}/enable"),
    ):
        assert getattr(client, method)(path, headers=bearer(other)).status_code == 404, path


def test_admin_sees_everything_and_the_backlog(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    sub_id = subscribe(client, subscriber, receiver.url)
    register_births(ctx, 2)
    admin = bearer(user_token(ctx, NATLSYSADMIN))
    backlog = client.get("/api/webhooks/backlog", headers=admin).json()
    assert backlog["pending"] == 2
    assert backlog["subscriptions"] == [{"subscriptionId": sub_id, "pending": 2}]
    assert backlog["oldestPendingAt"] is not None
    drain(engine)
    assert client.get("/api/webhooks/backlog", headers=admin).json()["pending"] == 0
    subs = client.get("/api/webhooks/subscriptions", headers=admin).json()["entries"]
    assert [s["id"] for s in subs] == [sub_id]
    detail = client.get(f"/api/webhooks/subscriptions/{sub_id}", headers=admin).json()
    assert detail["deliveries"] == {"delivered": 2}
    page = client.get(f"/api/webhooks/subscriptions/{sub_id}/deliveries", headers=admin).json()
    delivery_id = page["entries"][0]["id"]
    assert page["entries"][0]["attempts"][0]["statusCode"] == 200
    assert client.get(f"/api/webhooks/subscriptions/{sub_id}/deliveries/{delivery_id}",
                      headers=admin).status_code == 200
    assert client.post(f"/api/webhooks/subscriptions/{sub_id}/deliveries/{delivery_id}"
                       "/redeliver", headers=admin).status_code == 202
    replay = client.post(f"/api/webhooks/subscriptions/{sub_id}/replay",
                         params={"since": "2000-01-01T00:00:00Z"}, headers=admin)
    assert replay.json() == {"requeued": 2}
    assert client.post(f"/api/webhooks/subscriptions/{sub_id}/enable",
                       headers=admin).status_code == 200
    assert client.get("/api/webhooks/subscriptions/nope", headers=admin).status_code == 404


def test_admin_api_needs_natlsysadmin(client: TestClient, ctx: AppContext,
                                      subscriber: Subscriber) -> None:
    assert client.get("/api/webhooks/backlog").status_code == 401
    registrar = bearer(user_token(ctx, LOCAL_REGISTRAR))
    assert client.get("/api/webhooks/backlog", headers=registrar).status_code == 403
    assert client.get("/api/webhooks/subscriptions", headers=subscriber.headers).status_code == 403
