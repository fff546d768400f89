"""Subscribers of DEATH_REVERSAL are notified when a registrar reverses a registered death."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.dci import schema
from tests.dci.helpers import death_bundle, item, post, search_body, sp_client
from tests.dci.test_async import _drain, _subscribe, _verify
from tests.helpers import LOCAL_REGISTRAR, user_token
from tests.record.graphql_helpers import notify, register
from tests.record.helpers import act
from tests.webhook.receiver import Receiver


def test_a_reversed_death_is_notified_to_its_subscribers_only(
        client: TestClient, ctx: AppContext, receiver: Receiver) -> None:
    _, sender, token = sp_client(ctx)
    uri = f"http://127.0.0.1:{receiver.port}/registry"
    answer = _subscribe(client, token, sender, uri, event="DEATH_REVERSAL")
    assert answer["message"]["ack_status"] == "ACK"
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 1)
    subscribed = receiver.received[0].json["message"]["subscribe_response"][0]
    assert subscribed["status"] == "succ", subscribed
    code = subscribed["subscriptions"][0]["code"]

    death = notify(client, ctx, death_bundle("Lazarus", "5555444000"))
    register(client, ctx, death)
    other = notify(client, ctx, death_bundle("Resting", "5555444011"))
    register(client, ctx, other)
    _drain(ctx)
    assert len(receiver.received) == 1, "registering a death is not a reversal"

    reversed_ = act(client, user_token(ctx, LOCAL_REGISTRAR), death, "reverse-death",
                    reason="The person is alive: wrong identity on the declaration")
    assert reversed_.status_code == 200, reversed_.text
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 2)
    note = receiver.received[1].json
    schema.request("/registry/notify", note)
    _verify(client, note)
    event = note["message"]["notify_event"][0]
    assert event["reference_id"] == code
    assert event["data"]["reg_event_type"] == "DEATH_REVERSAL"
    person = event["data"]["reg_records"][0]
    assert person["name"]["given_name"] == "Lazarus"

    # The reversed death is no longer a registered record: searches do not find it.
    found = post(client, token, "/registry/sync/search", search_body(sender, item(
        "idtype-value", {"type": "UIN", "value": "5555444000"},
        reg_event_type="spdci-common:RegistryEventType:Death")))
    assert found.status_code == 200, found.text
    assert found.json()["message"]["search_response"][0]["data"]["reg_records"] == []


def test_unknown_event_types_are_refused_with_the_standard_code(
        client: TestClient, ctx: AppContext, receiver: Receiver) -> None:
    _, sender, token = sp_client(ctx)
    uri = f"http://127.0.0.1:{receiver.port}/registry"
    _subscribe(client, token, sender, uri, event="DATA_MODIFICATION")
    _drain(ctx)
    receiver.wait_for(lambda got: len(got) == 1)
    answer = receiver.received[0].json["message"]["subscribe_response"][0]
    assert answer["status"] == "rjct"
    assert answer["status_reason_code"] == "rjct.notify_types.invalid"
    assert "DEATH_REVERSAL" in answer["status_reason_message"]
