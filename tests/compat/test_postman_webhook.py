"""OpenCRVS's Webhook Postman collection, unchanged, against a live CRVS Hub server."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.compat.newman import run_collection
from tests.helpers import LiveServer, bearer, new_client
from tests.webhook.factories import register_births
from tests.webhook.receiver import Receiver
from tests.webhook.test_delivery import independent_opencrvs_signature


def test_webhook_collection_subscribes_birth_and_death(
    live_server: LiveServer, tmp_path: Path
) -> None:
    receiver = Receiver().start()
    try:
        creds, token = new_client(live_server.ctx, "WEBHOOK")
        executions = run_collection(
            "Webhook.postman_collection.json", live_server.url,
            {"integration-token": token, "callback": receiver.url,
             "sha_secret": creds.sha_secret},
            tmp_path,
        )
        assert [e["response"]["code"] for e in executions] == [202, 202]
        assert [v["topic"] for v in receiver.verifications] == [["BIRTH_REGISTERED"],
                                                               ["DEATH_REGISTERED"]]
        listed = httpx.get(f"{live_server.url}/webhooks", headers=bearer(token)).json()
        assert sorted(e["topic"] for e in listed["entries"]) == ["BIRTH_REGISTERED",
                                                                 "DEATH_REGISTERED"]
        # The OpenCRVS-style subscriber then receives a registered birth, validly signed.
        register_births(live_server.ctx, 1)
        receiver.wait_for(lambda got: len(got) == 1, timeout=20)
        got = receiver.received[0]
        assert got.json["event"]["hub"]["topic"] == "BIRTH_REGISTERED"
        assert got.headers["x-hub-signature"] == independent_opencrvs_signature(
            got.body, creds.sha_secret)
    finally:
        receiver.stop()
