"""Who may read what: every route of the FHIR read API against every kind of caller.

One policy (`fhir_records.access.policy`) decides; this table is its specification. A record
the caller may not read answers 404, as if it did not exist; a caller that may read no record
at all gets 403; no token, 401. Every answer that gives something is audited.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crvshub.auth import repository as auth_repository
from crvshub.auth import service as auth_service
from crvshub.context import AppContext
from crvshub.record.models import RecordAction
from tests.fhir_records.helpers import notify, register, section_ids
from tests.helpers import (
    LOCAL_REGISTRAR,
    LOCAL_REGISTRAR_OTHER_OFFICE,
    NATIONAL_REGISTRAR,
    NATLSYSADMIN,
    bearer,
    new_client,
    user_token,
)
from tests.notification.helpers import health_token
from tests.record.graphql_helpers import graphql

FIND = """query ($p: AdvancedSearchParametersInput!) {
  searchEvents(advancedSearchParameters: $p) { totalItems results { id } } }"""

ROUTES = ("Composition", "Task", "child", "mother", "Encounter", "$document",
          "Task?identifier", "Task vread", "Task _history", "unregistered")
# caller -> expected answer per route (a status code; for the search, how many Tasks it finds)
TABLE: dict[str, tuple[Any, ...]] = {
    "anonymous":            (401, 401, 401, 401, 401, 401, 401, 401, 401, 401),
    "hospital (sender)":    (200, 200, 200, 200, 200, 200, 1, 200, 200, 200),
    "another hospital":     (404, 404, 404, 404, 404, 404, 0, 404, 404, 404),
    "national ID client":   (200, 200, 200, 200, 404, 200, 1, 200, 200, 404),
    "webhook (child only)": (200, 200, 200, 404, 404, 200, 1, 200, 200, 404),
    "record search (found it)": (200, 200, 200, 200, 200, 200, 1, 200, 200, 404),
    "record search (never searched)": (404, 404, 404, 404, 404, 404, 0, 404, 404, 404),
    "registrar (same office)": (200, 200, 200, 200, 200, 200, 1, 200, 200, 200),
    "registrar (other office)": (404, 404, 404, 404, 404, 404, 0, 404, 404, 404),
    "national registrar":   (200, 200, 200, 200, 200, 200, 1, 200, 200, 200),
    "system admin":         (403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "record token (this record)": (200, 200, 200, 200, 200, 200, 1, 200, 200, 404),
}


def _reads(ctx: AppContext) -> int:
    with ctx.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(RecordAction).where(
            RecordAction.action == "read-fhir")) or 0)


def _callers(client: TestClient, ctx: AppContext, hospital: str, record_id: str,
             child: str) -> dict[str, str | None]:
    _, national_id = new_client(ctx, "NATIONAL_ID", name="National ID")
    _, webhook = new_client(ctx, "WEBHOOK", name="Statistics webhook", webhook_permissions=[
        {"event": "birth", "permissions": ["child-details"]}])
    _, searcher = new_client(ctx, "RECORD_SEARCH", name="Bank KYC")
    _, idle_searcher = new_client(ctx, "RECORD_SEARCH", name="Idle bank")
    found = graphql(client, searcher, FIND, {"p": {"childFirstNames": child}})
    assert [r["id"] for r in found.json()["data"]["searchEvents"]["results"]] == [record_id]
    with ctx.db.transaction() as session:
        user = auth_repository.user_by_username(session, LOCAL_REGISTRAR)
        assert user is not None
        record_token = auth_service.issue_record_token(ctx.settings, ctx.keys, user_id=user.id,
                                                       record_id=record_id)
    return {
        "anonymous": None,
        "hospital (sender)": hospital,
        "another hospital": health_token(ctx, "Another hospital"),
        "national ID client": national_id,
        "webhook (child only)": webhook,
        "record search (found it)": searcher,
        "record search (never searched)": idle_searcher,
        "registrar (same office)": user_token(ctx, LOCAL_REGISTRAR),
        "registrar (other office)": user_token(ctx, LOCAL_REGISTRAR_OTHER_OFFICE),
        "national registrar": user_token(ctx, NATIONAL_REGISTRAR),
        "system admin": user_token(ctx, NATLSYSADMIN),
        "record token (this record)": record_token,
    }


def test_route_by_caller_table(client: TestClient, ctx: AppContext) -> None:
    hospital = health_token(ctx)
    saved = notify(client, hospital)
    record_id = saved["entry"][0]["resource"]["id"]
    tracking = saved["entry"][0]["resource"]["identifier"]["value"]
    task_id = saved["entry"][1]["resource"]["id"]
    people = section_ids(saved)
    register(client, ctx, record_id)
    unregistered = notify(client, hospital)["entry"][0]["resource"]["id"]
    child = next(e["resource"]["name"][0]["given"][0] for e in saved["entry"]
                 if e["resource"]["id"] == people["child-details"])
    paths = (
        f"/fhir/Composition/{record_id}", f"/fhir/Task/{task_id}",
        f"/fhir/Patient/{people['child-details']}", f"/fhir/Patient/{people['mother-details']}",
        f"/fhir/Encounter/{people['birth-encounter']}", f"/fhir/Composition/{record_id}/$document",
        f"/fhir/Task?identifier={tracking}", f"/fhir/Task/{task_id}/_history/1",
        f"/fhir/Task/{task_id}/_history", f"/fhir/Composition/{unregistered}",
    )
    callers = _callers(client, ctx, hospital, record_id, child)
    got: dict[str, tuple[Any, ...]] = {}
    for caller, token in callers.items():
        row = []
        for route, path in zip(ROUTES, paths, strict=True):
            before = _reads(ctx)
            answer = client.get(path, headers=bearer(token) if token else {})
            result: Any = answer.status_code
            if route == "Task?identifier" and answer.status_code == 200:
                result = len(answer.json()["entry"])
            row.append(result)
            gave = answer.status_code == 200 and result != 0
            assert _reads(ctx) == before + (1 if gave else 0), (caller, route)
        got[caller] = tuple(row)
    assert got == TABLE


def test_a_section_limited_reader_sees_only_its_sections(client: TestClient,
                                                          ctx: AppContext) -> None:
    hospital = health_token(ctx)
    saved = notify(client, hospital)
    record_id = saved["entry"][0]["resource"]["id"]
    people = section_ids(saved)
    register(client, ctx, record_id)
    _, mothers_only = new_client(ctx, "WEBHOOK", name="Maternal health", webhook_permissions=[
        {"event": "birth", "permissions": ["mother-details"]}])
    _, national_id = new_client(ctx, "NATIONAL_ID", name="National ID")

    def document(token: str) -> tuple[list[str], dict[str, Any]]:
        answer = client.get(f"/fhir/Composition/{record_id}/$document", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        entries = [e["resource"] for e in answer.json()["entry"]]
        return sorted(f"{r['resourceType']}/{r['id']}" for r in entries), entries[0]

    listed, composition = document(mothers_only)
    assert listed == sorted([f"Composition/{record_id}", f"Task/{saved['entry'][1]['resource']['id']}",
                             f"Patient/{people['mother-details']}"])
    assert [s["code"]["coding"][0]["code"] for s in composition["section"]] == ["mother-details"]
    assert "subject" not in composition  # the child is not theirs to see
    listed, composition = document(national_id)
    codes = {s["code"]["coding"][0]["code"] for s in composition["section"]}
    assert codes == {"child-details", "mother-details", "father-details", "informant-details"}
    assert composition["subject"] == {"reference": f"Patient/{people['child-details']}"}
    assert not any(item.startswith(("Encounter/", "Observation/")) for item in listed)
