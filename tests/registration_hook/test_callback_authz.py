"""Who may confirm or reject a registration: the hook's record token or a national ID client.

Staff, whatever their office, and a record token issued for another record are refused on both
callback paths (legacy REST and GraphQL), and the refused call leaves the record as it was.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import (
    LOCAL_REGISTRAR,
    LOCAL_REGISTRAR_OTHER_OFFICE,
    NATIONAL_REGISTRAR,
    REGISTRATION_AGENT,
    bearer,
    new_client,
    user_token,
)
from tests.record.helpers import act, birth_bundle, declare
from tests.registration_hook.conftest import record_token

CONFIRM = ("mutation($id: ID!, $n: String!) { confirmRegistration(id: $id, "
           "details: {registrationNumber: $n}) }")
REJECT = ("mutation($id: ID!) { rejectRegistration(id: $id, "
          "details: {reason: \"No identity for the mother\"}) }")


def _waiting(client: TestClient, ctx: AppContext) -> tuple[str, str]:
    """Return (id, tracking ID) of a Harambo record waiting for the national ID check."""
    # A child of another name each time: two identical births would be potential duplicates.
    # Another family too (so another mother): two births of one mother on one day with names
    # that happen to look alike would be flagged, and registering then refused.
    given, family = uuid.uuid4().hex[:8], "Banda" + uuid.uuid4().hex[:6]
    rid = declare(client, user_token(ctx, REGISTRATION_AGENT),
                  birth_bundle(given=given, family=family))["id"]
    response = act(client, user_token(ctx, LOCAL_REGISTRAR), rid, "register")
    assert response.json()["status"] == "WAITING_VALIDATION", response.text
    return rid, response.json()["trackingId"]


def _state(client: TestClient, ctx: AppContext, rid: str) -> tuple[str, Any]:
    view = client.get(f"/api/records/{rid}", headers=bearer(user_token(ctx, LOCAL_REGISTRAR)))
    body = view.json()
    return body["status"], body.get("registrationNumber")


def _call(client: TestClient, token: str, way: str, outcome: str, rid: str,
          tracking: str) -> tuple[int, str | None]:
    """Send one callback; return its HTTP (or GraphQL error) status and stable code."""
    if way == "rest":
        body: dict[str, Any] = {"compositionId": rid}
        body.update({"registrationNumber": f"2026{tracking}"} if outcome == "confirm"
                    else {"error": "No identity for the mother"})
        response = client.post("/confirm/registration", json=body, headers=bearer(token))
        if response.status_code == 200:
            return 200, None
        return response.status_code, response.json()["issue"][0]["details"]["coding"][0]["code"]
    query, variables = ((CONFIRM, {"id": rid, "n": f"2026{tracking}"}) if outcome == "confirm"
                        else (REJECT, {"id": rid}))
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers=bearer(token))
    errors = response.json().get("errors")
    if not errors:
        return response.status_code, None
    return errors[0]["extensions"]["status"], errors[0]["extensions"]["code"]


@pytest.mark.parametrize("way", ["rest", "graphql"])
@pytest.mark.parametrize("outcome", ["confirm", "reject"])
def test_only_the_hook_token_or_national_id_client_answers(
    client: TestClient, ctx: AppContext, way: str, outcome: str
) -> None:
    rid, tracking = _waiting(client, ctx)
    other_rid, other_tracking = _waiting(client, ctx)
    _c, health = new_client(ctx, "HEALTH")
    refused = {
        "registrar of another office": (user_token(ctx, LOCAL_REGISTRAR_OTHER_OFFICE),
                                        "HOOK-403-002"),
        "registrar of the record's office": (user_token(ctx, LOCAL_REGISTRAR), "HOOK-403-002"),
        "national registrar": (user_token(ctx, NATIONAL_REGISTRAR), "HOOK-403-002"),
        "record token of another record": (record_token(ctx, other_rid), "HOOK-403-001"),
        "HEALTH client": (health, "HOOK-403-002"),
    }
    for who, (token, code) in refused.items():
        assert _call(client, token, way, outcome, rid, tracking) == (403, code), who
        assert _state(client, ctx, rid) == ("WAITING_VALIDATION", None), who
    expected = ("REGISTERED", f"2026{tracking}") if outcome == "confirm" else ("REJECTED", None)
    assert _call(client, record_token(ctx, rid), way, outcome, rid, tracking)[0] == 200
    assert _state(client, ctx, rid) == expected
    _c, national_id = new_client(ctx, "NATIONAL_ID")
    assert _call(client, national_id, way, outcome, other_rid, other_tracking)[0] == 200
    assert _state(client, ctx, other_rid)[0] == expected[0]


def test_national_id_client_is_audited_as_itself(client: TestClient, ctx: AppContext) -> None:
    rid, tracking = _waiting(client, ctx)
    _c, token = new_client(ctx, "NATIONAL_ID", name="National ID office")
    assert _call(client, token, "rest", "confirm", rid, tracking)[0] == 200
    view = client.get(f"/api/records/{rid}", headers=bearer(user_token(ctx, LOCAL_REGISTRAR)))
    last = [h for h in view.json()["history"] if h["action"] == "registration-confirmed"]
    assert last and last[0]["actor"]["type"] == "client", view.json()["history"]
