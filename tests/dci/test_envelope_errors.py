"""Bad envelopes: each gets the standard's error code in the standard's body, never a 5xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.dci import schema
from tests.dci.helpers import give_key, header, item, post, search_body, sp_client
from tests.helpers import bearer, new_client

SYNC = "/registry/sync/search"
QUERY = item("idtype-value", {"type": "BRN", "value": "x"})


def _old() -> str:
    return (datetime.now(UTC) - timedelta(days=2)).isoformat()


CASES: list[tuple[str, Any, int, str, str]] = [
    ("missing header fields", lambda s: {"header": {"action": "search"},
                                         "message": {"transaction_id": "t",
                                                     "search_request": [QUERY]}},
     400, "err.request.bad", "DCI-400-001"),
    ("no message", lambda s: {"header": header(s)}, 400, "err.request.bad", "DCI-400-001"),
    ("not an object", lambda s: [1, 2], 400, "err.request.bad", "DCI-400-001"),
    ("wrong action", lambda s: search_body(s, QUERY, action="subscribe"),
     400, "err.request.bad", "DCI-400-002"),
    ("expired", lambda s: {**search_body(s, QUERY),
                           "header": {**header(s), "message_ts": _old()}},
     400, "err.request.bad", "DCI-400-003"),
    ("not a timestamp", lambda s: {**search_body(s, QUERY),
                                   "header": {**header(s), "message_ts": "yesterday"}},
     400, "err.request.bad", "DCI-400-003"),
    ("1,001 items", lambda s: search_body(
        s, *[item("idtype-value", {"type": "BRN", "value": str(i)}, reference=str(i))
             for i in range(1001)]), 400, "err.request.bad", "DCI-400-004"),
    ("version", lambda s: {**search_body(s, QUERY), "header": {**header(s), "version": "2.0"}},
     400, "err.version.not_supported", "DCI-400-005"),
    ("someone else's sender_id", lambda s: search_body("another-system", QUERY),
     400, "err.sender_id.invalid", "DCI-400-006"),
    ("encrypted", lambda s: {**search_body(s, QUERY),
                             "header": {**header(s), "is_msg_encrypted": True}},
     400, "err.encryption.invalid", "DCI-400-008"),
]


@pytest.mark.parametrize(("name", "build", "status", "dci_code", "code"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_envelope(client: TestClient, ctx: AppContext, name: str, build: Any, status: int,
                      dci_code: str, code: str) -> None:
    _, sender, token = sp_client(ctx)
    answer = post(client, token, SYNC, build(sender))
    assert answer.status_code == status, answer.text
    body = answer.json()
    schema.error(body)
    assert body["message"]["error"]["code"] == dci_code
    assert answer.headers["X-Error-Code"] == code
    assert body["message"]["error"]["message"].startswith(code)


def test_unknown_query_type_is_rejected_per_item(client: TestClient, ctx: AppContext) -> None:
    _, sender, token = sp_client(ctx)
    answer = post(client, token, SYNC, search_body(
        sender, item("sql", "select 1"), item("idtype-value", {"type": "BRN", "value": "x"},
                                              reference="ok")))
    assert answer.status_code == 200
    items = answer.json()["message"]["search_response"]
    assert items[0]["status"] == "rjct"
    assert items[0]["status_reason_code"] == "rjct.search_criteria.invalid"
    assert items[1]["status"] == "succ"
    stale = item("idtype-value", {"type": "BRN", "value": "x"}, reference="t")
    stale["timestamp"] = "last tuesday"
    answer = post(client, token, SYNC, search_body(sender, stale))
    assert answer.json()["message"]["search_response"][0]["status_reason_code"] == \
        "rjct.timestamp.invalid"


def test_async_without_sender_uri(client: TestClient, ctx: AppContext) -> None:
    _, sender, token = sp_client(ctx)
    answer = post(client, token, "/registry/search", search_body(sender, QUERY))
    assert answer.status_code == 400
    schema.error(answer.json())
    assert answer.json()["message"]["error"]["code"] == "err.sender_uri.invalid"


def test_unauthenticated_and_wrong_clients_get_http_error_responses(
        client: TestClient, ctx: AppContext) -> None:
    _, sender, _ = sp_client(ctx)
    body = search_body(sender, QUERY)
    answer = client.post(SYNC, json=body)
    assert answer.status_code == 401
    schema.error(answer.json())
    assert answer.json()["errors"][0]["code"] == "err.request.unauthorized"
    _, health = new_client(ctx, "HEALTH")
    answer = client.post(SYNC, json=body, headers=bearer(health))
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["code"] == "err.request.forbidden"


def test_unknown_transaction_status_is_not_found(client: TestClient, ctx: AppContext) -> None:
    _, sender, token = sp_client(ctx)
    body = {"header": header(sender, "txn-status"), "message": {
        "transaction_id": "t", "txnstatus_request": {
            "reference_id": "r", "txn_type": "search", "attribute_type": "transaction_id",
            "attribute_value": "never-sent"}}}
    answer = post(client, token, "/registry/sync/txn/status", body)
    assert answer.status_code == 404
    schema.error(answer.json())
    assert answer.json()["message"]["error"]["code"] == "err.request.not_found"


def test_token_endpoint_of_the_standard(client: TestClient, ctx: AppContext) -> None:
    creds, _ = new_client(ctx, "RECORD_SEARCH")
    answer = client.post("/oauth2/client/token", data={
        "grant_type": "client_credentials", "client_id": creds.client.client_id,
        "client_secret": creds.client_secret})
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    give_key(ctx, creds.client.client_id, token)
    found = post(client, token, SYNC, search_body(creds.client.client_id, QUERY))
    assert found.status_code == 200
