"""Random envelopes never make the DCI endpoints answer a 5xx."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crvshub.context import AppContext
from tests.dci.helpers import header, item, signed_for, sp_client

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2000) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)
FIELDS = st.sampled_from(["message_id", "message_ts", "action", "sender_id", "total_count",
                          "version", "sender_uri", "is_msg_encrypted"])
CALLERS: dict[int, tuple[str, str, str]] = {}
PATHS = st.sampled_from(["/registry/sync/search", "/registry/search", "/registry/subscribe",
                         "/registry/unsubscribe", "/registry/txn/status",
                         "/registry/sync/txn/status"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=PATHS, field=FIELDS, value=JSON, query_type=JSON, query=JSON, criteria=JSON,
       message=JSON)
def test_no_server_error(client: TestClient, ctx: AppContext, path: str, field: str,
                         value: Any, query_type: Any, query: Any, criteria: Any,
                         message: Any) -> None:
    if id(ctx) not in CALLERS:  # one client per database (hypothesis reuses the fixtures)
        CALLERS[id(ctx)] = sp_client(ctx, quota=100_000)
    _, sender, token = CALLERS[id(ctx)]
    action = {"sync": "search"}.get(path.split("/")[2], path.split("/")[2])
    action = "txn-status" if "txn" in path else action
    broken = header(sender, action, 1, sender_uri="http://127.0.0.1:9/registry")
    broken[field] = value
    search = item(query_type if isinstance(query_type, str) else "predicate", query)
    if isinstance(criteria, dict):
        search["search_criteria"].update(criteria)
    bodies = [{"header": broken, "message": {"transaction_id": "t", "search_request": [search]}},
              {"header": header(sender, action, 1, sender_uri="http://127.0.0.1:9/r"),
               "message": message},
              {"header": header(sender, action, 1, sender_uri="http://127.0.0.1:9/r"),
               "message": {"transaction_id": "t", "search_request": [search],
                           "subscribe_request": [{"reference_id": "s", "timestamp": "x",
                                                  "subscribe_criteria": criteria}],
                           "subscription_codes": query, "txnstatus_request": criteria}}]
    for body in bodies:
        answer = client.post(path, json=signed_for(token, body),
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code < 500, (path, body, answer.text)
        assert answer.headers["content-type"].startswith("application/json")


def test_a_nul_character_is_an_envelope_error_not_a_database_one(client: TestClient,
                                                                 ctx: AppContext) -> None:
    """Found by the fuzz run: PostgreSQL refuses NUL in stored JSON; the answer must still be
    the standard's error body."""
    _, sender, token = sp_client(ctx, quota=100)
    search = item("predicate", None)
    search["search_criteria"].update({"\x00": None, "note": "a\x00b"})
    for path, action in (("/registry/search", "search"), ("/registry/sync/search", "search")):
        body = {"header": header(sender, action, 1, sender_uri="http://127.0.0.1:9/r"),
                "message": {"transaction_id": "t", "search_request": [search]}}
        answer = client.post(path, json=signed_for(token, body),
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 400, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        assert "err.request.bad" in answer.text and "NUL" in answer.text
