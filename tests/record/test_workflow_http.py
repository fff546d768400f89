"""The staff workflow through HTTP: declare, validate, register, certify, issue."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import FIELD_AGENT, LOCAL_REGISTRAR, REGISTRATION_AGENT, bearer, user_token
from tests.record.helpers import act, declare, issue_code


def test_declare_validate_register_certify_issue(client: TestClient, ctx: AppContext) -> None:
    agent, clerk, registrar = (user_token(ctx, u) for u in (FIELD_AGENT, REGISTRATION_AGENT, LOCAL_REGISTRAR))
    created = declare(client, agent)
    assert created["status"] == "DECLARED" and created["trackingId"].startswith("B")
    rid = created["id"]
    assert act(client, clerk, rid, "validate").json()["status"] == "VALIDATED"
    registered = act(client, registrar, rid, "register")
    assert registered.status_code == 200, registered.text
    body = registered.json()
    assert body["status"] == "REGISTERED"
    assert body["registrationNumber"].endswith(created["trackingId"])
    assert act(client, clerk, rid, "certify").json()["status"] == "CERTIFIED"
    assert act(client, clerk, rid, "issue").json()["status"] == "ISSUED"
    view = client.get(f"/api/records/{rid}", headers=bearer(registrar))
    assert view.status_code == 200
    actions = [h["action"] for h in view.json()["history"]]
    assert actions == ["declared", "validated", "registered", "certified", "issued", "viewed"]
    bad = act(client, registrar, rid, "register")
    assert bad.status_code == 409 and issue_code(bad) == "REC-409-001"
