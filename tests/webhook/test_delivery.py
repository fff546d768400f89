"""Fan-out and delivery: payload shape, filtering, signatures, sequence, retries, log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse

from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from crvshub.context import AppContext
from crvshub.webhook.delivery import DeliveryEngine
from tests.helpers import bearer, new_client
from tests.webhook.conftest import Subscriber, drain, subscribe
from tests.webhook.factories import emit_event, make_record, register_births
from tests.webhook.receiver import Receiver


def independent_opencrvs_signature(raw_body: bytes, secret: str) -> str:
    """Re-implement spec 5.6 from its text: HMAC over "sha256:" + encodeURIComponent(body)."""
    text = raw_body.decode("utf-8")
    unreserved = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()")
    encoded = "".join(
        ch if ch in unreserved else "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
        for ch in text
    )
    mac = hmac.new(secret.encode(), ("sha256:" + encoded).encode(), hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def test_registered_birth_reaches_an_opencrvs_subscriber_with_valid_signatures(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    sub_id = subscribe(client, subscriber, receiver.url)
    record = make_record(ctx)
    emit_event(ctx, record, "BIRTH_REGISTERED")
    assert drain(engine) == 1
    [got] = receiver.received
    secret = subscriber.creds.sha_secret
    assert got.headers["x-hub-signature"] == independent_opencrvs_signature(got.body, secret)
    assert "%C3%9C" in urllib.parse.quote(got.body.decode(), safe="-_.!~*'()")  # non-ASCII body
    whsec = "whsec_" + base64.b64encode(secret.encode()).decode()
    verified = Webhook(whsec).verify(got.body, {k: got.headers[k] for k in (
        "webhook-id", "webhook-timestamp", "webhook-signature")})
    payload = got.json
    assert verified == payload
    # OpenCRVS's shape exactly (spec 5.5): `id` is the subscription id, nothing else added.
    assert set(payload) == {"timestamp", "id", "event"}
    assert set(payload["event"]) == {"hub", "context"}
    assert payload["id"] == sub_id
    assert got.headers["webhook-id"] != sub_id  # the delivery id, in the header
    assert payload["event"]["hub"]["topic"] == "BIRTH_REGISTERED"
    assert got.headers["x-crvshub-sequence"] == "1"
    bundle = payload["event"]["context"][0]
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    # Permissions allow child-details only: the Task and the child, nothing else.
    assert kinds == ["Task", "Patient"]
    assert bundle["entry"][1]["resource"]["name"][0]["family"] == "child-details-Name"
    assert payload["timestamp"].endswith("Z")


def test_tampered_body_fails_both_signatures(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    import pytest
    from standardwebhooks.webhooks import WebhookVerificationError

    subscribe(client, subscriber, receiver.url)
    register_births(ctx, 1)
    drain(engine)
    got = receiver.received[0]
    tampered = got.body.replace(b"BIRTH_REGISTERED", b"DEATH_REGISTERED")
    secret = subscriber.creds.sha_secret
    assert got.headers["x-hub-signature"] != independent_opencrvs_signature(tampered, secret)
    whsec = "whsec_" + base64.b64encode(secret.encode()).decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(whsec).verify(tampered, {k: got.headers[k] for k in (
            "webhook-id", "webhook-timestamp", "webhook-signature")})


def test_national_id_gets_fixed_sections_and_thin_payloads_have_no_personal_data(
    client: TestClient, ctx: AppContext, receiver: Receiver, engine: DeliveryEngine,
) -> None:
    nid_creds, nid_token = new_client(ctx, "NATIONAL_ID")
    nid = Subscriber(nid_creds, nid_token)
    subscribe(client, nid, receiver.url + "?who=nid")
    thin_creds, thin_token = new_client(ctx, "WEBHOOK", name="thin")
    thin = Subscriber(thin_creds, thin_token)
    thin_id = subscribe(client, thin, receiver.url + "?who=thin", payload="thin")
    record = make_record(ctx)
    emit_event(ctx, record, "BIRTH_REGISTERED")
    drain(engine)
    by_sub = {r.json["id"]: r for r in receiver.received}
    assert len(by_sub) == 2
    got_slim = by_sub.pop(thin_id)
    [got_full] = by_sub.values()
    full, slim = got_full.json, got_slim.json
    assert set(full) == {"timestamp", "id", "event"}
    # The thin payload is CRVS Hub's own option and carries the delivery id and sequence too.
    assert set(slim) == {"timestamp", "id", "event", "deliveryId", "sequence", "record"}
    assert slim["deliveryId"] == got_slim.headers["webhook-id"] and slim["sequence"] == 1
    kinds = sorted(e["resource"]["resourceType"] for e in full["event"]["context"][0]["entry"])
    assert kinds == ["Patient", "Patient", "Patient", "Patient", "Task"]
    assert "Composition" not in json.dumps(full)
    assert slim["record"] == {"id": record.id, "event": "birth", "trackingId": record.tracking_id,
                              "status": "REGISTERED",
                              "registrationNumber": record.registration_number}
    text = json.dumps(slim)
    assert "Name" not in text and "+2609" not in text
    assert [e["resource"]["resourceType"] for e in slim["event"]["context"][0]["entry"]] == ["Task"]


def test_only_matching_topics_and_sequences_increase(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    subscribe(client, subscriber, receiver.url)
    death = make_record(ctx, "death")
    emit_event(ctx, death, "DEATH_REGISTERED")
    register_births(ctx, 3, "BIRTH_CERTIFIED")
    register_births(ctx, 3)
    drain(engine)
    assert sorted(int(r.headers["x-crvshub-sequence"]) for r in receiver.received) == [1, 2, 3]
    assert {r.json["event"]["hub"]["topic"] for r in receiver.received} == {"BIRTH_REGISTERED"}
    assert len(receiver.ids()) == 3


def test_rolled_back_transaction_delivers_nothing(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    import pytest

    from crvshub.outbox.service import emit

    subscribe(client, subscriber, receiver.url)
    record = make_record(ctx)
    def failing_change() -> None:
        with ctx.db.transaction() as session:
            emit(session, "BIRTH_REGISTERED", record_id=record.id, data={})
            raise RuntimeError("status change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    register_births(ctx, 1)
    drain(engine)
    assert [r.headers["x-crvshub-sequence"] for r in receiver.received] == ["1"]


def test_500_then_200_is_retried_and_every_attempt_logged(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    sub_id = subscribe(client, subscriber, receiver.url)
    ctx.settings.webhook_retry_schedule = "0.2,0.2,0.2"
    engine = DeliveryEngine(ctx)
    receiver.script = [500, 503]
    register_births(ctx, 1)
    deadline = time.monotonic() + 10
    while len(receiver.received) < 3 and time.monotonic() < deadline:
        engine.run_once()
        time.sleep(0.05)
    assert len(receiver.received) == 3
    assert len(receiver.ids()) == 1  # the same webhook-id on every retry
    deliveries = client.get(f"/webhooks/{sub_id}/deliveries", headers=subscriber.headers).json()
    [delivery] = deliveries["entries"]
    assert delivery["status"] == "delivered"
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 503, 200]
    assert [a["outcome"] for a in delivery["attempts"]] == ["failed", "failed", "delivered"]
    assert all(a["latencyMs"] > 0 for a in delivery["attempts"])
    # A receiver on a private or loopback address (allowed by the operator): no answer kept.
    assert all(a["response"] is None for a in delivery["attempts"])


def test_retry_after_is_honoured(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    subscribe(client, subscriber, receiver.url)
    receiver.script = [(429, {"Retry-After": "2"})]
    register_births(ctx, 1)
    engine.run_once()
    time.sleep(0.5)
    assert engine.run_once() == 0  # the schedule says 0.2 s, Retry-After says 2 s
    time.sleep(1.8)
    assert drain(engine) == 1
    assert len(receiver.received) == 2


def test_gives_up_after_the_schedule_and_disables_after_a_run_of_failures(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
) -> None:
    ctx.settings.webhook_disable_after_failures = 8
    ctx.settings.webhook_disable_after_hours = 0
    ctx.settings.webhook_retry_schedule = "0.2,0.2,0.2"
    eng = DeliveryEngine(ctx)
    sub_id = subscribe(client, subscriber, receiver.url)
    receiver.script = [500] * 100
    register_births(ctx, 2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        eng.run_once()
        detail = client.get(f"/webhooks/{sub_id}", headers=subscriber.headers).json()
        if detail["status"] != "active":
            break
        time.sleep(0.1)
    eng.close()
    assert detail["status"] == "disabled"
    assert "failed attempts in a row" in detail["statusReason"]
    assert detail["deliveries"] == {"failed": 2}  # 1 try + 3 retries each, then given up
    assert len(receiver.received) == 8
    listed = client.get("/webhooks", headers=subscriber.headers).json()["entries"][0]
    assert listed["status"] == "disabled"
    # Events while disabled wait; re-enabling sends them.
    register_births(ctx, 1)
    eng = DeliveryEngine(ctx)
    assert eng.run_once() == 0
    receiver.script = []
    assert client.post(f"/webhooks/{sub_id}/enable", headers=subscriber.headers).status_code == 200
    assert drain(eng) == 1
    eng.close()


def test_410_gone_unsubscribes(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    sub_id = subscribe(client, subscriber, receiver.url)
    receiver.script = [410]
    register_births(ctx, 3)
    drain(engine)
    detail = client.get(f"/webhooks/{sub_id}", headers=subscriber.headers).json()
    assert detail["status"] == "unsubscribed"
    assert detail["deliveries"] == {"cancelled": 3}
    register_births(ctx, 1)
    drain(engine)
    assert len(receiver.received) == 1


def test_a_pipelined_engine_sends_nothing_after_410_gone(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver
) -> None:
    sub_id = subscribe(client, subscriber, receiver.url)
    receiver.script = [410]
    engine = DeliveryEngine.in_worker(ctx)  # records a batch while the next one is sent
    try:
        register_births(ctx, 1)
        assert engine.run_once() == 1  # 410: its recording may still be running
        register_births(ctx, 2)
        # The recording of a batch with a failure is awaited before the next claim: the
        # subscription is unsubscribed and any new delivery cancelled, none is sent.
        assert engine.run_once() == 0
    finally:
        engine.close()
    assert len(receiver.received) == 1
    detail = client.get(f"/webhooks/{sub_id}", headers=subscriber.headers).json()
    assert detail["status"] == "unsubscribed"
    assert list(detail["deliveries"]) == ["cancelled"]  # 1, or 3 if fanned out before the 410


def test_deactivated_client_stops_receiving_at_once(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    from crvshub.auth import repository as auth_repository

    subscribe(client, subscriber, receiver.url)
    register_births(ctx, 2)
    with ctx.db.transaction() as session:
        row = auth_repository.client_by_id(session, subscriber.creds.client.id)
        assert row is not None
        row.status = "deactivated"
    register_births(ctx, 1)
    assert drain(engine) == 0
    assert receiver.received == []


def test_callback_refused_at_send_time_is_logged(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
) -> None:
    sub_id = subscribe(client, subscriber, receiver.url)
    register_births(ctx, 1)
    ctx.settings.webhook_allow_private = False
    ctx.settings.environment = "production"
    eng = DeliveryEngine(ctx)
    assert eng.run_once() == 1
    eng.close()
    assert receiver.received == []
    delivery = client.get(f"/webhooks/{sub_id}/deliveries", headers=subscriber.headers).json()
    attempt = delivery["entries"][0]["attempts"][0]
    assert attempt["statusCode"] is None
    assert "private" in attempt["error"]


def test_metrics_show_attempts_latency_and_backlog(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    subscribe(client, subscriber, receiver.url)
    register_births(ctx, 2)
    engine.update_metrics()
    text = client.get("/metrics").text
    assert "crvshub_webhook_backlog 2.0" in text
    drain(engine)
    engine.update_metrics()
    text = client.get("/metrics").text
    assert "crvshub_webhook_backlog 0.0" in text
    assert 'crvshub_webhook_attempts_total{outcome="delivered"}' in text
    assert "crvshub_webhook_commit_to_attempt_seconds_count" in text
    assert "crvshub_webhook_failures_total" in text


def test_client_token_cannot_use_bearer_of_other(client: TestClient, ctx: AppContext) -> None:
    _c, token = new_client(ctx, "WEBHOOK")
    assert client.get("/webhooks/nope/deliveries", headers=bearer(token)).status_code == 404
