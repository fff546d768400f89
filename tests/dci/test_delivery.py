"""DCI callbacks and notifies go through the webhook engine: log, redeliver, outage, cut-off."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.dci import schema
from tests.dci.helpers import death_bundle, header, item, now_ts, post, search_body, sp_client
from tests.dci.test_async import _drain, _round, _stored_search, _subscribe, _verify
from tests.helpers import NATLSYSADMIN, bearer, user_token
from tests.record.graphql_helpers import notify, register
from tests.webhook.receiver import Receiver

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


def _given_names(received: list[Any]) -> set[str]:
    return {r.json["message"]["notify_event"][0]["data"]["reg_records"][0]["name"]["given_name"]
            for r in received if r.json["header"]["action"] == "notify"}


def _channels(client: TestClient, admin: dict[str, str], row_id: str) -> dict[str, Any]:
    listed = client.get(f"/api/webhooks/subscriptions?client_id={row_id}", headers=admin)
    assert listed.status_code == 200, listed.text
    return {s["topic"]: s for s in listed.json()["entries"]}


def _deliveries(client: TestClient, admin: dict[str, str], channel: str) -> list[Any]:
    found = client.get(f"/api/webhooks/subscriptions/{channel}/deliveries", headers=admin)
    assert found.status_code == 200, found.text
    return list(found.json()["entries"])


def _subscribed(client: TestClient, ctx: AppContext, receiver: Receiver,
                ) -> tuple[str, str, str, str, str]:
    """Subscribe a new client at the receiver; return its ids, token, address and the code."""
    row_id, sender, token = sp_client(ctx)
    uri = f"http://127.0.0.1:{receiver.port}/registry"
    _subscribe(client, token, sender, uri)
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 1)
    code = receiver.received[0].json["message"]["subscribe_response"][0]["subscriptions"][0][
        "code"]
    return row_id, sender, token, uri, code


def test_every_notify_and_callback_arrives_after_an_outage_and_is_in_the_delivery_log(
        client: TestClient, ctx: AppContext, receiver: Receiver) -> None:
    row_id, sender, token, uri, code = _subscribed(client, ctx, receiver)

    receiver.script = [503] * 4  # the subscriber is down
    names = ["Anele", "Bongani", "Cebo"]
    for n, name in enumerate(names):
        death = notify(client, ctx, death_bundle(name, f"55551110{n}0"))
        register(client, ctx, death)
    search = search_body(sender, item("idtype-value", {"type": "UIN", "value": "5555111000"},
                                      reg_event_type="spdci-common:RegistryEventType:Death"),
                         sender_uri=uri)
    ack = post(client, token, "/registry/search", search).json()["message"]
    _round(ctx)  # three notifies refused (503); the search runs, on-search is queued
    _round(ctx)  # on-search refused (503)
    receiver.wait_for(lambda got: len(got) == 5)
    assert all(r.json["header"]["action"] in ("notify", "on-search")
               for r in receiver.received[1:])
    stored = _stored_search(client, token, sender, "correlation_id", ack["correlation_id"])
    assert stored["search_response"][0]["data"]["reg_records"][0]["name"][
        "given_name"] == "Anele", "txn/status has the answer while the callback fails"

    _drain(ctx)  # the subscriber is back: every message arrives
    receiver.wait_for(lambda got: len(got) == 9)
    delivered = receiver.received[5:]
    assert _given_names(delivered) == set(names)
    assert [r.json["header"]["action"] for r in delivered].count("on-search") == 1
    for sent in delivered:
        action = sent.json["header"]["action"]
        schema.request("/registry/notify" if action == "notify" else "/registry/on-search",
                       sent.json)
        _verify(client, sent.json)
        assert sent.headers["webhook-id"] == sent.json["header"]["message_id"]

    # The delivery log, as for webhooks: one channel per subscription, one per callback URL.
    admin = bearer(user_token(ctx, NATLSYSADMIN))
    channels = _channels(client, admin, row_id)
    assert channels["DCI_NOTIFY"]["id"] == code
    assert channels["DCI_NOTIFY"]["mode"] == "dci"
    assert channels["DCI_NOTIFY"]["callback"] == f"{uri}/notify"
    assert channels["DCI_CALLBACK"]["callback"] in (f"{uri}/on-subscribe", f"{uri}/on-search")
    log = _deliveries(client, admin, code)
    assert len(log) == 3 and {d["status"] for d in log} == {"delivered"}
    assert all([a["outcome"] for a in d["attempts"]] == ["failed", "delivered"] for d in log)
    assert all(d["topic"] == "DEATH_REGISTERED" for d in log)

    # Redeliver: the same message (same message_id), signed again.
    chosen = log[0]
    again = client.post(f"/api/webhooks/subscriptions/{code}/deliveries/{chosen['id']}/"
                        "redeliver", headers=admin)
    assert again.status_code == 202, again.text
    _round(ctx)
    receiver.wait_for(lambda got: len(got) == 10)
    resent = receiver.received[-1].json
    assert resent["header"]["message_id"] == chosen["id"]
    _verify(client, resent)

    # The client's page lists the DCI channels and their deliveries.
    client.cookies.clear()
    form = CSRF_FIELD.search(client.get("/").text)
    assert form
    client.post("/login", data={"username": NATLSYSADMIN, "password": "test",
                                "csrf": form.group(1)}, follow_redirects=False)
    page = client.get(f"/integrations/{sender}")
    assert page.status_code == 200
    assert "DCI_NOTIFY" in page.text and f"{uri}/notify" in page.text
    assert "DEATH_REGISTERED #1" in page.text


def test_unsubscribe_ends_waiting_notifies_at_once(
        client: TestClient, ctx: AppContext, receiver: Receiver) -> None:
    row_id, sender, token, uri, code = _subscribed(client, ctx, receiver)
    receiver.script = [503]
    death = notify(client, ctx, death_bundle("Dumisani", "5555222000"))
    register(client, ctx, death)
    _round(ctx)
    receiver.wait_for(lambda got: len(got) == 2)  # refused: it waits for a retry
    body = {"header": header(sender, "unsubscribe", 1, sender_uri=uri),
            "message": {"transaction_id": "stop", "timestamp": now_ts(),
                        "subscription_codes": [code]}}
    answer = post(client, token, "/registry/unsubscribe", body)
    assert answer.status_code == 200, answer.text
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 3)
    assert [r.json["header"]["action"] for r in receiver.received[2:]] == ["on-unsubscribe"]
    admin = bearer(user_token(ctx, NATLSYSADMIN))
    channel = _channels(client, admin, row_id)["DCI_NOTIFY"]
    assert channel["status"] == "unsubscribed"
    assert [d["status"] for d in _deliveries(client, admin, code)] == ["cancelled"]


def test_the_cli_lists_a_clients_dci_deliveries(
        client: TestClient, ctx: AppContext, receiver: Receiver, settings: Any,
        monkeypatch: Any) -> None:
    import json

    from typer.testing import CliRunner

    from crvshub import cli
    from crvshub.settings import get_settings

    _, sender, token = sp_client(ctx)
    uri = f"http://127.0.0.1:{receiver.port}/registry"
    _subscribe(client, token, sender, uri)
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 1)
    monkeypatch.setenv("CRVSHUB_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CRVSHUB_ENVIRONMENT", "test")
    monkeypatch.setenv("CRVSHUB_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    try:
        if not any(group.name == "dci" for group in cli.app.registered_groups):
            cli.register_feature_commands()
        result = CliRunner().invoke(cli.app, ["dci", "deliveries", sender])
        assert result.exit_code == 0, result.output
        channels = {c["topic"]: c for c in json.loads(result.output)}
        assert set(channels) == {"DCI_NOTIFY", "DCI_CALLBACK"}
        callback = channels["DCI_CALLBACK"]["deliveries"]
        assert [(d["topic"], d["status"]) for d in callback] == [
            ("dci:on-subscribe", "delivered")]
        assert callback[0]["attempts"][0]["statusCode"] == 200
        assert channels["DCI_NOTIFY"]["deliveries"] == []
        missing = CliRunner().invoke(cli.app, ["dci", "deliveries", "no-such-client"])
        assert missing.exit_code == 1
    finally:
        get_settings.cache_clear()
