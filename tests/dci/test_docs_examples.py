"""Every example request of docs/integrations/dci.md, posted as written (placeholders filled)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.dci import schema
from tests.dci.helpers import (
    death_bundle,
    now_ts,
    registered_birth,
    registration_number,
    signed_for,
    sp_client,
)
from tests.dci.test_async import _drain
from tests.helpers import bearer
from tests.record.graphql_helpers import notify, register
from tests.webhook.receiver import Receiver

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "dci.md"
EXAMPLE = re.compile(r"<!-- dci-example: POST (\S+) -->\n```json\n(.*?)\n```", re.DOTALL)


def examples() -> list[tuple[str, str]]:
    """Return (path, JSON text with placeholders) of every example request in the doc."""
    return [(m.group(1), m.group(2)) for m in EXAMPLE.finditer(DOC.read_text())]


def _fill(text: str, values: dict[str, str]) -> Any:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(uuid.uuid4()) if name == "uuid" else values[name]
    return json.loads(re.sub(r"\{\{(\w+)\}\}", one, text))


def test_the_documented_flows_work_as_written(client: TestClient, ctx: AppContext,
                                              receiver: Receiver) -> None:
    found = examples()
    assert [p for p, _ in found] == ["/registry/sync/search", "/registry/search",
                                     "/registry/sync/txn/status", "/registry/subscribe",
                                     "/registry/unsubscribe"]
    birth_id = registered_birth(client, ctx, child="Tendai", gender="female",
                                born="2021-06-01")
    death_id = notify(client, ctx, death_bundle("Peter", "5555000077"))
    register(client, ctx, death_id)
    _, client_id, token = sp_client(ctx)
    values = {"client_id": client_id, "now": now_ts(), "brn": registration_number(ctx, birth_id),
              "sender_uri": f"http://127.0.0.1:{receiver.port}/registry",
              "deceased_uin": "5555000077"}
    answers: dict[str, Any] = {}
    for path, text in found:
        if path == "/registry/unsubscribe":
            _drain(ctx)
            receiver.wait_for(lambda got: any(r.json["header"]["action"] == "on-subscribe"
                                              for r in got))
            on_subscribe = next(r.json for r in receiver.received
                                if r.json["header"]["action"] == "on-subscribe")
            values["subscription_code"] = on_subscribe["message"]["subscribe_response"][0][
                "subscriptions"][0]["code"]
            later = notify(client, ctx, death_bundle("Joseph", "5555000088"))
            register(client, ctx, later)
            _drain(ctx)  # notified before the unsubscribe below (which stops delivery at once)
        if path == "/registry/sync/txn/status":
            _drain(ctx)  # the search was ACKed first; the worker runs it
        body = _fill(text, values)
        schema.request(path, body)
        answer = client.post(path, json=signed_for(token, body), headers=bearer(token))
        assert answer.status_code == 200, (path, answer.text)
        schema.response(path, answer.json())
        answers[path] = answer.json()
    sync = answers["/registry/sync/search"]["message"]["search_response"][0]
    assert sync["data"]["reg_records"][0]["name"]["given_name"] == "Tendai"
    status = answers["/registry/sync/txn/status"]["message"]["txnstatus_response"]
    batch = {a["reference_id"]: a for a in status["txn_status"]["search_response"]}
    assert batch["pensioner-1"]["data"]["reg_records"][0]["name"]["given_name"] == "Peter"
    assert [r["name"]["given_name"] for r in batch["born-2021-girls"]["data"]["reg_records"]] \
        == ["Tendai"]
    _drain(ctx)
    receiver.wait_for(lambda got: any(r.json["header"]["action"] == "notify" for r in got))
    notes = [r.json for r in receiver.received if r.json["header"]["action"] == "notify"]
    assert [n["message"]["notify_event"][0]["data"]["reg_records"][0]["name"]["given_name"]
            for n in notes] == ["Joseph"], "the deceased (77) passes the age filter"
    for note in notes:
        schema.request("/registry/notify", note)
