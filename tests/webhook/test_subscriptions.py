"""Subscription API: OpenCRVS JSON and W3C WebSub, verification, listing, deletion, auth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import NATLSYSADMIN, bearer, new_client, user_token
from tests.webhook.conftest import Subscriber, subscribe
from tests.webhook.receiver import Receiver


def _hub(sub: Subscriber, callback: str, **over: object) -> dict[str, object]:
    hub: dict[str, object] = {"callback": callback, "mode": "subscribe",
                              "topic": "BIRTH_REGISTERED", "secret": sub.creds.sha_secret}
    hub.update(over)
    return {"hub": hub}


def test_subscribe_verifies_intent_and_lists_with_a_correct_created_at(
    client: TestClient, subscriber: Subscriber, receiver: Receiver
) -> None:
    before = datetime.now(UTC)
    response = client.post("/webhooks", json=_hub(subscriber, receiver.url),
                           headers=subscriber.headers)
    assert response.status_code == 202
    assert response.content == b""
    check = receiver.verifications[-1]
    assert check["mode"] == ["subscribe"]
    assert check["topic"] == ["BIRTH_REGISTERED"]
    assert len(check["challenge"][0]) == 24
    entries = client.get("/webhooks", headers=subscriber.headers).json()["entries"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["callback"] == receiver.url
    assert entry["topic"] == "BIRTH_REGISTERED"
    assert entry["createdBy"]["client_id"] == subscriber.creds.client.client_id
    assert entry["createdBy"]["type"] == "webhook"
    created = datetime.fromisoformat(entry["createdAt"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= created <= datetime.now(UTC) + timedelta(seconds=1)
    assert entry["status"] == "active"


def test_denials_have_the_opencrvs_hub_shape(
    client: TestClient, subscriber: Subscriber, receiver: Receiver
) -> None:
    cases = [
        (_hub(subscriber, receiver.url, topic="BIRTH_EXPLODED"), "WH-400-001", "Unsupported topic"),
        (_hub(subscriber, receiver.url, secret="wrong"), "WH-400-002", "incorrect"),
        (_hub(subscriber, receiver.url, mode="publish"), "WH-400-003", "subscribe"),
        (_hub(subscriber, "ftp://example.org/x"), "WH-400-004", "http"),
        ({"hub": {**_hub(subscriber, "")["hub"], "callback": 5}}, "WH-400-007", "string"),
        ({"nohub": 1}, "WH-400-007", "hub"),
    ]
    for body, code, words in cases:
        response = client.post("/webhooks", json=body, headers=subscriber.headers)
        assert response.status_code == 400, body
        data = response.json()
        assert data["hub"]["mode"] == "denied"
        assert words in data["hub"]["reason"]
        assert data["issue"][0]["details"]["coding"][0]["code"] == code
    assert client.get("/webhooks", headers=subscriber.headers).json()["entries"] == []


def test_malformed_json_is_a_400(client: TestClient, subscriber: Subscriber) -> None:
    response = client.post("/webhooks", content=b"{not json",
                           headers={**subscriber.headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "GEN-400-001"


def test_failed_verification_is_refused(
    client: TestClient, subscriber: Subscriber, receiver: Receiver
) -> None:
    receiver.echo = False
    response = client.post("/webhooks", json=_hub(subscriber, receiver.url),
                           headers=subscriber.headers)
    assert response.status_code == 400
    assert "Subscription callback check failed" in response.json()["hub"]["reason"]
    assert client.get("/webhooks", headers=subscriber.headers).json()["entries"] == []


def test_unreachable_callback_is_refused(client: TestClient, subscriber: Subscriber) -> None:
    from tests.helpers import free_port

    url = f"http://127.0.0.1:{free_port()}/hook"
    response = client.post("/webhooks", json=_hub(subscriber, url), headers=subscriber.headers)
    assert response.status_code == 400
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "WH-400-006"


def test_private_callbacks_are_refused_unless_allowed(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver
) -> None:
    ctx.settings.webhook_allow_private = False
    ctx.settings.environment = "production"
    for url in (receiver.url, "http://10.1.2.3/hook", "http://169.254.169.254/latest",
                "http://[::1]:9/x"):
        response = client.post("/webhooks", json=_hub(subscriber, url), headers=subscriber.headers)
        assert response.status_code == 400, url
        assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "WH-400-005"
    ctx.settings.webhook_allowlist = "127.0.0.1"
    response = client.post("/webhooks", json=_hub(subscriber, receiver.url),
                           headers=subscriber.headers)
    assert response.status_code == 202


def test_loopback_opt_in_allows_loopback_only(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver
) -> None:
    ctx.settings.webhook_allow_private = False
    ctx.settings.webhook_allow_loopback = True
    ok = client.post("/webhooks", json=_hub(subscriber, receiver.url), headers=subscriber.headers)
    assert ok.status_code == 202
    private = client.post("/webhooks", json=_hub(subscriber, "http://192.168.1.10/hook"),
                          headers=subscriber.headers)
    assert private.status_code == 400


def test_websub_form_subscription_with_lease_and_unsubscribe(
    client: TestClient, subscriber: Subscriber, receiver: Receiver
) -> None:
    form = {"hub.callback": receiver.url, "hub.mode": "subscribe",
            "hub.topic": "DEATH_REGISTERED", "hub.secret": "subscriber-chosen",
            "hub.lease_seconds": "3600"}
    response = client.post("/webhooks", data=form, headers=subscriber.headers)
    assert response.status_code == 202, response.text
    check = receiver.verifications[-1]
    assert check["hub.mode"] == ["subscribe"]
    assert check["hub.lease_seconds"] == ["3600"]
    entry = client.get("/webhooks", headers=subscriber.headers).json()["entries"][0]
    assert entry["mode"] == "websub"
    expires = datetime.fromisoformat(entry["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    again = client.post("/webhooks", data=form, headers=subscriber.headers)
    assert again.status_code == 202
    assert len(client.get("/webhooks", headers=subscriber.headers).json()["entries"]) == 1
    form["hub.mode"] = "unsubscribe"
    gone = client.post("/webhooks", data=form, headers=subscriber.headers)
    assert gone.status_code == 202
    assert receiver.verifications[-1]["hub.mode"] == ["unsubscribe"]
    assert client.get("/webhooks", headers=subscriber.headers).json()["entries"] == []


def test_websub_rejects_bad_lease(client: TestClient, subscriber: Subscriber,
                                  receiver: Receiver) -> None:
    form = {"hub.callback": receiver.url, "hub.mode": "subscribe",
            "hub.topic": "BIRTH_REGISTERED", "hub.lease_seconds": "soon"}
    response = client.post("/webhooks", data=form, headers=subscriber.headers)
    assert response.status_code == 400
    assert response.json()["hub"]["reason"].startswith("hub.lease_seconds")


def test_auth_missing_wrong_scope_and_foreign_delete(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver
) -> None:
    assert client.get("/webhooks").status_code == 401
    assert client.post("/webhooks", json=_hub(subscriber, receiver.url)).status_code == 401
    _creds, health_token = new_client(ctx, "HEALTH")
    assert client.get("/webhooks", headers=bearer(health_token)).status_code == 403
    staff = user_token(ctx, NATLSYSADMIN)
    assert client.post("/webhooks", json=_hub(subscriber, receiver.url),
                       headers=bearer(staff)).status_code == 403
    sub_id = subscribe(client, subscriber, receiver.url)
    _other, other_token = new_client(ctx, "WEBHOOK", name="other")
    assert client.delete(f"/webhooks/{sub_id}", headers=bearer(other_token)).status_code == 404
    assert client.get(f"/webhooks/{sub_id}", headers=bearer(other_token)).status_code == 404
    assert client.get("/webhooks", headers=bearer(other_token)).json()["entries"] == []
    assert client.delete(f"/webhooks/{sub_id}", headers=subscriber.headers).status_code == 204
    assert client.delete(f"/webhooks/{sub_id}", headers=subscriber.headers).status_code == 404


def test_national_id_client_may_subscribe(
    client: TestClient, ctx: AppContext, receiver: Receiver
) -> None:
    creds, token = new_client(ctx, "NATIONAL_ID")
    body = {"hub": {"callback": receiver.url, "mode": "subscribe",
                    "topic": "DEATH_REGISTERED", "secret": creds.sha_secret}}
    assert client.post("/webhooks", json=body, headers=bearer(token)).status_code == 202
    entry = client.get("/webhooks", headers=bearer(token)).json()["entries"][0]
    assert entry["createdBy"]["type"] == "nationalId"


def test_oversized_body_is_413(client: TestClient, subscriber: Subscriber) -> None:
    big = b'{"hub": {"callback": "' + b"x" * (3 * 1024 * 1024) + b'"}}'
    response = client.post("/webhooks", content=big,
                           headers={**subscriber.headers, "Content-Type": "application/json"})
    assert response.status_code == 413


def test_deleting_the_client_removes_its_subscriptions(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver
) -> None:
    from crvshub.auth import repository as auth_repository
    from crvshub.webhook import repository

    subscribe(client, subscriber, receiver.url)
    with ctx.db.transaction() as session:
        row = auth_repository.client_by_id(session, subscriber.creds.client.id)
        assert row is not None
        auth_repository.delete_client(session, row)
    with ctx.db.transaction() as session:
        assert list(repository.subscriptions(session)) == []


def test_created_by_username_is_the_admin_who_registered_the_client(
    client: TestClient, ctx: AppContext, receiver: Receiver
) -> None:
    admin = bearer(user_token(ctx, NATLSYSADMIN))
    body = {"name": "NID listener", "type": "WEBHOOK",
            "webhook_permissions": [{"event": "birth", "permissions": ["child-details"]}]}
    created = client.post("/api/integrations", json=body, headers=admin).json()
    token = client.post("/token", data={
        "grant_type": "client_credentials", "client_id": created["client_id"],
        "client_secret": created["client_secret"]}).json()["access_token"]
    hub = {"callback": receiver.url, "mode": "subscribe", "topic": "BIRTH_REGISTERED",
           "secret": created["sha_secret"]}
    assert client.post("/webhooks", json={"hub": hub}, headers=bearer(token)).status_code == 202
    [entry] = client.get("/webhooks", headers=bearer(token)).json()["entries"]
    # As OpenCRVS (spec 5.1): the system's client_id, type, its registering admin's username
    # and its name.
    assert entry["createdBy"] == {"client_id": created["client_id"], "type": "webhook",
                                  "username": NATLSYSADMIN, "name": "NID listener"}
