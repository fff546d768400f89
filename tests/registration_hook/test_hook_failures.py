"""Hook answers other than 2xx, unreachable hooks, synchronous answers and callbacks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.outbox.models import DomainEvent, OutboxJob
from crvshub.outbox.worker import Worker
from tests.helpers import LOCAL_REGISTRAR, REGISTRATION_AGENT, bearer, free_port, user_token
from tests.record.helpers import act, declare, issue_code
from tests.registration_hook.conftest import record_token


class Receiver:
    """A real HTTP hook on loopback answering with a configurable status and body."""

    def __init__(self) -> None:
        self.status = 202
        self.body: dict[str, Any] = {}
        self.calls: list[tuple[dict[str, Any], str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                outer.calls.append((json.loads(self.rfile.read(length)),
                                    self.headers.get("authorization", "")))
                payload = json.dumps(outer.body).encode()
                self.send_response(outer.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/event-registration"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver(ctx: AppContext) -> Iterator[Receiver]:
    hook = Receiver()
    ctx.settings.registration_hook_url = hook.url
    yield hook
    hook.server.shutdown()


def _waiting(client: TestClient, ctx: AppContext) -> tuple[str, str]:
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    rid = declare(client, user_token(ctx, REGISTRATION_AGENT))["id"]
    response = act(client, registrar, rid, "register")
    assert response.json()["status"] == "WAITING_VALIDATION"
    return rid, registrar


def _run_worker(ctx: AppContext) -> None:
    with ctx.db.transaction() as session:  # make retried jobs due now
        session.execute(update(OutboxJob).values(available_at=utcnow()))
    Worker(ctx).run_once()


def test_register_does_not_call_the_hook_inside_the_request(
    client: TestClient, ctx: AppContext, receiver: Receiver
) -> None:
    rid, registrar = _waiting(client, ctx)
    assert receiver.calls == []
    _run_worker(ctx)
    bundle, auth = receiver.calls[0]
    assert bundle["entry"][0]["resource"]["id"] == rid
    token = auth.removeprefix("Bearer ")
    # The record token may confirm this record only, and nothing else.
    other = declare(client, user_token(ctx, REGISTRATION_AGENT))["id"]
    denied = client.post("/graphql", headers=bearer(token), json={
        "query": "mutation($id: ID!) { rejectRegistration(id: $id, details: {reason: \"x\"}) }",
        "variables": {"id": other}})
    assert denied.json()["errors"][0]["extensions"]["code"] == "HOOK-403-001"
    assert act(client, token, rid, "validate").status_code == 403
    queue = client.get("/api/records/workqueues/in-external-validation", headers=bearer(registrar))
    assert queue.json()["items"][0]["externalValidation"]["state"] == "accepted"


def test_non_2xx_answer_rejects_with_the_reason(
    client: TestClient, ctx: AppContext, receiver: Receiver
) -> None:
    receiver.status, receiver.body = 500, {"statusCode": 500, "msg": "Mother NID not found"}
    rid, registrar = _waiting(client, ctx)
    _run_worker(ctx)
    view = client.get(f"/api/records/{rid}", headers=bearer(registrar)).json()
    assert view["status"] == "REJECTED"
    assert "Mother NID not found" in view["statusReason"] and "HTTP 500" in view["statusReason"]
    with ctx.db.transaction() as session:
        topics = session.scalars(select(DomainEvent.topic).where(DomainEvent.record_id == rid)).all()
    assert list(topics) == ["BIRTH_DECLARED", "BIRTH_WAITING_VALIDATION", "BIRTH_REJECTED"]


def test_unreachable_hook_is_retried_then_rejected(client: TestClient, ctx: AppContext) -> None:
    ctx.settings.registration_hook_url = f"http://127.0.0.1:{free_port()}/event-registration"
    rid, registrar = _waiting(client, ctx)
    _run_worker(ctx)
    queue = client.get("/api/records/workqueues/in-external-validation", headers=bearer(registrar))
    item = queue.json()["items"][0]
    assert item["id"] == rid and item["externalValidation"]["attempts"] == 1
    assert "ConnectError" in item["externalValidation"]["lastError"]
    _run_worker(ctx)
    _run_worker(ctx)  # the budget is 3 attempts in these tests
    view = client.get(f"/api/records/{rid}", headers=bearer(registrar)).json()
    assert view["status"] == "REJECTED"
    assert "could not be reached after 3 attempts" in view["statusReason"]
    with ctx.db.transaction() as session:
        job = session.scalars(select(OutboxJob)).one()
        assert job.status == "dead"


def test_synchronous_answer_registers_at_once(
    client: TestClient, ctx: AppContext, receiver: Receiver
) -> None:
    receiver.status = 200
    receiver.body = {"registrationNumber": "FAR-2026-0001",
                     "identifiers": [{"type": "NATIONAL_ID", "value": "9988776655"}]}
    rid, registrar = _waiting(client, ctx)
    _run_worker(ctx)
    view = client.get(f"/api/records/{rid}", headers=bearer(registrar)).json()
    assert view["status"] == "REGISTERED" and view["registrationNumber"] == "FAR-2026-0001"
    assert "9988776655" in json.dumps(view["bundle"])


def test_legacy_confirm_and_error_callback(client: TestClient, ctx: AppContext) -> None:
    rid, registrar = _waiting(client, ctx)
    token = record_token(ctx, rid)
    assert client.post("/confirm/registration", json={"compositionId": rid}).status_code == 401
    missing = client.post("/confirm/registration", json={}, headers=bearer(token))
    assert missing.status_code == 400 and issue_code(missing) == "HOOK-400-001"
    unknown = client.post("/confirm/registration", json={"trackingId": "BXXXXXX"},
                          headers=bearer(token))
    assert unknown.status_code == 404
    error = client.post("/confirm/registration", headers=bearer(token),
                        json={"compositionId": rid, "error": "Duplicate identity in NID"})
    assert error.status_code == 200
    view = client.get(f"/api/records/{rid}", headers=bearer(registrar)).json()
    assert view["status"] == "REJECTED" and view["statusReason"] == "Duplicate identity in NID"
    again = client.post("/confirm/registration", headers=bearer(token),
                        json={"compositionId": rid, "registrationNumber": "2026X"})
    assert again.status_code == 409 and issue_code(again) == "REC-409-001"


def test_legacy_confirm_with_child_identifiers(client: TestClient, ctx: AppContext) -> None:
    rid, registrar = _waiting(client, ctx)
    tracking = client.get(f"/api/records/{rid}", headers=bearer(registrar)).json()["trackingId"]
    token = record_token(ctx, rid)
    body = {"trackingId": tracking, "registrationNumber": f"2026{tracking}",
            "childIdentifiers": [{"type": "BIRTH_CONFIGURABLE_IDENTIFIER_1", "value": "X1"}]}
    response = client.post("/confirm/registration", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert "X1" in response.text and f"2026{tracking}" in response.text
    # A repeated confirmation (a hook retrying) is accepted and changes nothing.
    assert client.post("/confirm/registration", json=body, headers=bearer(token)).status_code == 200
    bad = client.post("/confirm/registration", headers=bearer(token),
                      json={"trackingId": tracking, "childIdentifiers": [{"type": "X"}]})
    assert bad.status_code == 400


def test_graphql_errors(client: TestClient, ctx: AppContext) -> None:
    rid, registrar = _waiting(client, ctx)
    query = ("mutation($id: ID!) { confirmRegistration(id: $id, "
             "details: {registrationNumber: \"2026B1\"}) }")
    assert client.post("/graphql", json={"query": query, "variables": {"id": rid}}).status_code == 401
    staff = client.post("/graphql", json={"query": query, "variables": {"id": rid}},
                        headers=bearer(registrar))
    assert staff.json()["errors"][0]["extensions"]["code"] == "HOOK-403-002"
    syntax = client.post("/graphql", json={"query": "mutation {"}, headers=bearer(registrar))
    assert syntax.status_code == 400
    token = record_token(ctx, rid)
    status = client.post("/graphql", headers=bearer(token),
                         json={"query": "query($id: ID!) { registrationStatus(id: $id) }",
                               "variables": {"id": rid}})
    assert status.json() == {"data": {"registrationStatus": "WAITING_VALIDATION"}}
    done = client.post("/graphql", json={"query": query, "variables": {"id": rid}},
                       headers=bearer(token))
    assert done.status_code == 200 and done.json()["data"]["confirmRegistration"]
    view = client.get(f"/api/records/{rid}", headers=bearer(registrar)).json()
    assert view["status"] == "REGISTERED" and view["registrationNumber"] == "2026B1"


def test_unusable_synchronous_answer_rejects(
    client: TestClient, ctx: AppContext, receiver: Receiver
) -> None:
    receiver.status = 200
    receiver.body = {"registrationNumber": "X1", "identifiers": [{"type": "NATIONAL_ID"}]}
    rid, registrar = _waiting(client, ctx)
    _run_worker(ctx)
    view = client.get(f"/api/records/{rid}", headers=bearer(registrar)).json()
    assert view["status"] == "REJECTED" and "Unusable answer" in view["statusReason"]
