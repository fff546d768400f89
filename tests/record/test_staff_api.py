"""Staff API rules: jurisdiction, scopes, concurrency, workqueues, audit and bad input."""

from __future__ import annotations

import threading

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from crvshub.context import AppContext
from crvshub.outbox.models import DomainEvent
from crvshub.record.models import RecordAction
from tests.helpers import (
    DORONGO_OFFICE_SID,
    FIELD_AGENT,
    LOCAL_REGISTRAR,
    LOCAL_REGISTRAR_OTHER_OFFICE,
    NATIONAL_REGISTRAR,
    REGISTRATION_AGENT,
    LiveServer,
    bearer,
    new_client,
    user_token,
)
from tests.record.helpers import act, birth_bundle, declare, issue_code


def test_auth_scope_jurisdiction_and_unknown_ids(client: TestClient, ctx: AppContext) -> None:
    clerk = user_token(ctx, REGISTRATION_AGENT)
    rid = declare(client, user_token(ctx, FIELD_AGENT))["id"]
    assert client.get(f"/api/records/{rid}").status_code == 401
    assert act(client, clerk, rid, "register").status_code == 403
    _, health = new_client(ctx, "HEALTH")
    assert client.get(f"/api/records/{rid}", headers=bearer(health)).status_code == 403
    other = act(client, user_token(ctx, LOCAL_REGISTRAR_OTHER_OFFICE), rid, "register")
    assert other.status_code == 403 and issue_code(other) == "AUTH-403-002"
    national = act(client, user_token(ctx, NATIONAL_REGISTRAR), rid, "register")
    assert national.json()["status"] == "REGISTERED"
    assert client.get("/api/records/nope", headers=bearer(clerk)).status_code == 404
    assert issue_code(act(client, clerk, rid, "fly")) == "REC-404-003"
    assert issue_code(client.get("/api/records/workqueues/x", headers=bearer(clerk))) == "REC-404-002"
    denied = client.get("/api/records/workqueues", params={"office": DORONGO_OFFICE_SID},
                        headers=bearer(clerk))
    assert denied.status_code == 403


def test_bad_input(client: TestClient, ctx: AppContext) -> None:
    agent, clerk = user_token(ctx, FIELD_AGENT), user_token(ctx, REGISTRATION_AGENT)
    bad = client.post("/api/records", json={"resourceType": "Bundle", "type": "batch",
                                             "entry": [{"resource": {"resourceType": "Task"}}]},
                      headers=bearer(agent))
    assert bad.status_code == 400
    expressions = {i["expression"][0] for i in bad.json()["issue"]}
    assert {"Bundle.type", "Bundle.entry[0]", "Bundle.entry[1]"} <= expressions
    bundle = birth_bundle()
    bundle["entry"][4]["resource"]["location"][0]["location"]["reference"] = "Location/unknown"
    unknown = client.post("/api/records", json=bundle, headers=bearer(agent))
    assert unknown.status_code == 400 and "Location/unknown" in unknown.text
    assert client.post("/api/records", content=b"[1", headers={
        **bearer(agent), "content-type": "application/json"}).status_code == 400
    huge = client.post("/api/records", content=b"x" * (3 * 1024 * 1024), headers={
        **bearer(agent), "content-type": "application/json"})
    assert huge.status_code == 413
    rid = declare(client, agent)["id"]
    no_reason = act(client, clerk, rid, "reject")
    assert no_reason.status_code == 400 and issue_code(no_reason) == "REC-400-001"
    assert issue_code(act(client, clerk, rid, "validate", if_match="abc")) == "REC-400-003"
    page = client.get("/api/records/workqueues/ready-for-review", params={"count": 1000},
                      headers=bearer(clerk))
    assert page.status_code == 400


def test_if_match_and_assignment(client: TestClient, ctx: AppContext) -> None:
    clerk, registrar = user_token(ctx, REGISTRATION_AGENT), user_token(ctx, LOCAL_REGISTRAR)
    created = client.post("/api/records", json=birth_bundle(), headers=bearer(user_token(ctx, FIELD_AGENT)))
    rid, etag = created.json()["id"], created.headers["etag"]
    assert etag == 'W/"1"'
    ok = act(client, clerk, rid, "validate", if_match=etag)
    assert ok.status_code == 200 and ok.headers["etag"] == 'W/"2"'
    stale = act(client, registrar, rid, "register", if_match=etag)
    assert stale.status_code == 412 and issue_code(stale) == "GEN-412-001"
    assert act(client, clerk, rid, "assign").status_code == 200
    taken = act(client, registrar, rid, "assign")
    assert taken.status_code == 409 and issue_code(taken) == "REC-409-002"
    assert act(client, registrar, rid, "unassign").status_code == 200  # registrars may unassign
    # Editing needs If-Match or the assignment.
    edit = birth_bundle(given="Corrected")
    need = client.put(f"/api/records/{rid}", json=edit, headers=bearer(clerk))
    assert need.status_code == 428
    done = client.put(f"/api/records/{rid}", json=edit, headers={**bearer(clerk), "If-Match": 'W/"2"'})
    assert done.status_code == 200 and done.json()["name"] == "Corrected Banda"
    view = client.get(f"/api/records/{rid}", headers=bearer(clerk)).json()
    assert view["trackingId"] == created.json()["trackingId"] and view["status"] == "VALIDATED"
    assert view["bundle"]["entry"][0]["resource"]["id"] == rid


def test_two_registrars_at_once_only_one_wins(live_server: LiveServer) -> None:
    ctx = live_server.ctx
    registrars = [user_token(ctx, LOCAL_REGISTRAR), user_token(ctx, NATIONAL_REGISTRAR)]
    agent = user_token(ctx, FIELD_AGENT)
    created = httpx.post(f"{live_server.url}/api/records", json=birth_bundle(), headers=bearer(agent))
    rid = created.json()["id"]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def register(token: str) -> None:
        barrier.wait()
        response = httpx.post(f"{live_server.url}/api/records/{rid}/actions/register",
                              headers={**bearer(token), "If-Match": 'W/"1"'}, timeout=30)
        results.append(response.status_code)

    threads = [threading.Thread(target=register, args=(t,)) for t in registrars]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 412]
    with ctx.db.transaction() as session:
        rows = session.scalars(select(RecordAction).where(
            RecordAction.record_id == rid, RecordAction.action == "registered")).all()
    assert len(rows) == 1


def test_workqueues_counts_pages_and_sorting(client: TestClient, ctx: AppContext) -> None:
    agent, clerk = user_token(ctx, FIELD_AGENT), user_token(ctx, REGISTRATION_AGENT)
    names = ["Zed", "Amy", "Kim"]
    ids = [declare(client, agent, birth_bundle(given=n))["id"] for n in names]
    declare(client, agent, birth_bundle(with_child=False), incomplete=True)
    act(client, clerk, ids[0], "reject", reason="Missing father's name", comment="call mother")
    counts = client.get("/api/records/workqueues", headers=bearer(clerk)).json()
    by_name = {q["queue"]: q["count"] for q in counts["workqueues"]}
    assert by_name["ready-for-review"] == 2 and by_name["requires-updates"] == 1
    assert by_name["in-progress-field-agents"] == 1 and by_name["in-progress-health-system"] == 0
    other = client.get("/api/records/workqueues", params={"office": DORONGO_OFFICE_SID},
                       headers=bearer(user_token(ctx, NATIONAL_REGISTRAR))).json()
    assert all(q["count"] == 0 for q in other["workqueues"])
    page = client.get("/api/records/workqueues/ready-for-review",
                      params={"sort": "name", "count": 1, "page": 2}, headers=bearer(clerk)).json()
    assert page["total"] == 2 and [i["name"] for i in page["items"]] == ["Kim Banda"]
    rejected = client.get("/api/records/workqueues/requires-updates", headers=bearer(clerk)).json()
    assert rejected["items"][0]["statusReason"] == "Missing father's name"


def test_audit_rows_and_events(client: TestClient, ctx: AppContext) -> None:
    agent, clerk = user_token(ctx, FIELD_AGENT), user_token(ctx, REGISTRATION_AGENT)
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    rid = declare(client, agent)["id"]
    act(client, clerk, rid, "archive")
    act(client, clerk, rid, "reinstate")
    act(client, registrar, rid, "register")
    act(client, clerk, rid, "request-correction", reason="Misspelt name",
        bundle=birth_bundle(given="Fixed"))
    approved = act(client, registrar, rid, "approve-correction")
    assert approved.json()["status"] == "REGISTERED" and approved.json()["name"] == "Fixed Banda"
    download = client.get(f"/api/records/{rid}/download", headers=bearer(registrar))
    assert download.headers["content-type"].startswith("application/fhir+json")
    assert "BIRTH_REGISTRATION_NUMBER" in download.text
    with ctx.db.transaction() as session:
        rows = session.scalars(select(RecordAction).where(RecordAction.record_id == rid)
                               .order_by(RecordAction.at)).all()
        topics = session.scalars(select(DomainEvent.topic).where(DomainEvent.record_id == rid)
                                 .order_by(DomainEvent.at)).all()
        trail = [(r.action, r.status_before, r.status_after, r.version_before, r.version_after)
                 for r in rows]
        first = rows[0]
        assert (first.actor_type, first.actor_role, first.ip) == ("user", "FIELD_AGENT", "testclient")
        assert first.actor_name == "Amara Kipsoni" and first.office_id
    assert trail == [
        ("declared", None, "DECLARED", None, 1),
        ("archived", "DECLARED", "ARCHIVED", 1, 2),
        ("reinstated", "ARCHIVED", "DECLARED", 2, 3),
        ("registered", "DECLARED", "REGISTERED", 3, 4),
        ("correction-requested", "REGISTERED", "CORRECTION_REQUESTED", 4, 5),
        ("corrected", "CORRECTION_REQUESTED", "REGISTERED", 5, 6),
        ("downloaded", "REGISTERED", "REGISTERED", 6, 6),
    ]
    assert list(topics) == ["BIRTH_DECLARED", "BIRTH_ARCHIVED", "BIRTH_REINSTATED",
                            "BIRTH_REGISTERED", "BIRTH_CORRECTION_REQUESTED", "BIRTH_CORRECTED"]
