"""Async search, txn status, subscribe / notify / unsubscribe, through the outbox worker."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.outbox.models import OutboxJob
from crvshub.outbox.worker import Worker
from crvshub.webhook.models import Delivery
from tests.dci import schema
from tests.dci.helpers import (
    death_bundle,
    header,
    item,
    post,
    registered_birth,
    registration_number,
    search_body,
    sp_client,
    verify_server_signature,
)
from tests.record.graphql_helpers import notify, register
from tests.webhook.receiver import Receiver


def _drain(ctx: AppContext) -> None:
    """Run the worker until nothing is due, making retries due at once (time passes).

    A worker claims outbox jobs when a commit signals new ones, after a claim that found some,
    or once per poll interval; a fresh worker each round stands for the interval gone by.
    """
    for _ in range(5):
        worker = Worker(ctx)
        try:
            worker.run_once()
        finally:
            worker.close()
        with ctx.db.transaction() as session:
            session.execute(update(OutboxJob).where(OutboxJob.status == "pending")
                            .values(available_at=utcnow()))
            session.execute(update(Delivery).where(Delivery.status == "pending")
                            .values(next_attempt_at=utcnow()))


def _round(ctx: AppContext) -> None:
    """Run one worker round: due webhook deliveries (DCI callbacks too), then outbox jobs."""
    worker = Worker(ctx)
    try:
        worker.run_once()
    finally:
        worker.close()


def _status_body(sender: str, attribute: str, value: Any, kind: str = "search",
                 **extra: Any) -> dict[str, Any]:
    return {"header": header(sender, "txn-status", 1, **extra),
            "message": {"transaction_id": "status-1", "txnstatus_request": {
                "reference_id": "s1", "txn_type": kind, "attribute_type": attribute,
                "attribute_value": value, "locale": "eng"}}}


def _stored_search(client: TestClient, token: str, sender: str, attribute: str,
                   value: Any) -> dict[str, Any]:
    status_body = _status_body(sender, attribute, value)
    schema.request("/registry/sync/txn/status", status_body)
    status = post(client, token, "/registry/sync/txn/status", status_body)
    assert status.status_code == 200, status.text
    schema.response("/registry/sync/txn/status", status.json())
    stored = status.json()["message"]["txnstatus_response"]
    assert stored["txn_type"] == "on-search"
    return dict(stored["txn_status"])


def test_async_search_is_acked_first_stored_and_delivered_after_the_receiver_recovers(
        client: TestClient, ctx: AppContext, receiver: Receiver) -> None:
    record_id = registered_birth(client, ctx, child="Zola")
    brn = registration_number(ctx, record_id)
    _, sender, token = sp_client(ctx)
    receiver.script = [503, 503]  # down twice, then up
    body = search_body(sender, item("idtype-value", {"type": "BRN", "value": brn}),
                       sender_uri=f"http://127.0.0.1:{receiver.port}/registry")
    schema.request("/registry/search", body)
    answer = post(client, token, "/registry/search", body)
    assert answer.status_code == 200, answer.text
    schema.response("/registry/search", answer.json())
    ack = answer.json()["message"]
    assert ack["ack_status"] == "ACK"
    # ACK first: the search has not run yet, its items are pending.
    pending = _stored_search(client, token, sender, "correlation_id", ack["correlation_id"])
    assert [i["status"] for i in pending["search_response"]] == ["pdng"]
    _round(ctx)  # the worker runs the search and queues on-search
    _round(ctx)  # the first callback attempt fails (503)
    receiver.wait_for(lambda got: len(got) == 1)
    # Meanwhile txn/status has the answer, by transaction id and by correlation id.
    for attribute, value in (("transaction_id", body["message"]["transaction_id"]),
                             ("correlation_id", ack["correlation_id"]),
                             ("reference_id_list", ["r1"])):
        stored = _stored_search(client, token, sender, attribute, value)
        assert stored["search_response"][0]["status"] == "succ"
        records = stored["search_response"][0]["data"]["reg_records"]
        assert records[0]["name"]["given_name"] == "Zola"
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 3)
    callback = receiver.received[-1].json
    schema.request("/registry/on-search", callback)
    assert callback["header"]["action"] == "on-search"
    assert callback["message"]["correlation_id"] == ack["correlation_id"]
    assert callback["message"]["search_response"][0]["data"]["reg_records"][0]["identifier"]
    # The same message each attempt (one message_id), signed afresh each time.
    first, last = receiver.received[0].json, receiver.received[-1].json
    assert first["header"]["message_id"] == last["header"]["message_id"]
    assert first["message"] == last["message"]
    _verify(client, last)


def _verify(client: TestClient, sent: dict[str, Any]) -> None:
    """Check a message's signature with the server's published key."""
    verify_server_signature(client, sent)


def test_async_txn_status_answers_by_callback(client: TestClient, ctx: AppContext,
                                              receiver: Receiver) -> None:
    _, sender, token = sp_client(ctx)
    uri = f"http://127.0.0.1:{receiver.port}/registry"
    body = search_body(sender, item("idtype-value", {"type": "BRN", "value": "none"}),
                       sender_uri=uri)
    post(client, token, "/registry/search", body)
    status_body = _status_body(sender, "transaction_id", body["message"]["transaction_id"],
                               sender_uri=uri)
    schema.request("/registry/txn/status", status_body)
    answer = post(client, token, "/registry/txn/status", status_body)
    schema.response("/registry/txn/status", answer.json())
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 2)
    actions = sorted(r.json["header"]["action"] for r in receiver.received)
    assert actions == ["on-search", "txn-on-status"]
    on_status = next(r.json for r in receiver.received
                     if r.json["header"]["action"] == "txn-on-status")
    schema.request("/registry/txn/on-status", on_status)


def _subscribe(client: TestClient, token: str, sender: str, uri: str,
               event: str = "spdci-common:RegistryEventType:Death",
               filter_: Any = None) -> dict[str, Any]:
    body = {"header": header(sender, "subscribe", 1, sender_uri=uri),
            "message": {"transaction_id": "sub-1", "subscribe_request": [{
                "reference_id": "sub-r1", "timestamp": header(sender)["message_ts"],
                "subscribe_criteria": {
                    "version": "1.0.0", "reg_type": "ns:org:RegistryType:Civil",
                    "reg_event_type": event, "filter_type": "predicate",
                    "filter": filter_ if filter_ is not None else [],
                    "notify_record_type": "spdci-extensions-dci:CRVSPerson"},
                "locale": "eng"}]}}
    schema.request("/registry/subscribe", body)
    answer = post(client, token, "/registry/subscribe", body)
    assert answer.status_code == 200, answer.text
    schema.response("/registry/subscribe", answer.json())
    return dict(answer.json())


def test_subscriber_gets_a_signed_notify_for_a_registered_death_until_it_unsubscribes(
        client: TestClient, ctx: AppContext, receiver: Receiver) -> None:
    _, sender, token = sp_client(ctx)
    uri = f"http://127.0.0.1:{receiver.port}/registry"
    _subscribe(client, token, sender, uri)
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 1)
    on_subscribe = receiver.received[0].json
    schema.request("/registry/on-subscribe", on_subscribe)
    answer = on_subscribe["message"]["subscribe_response"][0]
    assert answer["status"] == "succ"
    code = answer["subscriptions"][0]["code"]
    again = _subscribe(client, token, sender, uri)
    assert again["message"]["ack_status"] == "ACK"
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 2)
    assert receiver.received[1].json["message"]["subscribe_response"][0][
        "status_reason_code"] == "rjct.event.already_subscribed"

    receiver.script = [500]  # the subscriber is down for the first notify
    death_id = notify(client, ctx, death_bundle("Peter", "5555000022"))
    register(client, ctx, death_id)
    registered_birth(client, ctx, child="Noise")  # a birth: not subscribed to
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 4)
    note = receiver.received[-1].json
    schema.request("/registry/notify", note)
    assert note["header"]["action"] == "notify"
    person = note["message"]["notify_event"][0]["data"]["reg_records"][0]
    assert person["name"]["given_name"] == "Peter" and person["death_date"]
    verify_server_signature(client, note)

    body = {"header": header(sender, "unsubscribe", 1, sender_uri=uri),
            "message": {"transaction_id": "unsub-1", "timestamp": header(sender)["message_ts"],
                        "subscription_codes": [code, "not-mine"]}}
    schema.request("/registry/unsubscribe", body)
    answer = post(client, token, "/registry/unsubscribe", body)
    schema.response("/registry/unsubscribe", answer.json())
    other = notify(client, ctx, death_bundle("Paul", "5555000033"))
    register(client, ctx, other)
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 5)
    unsub = receiver.received[-1].json
    schema.request("/registry/on-unsubscribe", unsub)
    assert unsub["message"]["subscription_status"] == [{"code": code, "status": "unsubscribe"}]
    assert unsub["message"]["status_reason_code"] == "rjct.subscription_code.invalid"
    assert not any(r.json["header"]["action"] == "notify" and r.json["message"]["notify_event"][
        0]["data"]["reg_records"][0]["name"]["given_name"] == "Paul" for r in receiver.received)


def test_subscription_filter_on_place_and_age(client: TestClient, ctx: AppContext,
                                              receiver: Receiver) -> None:
    _, sender, token = sp_client(ctx)
    uri = f"http://127.0.0.1:{receiver.port}/registry/on-subscribe"
    _subscribe(client, token, sender, uri, filter_=[{"expression1": {
        "attribute_name": "age", "operator": "ge", "attribute_value": 70}}])
    young = notify(client, ctx, death_bundle("Young", "5555000044"))
    with ctx.db.transaction() as session:
        from crvshub.record.models import Record
        row = session.get(Record, young)
        assert row is not None
        bundle = dict(row.bundle)
    del bundle  # the default deceased was born in 1948: 77 at death, so older than 70
    register(client, ctx, young)
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 2)
    # Two channels (on-subscribe's and the subscription's): either may arrive first.
    assert sorted(r.json["header"]["action"] for r in receiver.received) == [
        "notify", "on-subscribe"]


def test_notify_is_audited_and_a_deactivated_client_is_cut_off(
        client: TestClient, ctx: AppContext, receiver: Receiver) -> None:
    from sqlalchemy import select

    from crvshub.record.models import RecordAction
    from tests.helpers import NATLSYSADMIN, bearer, user_token

    row_id, sender, token = sp_client(ctx)
    uri = f"http://127.0.0.1:{receiver.port}/registry"
    _subscribe(client, token, sender, uri)
    first = notify(client, ctx, death_bundle("Audited", "5555000055"))
    register(client, ctx, first)
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 2)
    with ctx.db.transaction() as session:
        audited = session.scalars(select(RecordAction).where(
            RecordAction.record_id == first, RecordAction.action == "retrieved")).all()
        assert [a.actor_id for a in audited] == [row_id]
    admin = bearer(user_token(ctx, NATLSYSADMIN))
    assert client.post(f"/api/integrations/{sender}/deactivate",
                       headers=admin).status_code == 200
    second = notify(client, ctx, death_bundle("Silent", "5555000066"))
    register(client, ctx, second)
    _drain(ctx)
    assert len(receiver.received) == 2, "no notify to a deactivated client"


def test_a_repeated_message_gets_the_same_ack_and_runs_once(
        client: TestClient, ctx: AppContext, receiver: Receiver) -> None:
    _, sender, token = sp_client(ctx, quota=3)
    body = search_body(sender, item("idtype-value", {"type": "BRN", "value": "none"}),
                       sender_uri=f"http://127.0.0.1:{receiver.port}/registry")
    first = post(client, token, "/registry/search", body).json()["message"]
    again = post(client, token, "/registry/search", body).json()["message"]
    assert again["ack_status"] == "ACK"
    assert again["correlation_id"] == first["correlation_id"]
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 1)
    _drain(ctx)
    assert len(receiver.received) == 1, "one callback for the two copies"
    other = search_body(sender, item("idtype-value", {"type": "BRN", "value": "none"}),
                        sender_uri=f"http://127.0.0.1:{receiver.port}/registry")
    assert post(client, token, "/registry/search", other).json()["message"][
        "correlation_id"] != first["correlation_id"]
