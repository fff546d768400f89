"""Replaying another client's subscription is 404 whatever the request says, like every operation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import bearer, new_client
from tests.webhook.conftest import Subscriber, subscribe
from tests.webhook.receiver import Receiver


def test_replay_of_another_clients_subscription_is_404_before_the_body_is_read(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver
) -> None:
    sub_id = subscribe(client, subscriber, receiver.url)
    _c, other = new_client(ctx, "WEBHOOK", name="intruder")
    for params in ({}, {"since": "2026-01-01T00:00:00"}, {"since": "2026-01-01T00:00:00Z"}):
        response = client.post(f"/webhooks/{sub_id}/replay", params=params,
                               headers=bearer(other))
        assert response.status_code == 404, (params, response.text)
    # The owner still gets the 400 that says what to fix.
    mine = client.post(f"/webhooks/{sub_id}/replay", headers=subscriber.headers)
    assert mine.status_code == 400
