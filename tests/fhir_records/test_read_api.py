"""FHIR reads of records: valid R4, versions and ETags, identifiers, sync, paging, includes."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from sqlalchemy import event, select

from crvshub.context import AppContext
from crvshub.record.models import RecordAction
from crvshub.synthetic.generate import Plan, generate_to
from tests.fhir_records.helpers import (
    RECORD_TYPES,
    ids_by_type,
    notify,
    register,
    section_ids,
    valid_r4,
)
from tests.helpers import LOCAL_REGISTRAR, NATIONAL_REGISTRAR, bearer, new_client, user_token
from tests.notification.helpers import example, fresh_ids, health_token, post
from tests.record.helpers import birth_bundle, declare, issue_code

REG_STATUS = "http://opencrvs.org/specs/reg-status"


def _get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    answer = client.get(path, params=params, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _entries(bundle: dict[str, Any], mode: str = "match") -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


@pytest.mark.parametrize("name", ["birth-full", "death-full", "birth-home", "birth-minimal",
                                  "death-minimal"])
def test_every_served_resource_is_valid_r4(client: TestClient, ctx: AppContext,
                                           name: str) -> None:
    token = health_token(ctx)
    saved = notify(client, token, name)
    record_id = saved["entry"][0]["resource"]["id"]
    served = 0
    for kind, ids in ids_by_type(saved).items():
        if kind not in RECORD_TYPES:
            continue
        for rid in ids:
            resource = _get(client, token, f"/fhir/{kind}/{rid}")
            assert (resource["resourceType"], resource["id"]) == (kind, rid)
            valid_r4(resource)
            valid_r4(_get(client, token, f"/fhir/{kind}/{rid}/_history/1"))
            Bundle.model_validate(_get(client, token, f"/fhir/{kind}/{rid}/_history"))
            served += 1
    document = _get(client, token, f"/fhir/Composition/{record_id}/$document")
    Bundle.model_validate(document)
    assert document["type"] == "document"
    assert document["entry"][0]["resource"]["id"] == record_id
    assert len(document["entry"]) == served
    search = _get(client, token, "/fhir/Composition", _id=record_id,
                  _include="Composition:subject", _revinclude="Task:focus")
    Bundle.model_validate(search)
    subject = saved["entry"][0]["resource"].get("subject")
    assert len(search["entry"]) == (3 if subject else 2)


def test_capability_statement_lists_exactly_what_is_served(client: TestClient) -> None:
    statement = client.get("/fhir/metadata").json()
    CapabilityStatement.model_validate(statement)
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for kind in RECORD_TYPES:
        item = resources[kind]
        assert [i["code"] for i in item["interaction"]] == [
            "read", "vread", "history-instance", "search-type"]
        assert {"_id", "identifier", "_lastUpdated", "_count"} <= {
            p["name"] for p in item["searchParam"]}
    assert resources["Task"]["searchInclude"] == ["Task:focus"]
    assert resources["Composition"]["searchRevInclude"] == ["Task:focus"]
    assert resources["Patient"]["searchRevInclude"] == ["Composition:subject",
                                                        "Composition:patient"]
    assert resources["Composition"]["operation"][0]["name"] == "document"
    assert {p["name"] for p in resources["Task"]["searchParam"]} == {
        "_id", "identifier", "_lastUpdated", "_count", "status", "business-status", "focus",
        "patient"}


def test_task_carries_status_registration_number_and_history(
        client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx)
    saved = notify(client, token)
    record_id, task_id = (saved["entry"][i]["resource"]["id"] for i in (0, 1))
    first = client.get(f"/fhir/Task/{task_id}", headers=bearer(token))
    assert first.headers["etag"] == 'W/"1"' and first.headers["last-modified"]
    assert first.json()["businessStatus"]["coding"][0] == {"system": REG_STATUS,
                                                           "code": "DECLARED"}
    number = register(client, ctx, record_id)
    task = client.get(f"/fhir/Task/{task_id}", headers=bearer(token))
    assert task.headers["etag"] == 'W/"2"'
    body = task.json()
    assert body["businessStatus"]["coding"][0]["code"] == "REGISTERED"
    assert {"system": "http://opencrvs.org/specs/id/birth-registration-number",
            "value": number} in body["identifier"]
    assert body["focus"] == {"reference": f"Composition/{record_id}"}
    unchanged = client.get(f"/fhir/Task/{task_id}",
                           headers={**bearer(token), "If-None-Match": 'W/"2"'})
    assert unchanged.status_code == 304 and unchanged.headers["etag"] == 'W/"2"'
    history = _get(client, token, f"/fhir/Task/{task_id}/_history")
    assert [(e["resource"]["meta"]["versionId"],
             e["resource"]["businessStatus"]["coding"][0]["code"], e["request"]["method"])
            for e in history["entry"]] == [("2", "REGISTERED", "PUT"), ("1", "DECLARED", "POST")]
    paged = _get(client, token, f"/fhir/Task/{task_id}/_history", _count=1)
    assert len(paged["entry"]) == 1
    following = next(link["url"] for link in paged["link"] if link["relation"] == "next")
    rest = client.get(following.removeprefix("http://testserver"), headers=bearer(token)).json()
    assert [e["resource"]["meta"]["versionId"] for e in rest["entry"]] == ["1"]
    old = _get(client, token, f"/fhir/Task/{task_id}/_history/1")
    assert old["businessStatus"]["coding"][0]["code"] == "DECLARED"
    assert not any("registration-number" in i["system"] for i in old["identifier"])
    child = section_ids(saved)["child-details"]
    patient = _get(client, token, f"/fhir/Patient/{child}")
    assert {"type": {"coding": [{"system": "http://opencrvs.org/specs/identifier-type",
                                 "code": "BIRTH_REGISTRATION_NUMBER"}]},
            "value": number} in patient["identifier"]


def test_search_by_every_kind_of_identifier(client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx)
    bundle = fresh_ids(example("birth-full"))
    bundle["entry"][1]["resource"].setdefault("identifier", []).append(
        {"system": "http://harambo-hospital.example/delivery", "value": "DLV-2026-0042"})
    answer = post(client, token, bundle)
    assert answer.status_code == 200, answer.text
    saved = answer.json()
    record_id, task_id = (saved["entry"][i]["resource"]["id"] for i in (0, 1))
    other = notify(client, token)  # another record that must not match
    assert other["entry"][0]["resource"]["id"] != record_id
    tracking = saved["entry"][0]["resource"]["identifier"]["value"]
    number = register(client, ctx, record_id)
    mother = section_ids(saved)["mother-details"]
    mother_nid = next(e["resource"]["identifier"][0]["value"] for e in saved["entry"]
                      if e["resource"]["id"] == mother)

    def tasks(value: str) -> list[str]:
        return [r["id"] for r in _entries(_get(client, token, "/fhir/Task", identifier=value))]

    assert tasks(tracking) == [task_id]
    assert tasks(f"http://opencrvs.org/specs/id/birth-tracking-id|{tracking}") == [task_id]
    assert tasks(f"http://opencrvs.org/specs/id/death-tracking-id|{tracking}") == []
    assert tasks(number) == [task_id]
    assert tasks("http://harambo-hospital.example/delivery|DLV-2026-0042") == [task_id]
    assert tasks("NO-SUCH-ID") == []
    # The other record names the same mother (same national ID): both Patients are found.
    mothers = {mother, section_ids(other)["mother-details"]}
    patients = _entries(_get(client, token, "/fhir/Patient", identifier=mother_nid))
    assert {p["id"] for p in patients} == mothers
    assert {p["id"] for p in _entries(_get(client, token, "/fhir/Patient",
                                           identifier=f"NATIONAL_ID|{mother_nid}"))} == mothers
    comps = _entries(_get(client, token, "/fhir/Composition", identifier=tracking))
    assert [c["id"] for c in comps] == [record_id]
    found = _get(client, token, "/fhir/Task", identifier=tracking, _include="Task:focus")
    assert [r["id"] for r in _entries(found, "include")] == [record_id]
    registered = _entries(_get(client, token, "/fhir/Task", **{"business-status": "REGISTERED"}))
    assert [t["id"] for t in registered] == [task_id]
    by_focus = _entries(_get(client, token, "/fhir/Task", focus=f"Composition/{record_id}"))
    assert [t["id"] for t in by_focus] == [task_id]
    informants = _entries(_get(client, token, "/fhir/RelatedPerson",
                               patient=f"Patient/{mother}"))
    assert [i["patient"] for i in informants] == [{"reference": f"Patient/{mother}"}]
    child = section_ids(saved)["child-details"]
    with_comp = _get(client, token, "/fhir/Patient", _id=child,
                     _revinclude="Composition:subject")
    assert [r["id"] for r in _entries(with_comp, "include")] == [record_id]


def test_incremental_sync_and_keyset_paging(client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx)
    early = [notify(client, token)["entry"][0]["resource"]["id"] for _ in range(2)]
    time.sleep(0.01)
    mark = _get(client, token, f"/fhir/Composition/{early[-1]}")["meta"]["lastUpdated"]
    time.sleep(0.01)
    late = [notify(client, token)["entry"][0]["resource"]["id"] for _ in range(3)]
    newer = _entries(_get(client, token, "/fhir/Composition", _lastUpdated=f"gt{mark}"))
    assert [c["id"] for c in newer] == late
    seen: list[str] = []
    page = _get(client, token, "/fhir/Composition", _count=2)
    while True:
        seen += [c["id"] for c in _entries(page)]
        assert len(_entries(page)) <= 2
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        page = client.get(following[0].removeprefix("http://testserver"),
                          headers=bearer(token)).json()
    assert seen == early + late
    # A record changed since goes to the end: an incremental sync picks it up again.
    register(client, ctx, early[0])
    changed = _entries(_get(client, token, "/fhir/Composition", _lastUpdated=f"gt{mark}"))
    assert [c["id"] for c in changed] == [*late, early[0]]


def test_errors_are_operation_outcomes(client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx)
    saved = notify(client, token)
    task_id = saved["entry"][1]["resource"]["id"]
    cases = [
        ("/fhir/Task/no-such-task", 404, "FHR-404-001"),
        (f"/fhir/Task/{task_id}/_history/7", 404, "FHR-404-002"),
        ("/fhir/Task?colour=blue", 400, "GEN-400-003"),
        ("/fhir/Task?identifier:of-type=x", 400, "GEN-400-003"),
        ("/fhir/Task?identifier=", 400, "GEN-400-002"),
        ("/fhir/Task?_include=Task:owner", 400, "GEN-400-002"),
        ("/fhir/Task?_lastUpdated=yesterday", 400, "GEN-400-002"),
        ("/fhir/Task?_page=garbage", 400, "GEN-400-002"),
    ]
    for path, status, code in cases:
        answer = client.get(path, headers=bearer(token))
        assert (answer.status_code, issue_code(answer)) == (status, code), path
        assert answer.json()["resourceType"] == "OperationOutcome"
    assert client.get(f"/fhir/Task/{task_id}").status_code == 401


def test_a_resource_removed_by_an_edit_is_gone(client: TestClient, ctx: AppContext) -> None:
    staff = user_token(ctx, LOCAL_REGISTRAR)
    record_id = declare(client, staff, birth_bundle(mother_nid="5551234567"))["id"]
    before = _get(client, staff, f"/fhir/Composition/{record_id}/$document")
    mother = next(e["resource"]["id"] for e in before["entry"]
                  if e["resource"]["resourceType"] == "Patient"
                  and e["resource"].get("identifier"))
    edited = client.put(f"/api/records/{record_id}", json=birth_bundle(),
                        headers={**bearer(staff), "If-Match": 'W/"1"'})
    assert edited.status_code == 200, edited.text
    after = _get(client, staff, f"/fhir/Composition/{record_id}/$document")
    if mother in {e["resource"]["id"] for e in after["entry"]}:
        pytest.skip("the edit kept the resource ids")
    gone = client.get(f"/fhir/Patient/{mother}", headers=bearer(staff))
    assert (gone.status_code, issue_code(gone)) == (410, "FHR-410-001")
    old = _get(client, staff, f"/fhir/Patient/{mother}/_history/1")
    assert old["identifier"][0]["value"] == "5551234567"
    other_office = client.get(f"/fhir/Patient/{mother}",
                              headers=bearer(user_token(ctx, "g.lwendeza")))
    assert other_office.status_code == 404


def test_resources_stored_without_ids_are_read_by_stable_ids(
        client: TestClient, ctx: AppContext) -> None:
    done = generate_to(ctx.db, ctx.location_cache.snapshot().ordered,
                       Plan(5, seed=3, duplicate_share=0.0, batch=5), None)
    assert done == 5
    token = user_token(ctx, NATIONAL_REGISTRAR)
    comps = _entries(_get(client, token, "/fhir/Composition", _count=5))
    assert len(comps) == 5
    for comp in comps:
        document = _get(client, token, f"/fhir/Composition/{comp['id']}/$document")
        again = _get(client, token, f"/fhir/Composition/{comp['id']}/$document")
        assert [e["fullUrl"] for e in document["entry"]] == [e["fullUrl"] for e in again["entry"]]
        for entry in document["entry"]:
            resource = entry["resource"]
            read = _get(client, token, f"/fhir/{resource['resourceType']}/{resource['id']}")
            assert read == resource
            valid_r4(read)


def test_every_read_is_audited_with_who_how_and_what(client: TestClient, ctx: AppContext) -> None:
    creds, token = new_client(ctx, "HEALTH", name="Audited HIS")
    saved = notify(client, token)
    record_id, task_id = (saved["entry"][i]["resource"]["id"] for i in (0, 1))
    _get(client, token, f"/fhir/Task/{task_id}")
    _get(client, token, "/fhir/Composition", _id=record_id, _revinclude="Task:focus")
    with ctx.db.transaction() as session:
        rows = list(session.scalars(select(RecordAction).where(
            RecordAction.action == "read-fhir").order_by(RecordAction.at)))
        seen = [(r.record_id, r.actor_type, r.actor_id, r.actor_role, r.data["fhir"],
                 r.data["reader"], r.status_after, r.version_after) for r in rows]
    assert seen == [
        (record_id, "client", creds.client.id, "HEALTH", "Task read", "health", "DECLARED", 1),
        (record_id, "client", creds.client.id, "HEALTH", "Composition search", "health",
         "DECLARED", 1),
    ]


def test_a_sparse_search_pages_on_instead_of_stopping(client: TestClient, ctx: AppContext,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    generate_to(ctx.db, ctx.location_cache.snapshot().ordered,
                Plan(45, seed=4, duplicate_share=0.0, batch=45), None)
    saved = notify(client, health_token(ctx))  # one record with Observations, changed last
    monkeypatch.setattr("crvshub.fhir_records.service.BATCH_ROUNDS", 1)
    staff = user_token(ctx, NATIONAL_REGISTRAR)
    pages, found = 0, []
    page = _get(client, staff, "/fhir/Observation", _count=5)
    while True:
        pages += 1
        found += [o["id"] for o in _entries(page)]
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        page = client.get(following[0].removeprefix("http://testserver"),
                          headers=bearer(staff)).json()
    expected = sorted(e["resource"]["id"] for e in saved["entry"]
                      if e["resource"]["resourceType"] == "Observation")
    assert found == expected and len(expected) == 3
    assert pages == 3  # 20 records looked at per request: 46 records take three requests


def test_an_opencrvs_strict_client_reads_the_stored_shapes(client: TestClient,
                                                          ctx: AppContext) -> None:
    _, strict = new_client(ctx, "HEALTH", name="Strict hospital", compat_mode="opencrvs-strict")
    saved = notify(client, strict, "birth-full")
    record_id = saved["entry"][0]["resource"]["id"]
    stored = _get(client, strict, f"/fhir/Composition/{record_id}")
    assert "class" in stored and "category" not in stored, "OpenCRVS's STU3 name is kept"
    related = ids_by_type(saved)["RelatedPerson"][0]
    assert isinstance(_get(client, strict, f"/fhir/RelatedPerson/{related}")["relationship"],
                      dict)
    hospital = health_token(ctx)
    default = notify(client, hospital, "birth-full")
    r4 = _get(client, hospital, f"/fhir/Composition/{default['entry'][0]['resource']['id']}")
    assert "class" not in r4 and r4["category"], "made valid R4 by default"
    valid_r4(r4)


def test_a_read_commits_its_audit_without_waiting_for_the_disk_and_a_change_waits(
        client: TestClient, ctx: AppContext, backend: str) -> None:
    token = health_token(ctx)
    saved = notify(client, token)
    record_id, task_id = (saved["entry"][i]["resource"]["id"] for i in (0, 1))
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", seen)
    try:
        _get(client, token, f"/fhir/Task/{task_id}")
        read = list(statements)
        statements.clear()
        register(client, ctx, record_id)
        change = list(statements)
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", seen)
    relaxed = "SET LOCAL synchronous_commit = off"
    assert any("INSERT INTO record_actions" in s for s in read)  # the read is audited
    # On PostgreSQL the read's transaction (it writes nothing but its audit entry) does not
    # wait for the WAL flush; a registration does. SQLite never flushes at commit (WAL mode).
    assert (relaxed in read) == (backend == "postgresql")
    assert relaxed not in change and any("UPDATE records" in s for s in change)
    with ctx.db.transaction() as session:
        audited = session.scalars(select(RecordAction.data).where(
            RecordAction.record_id == record_id, RecordAction.action == "read-fhir")).all()
    assert [a["fhir"] for a in audited] == ["Task read"]
