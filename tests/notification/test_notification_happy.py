"""POST /notification: valid birth and death bundles become records in the office workqueue."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crvshub.context import AppContext
from crvshub.outbox.models import DomainEvent
from crvshub.record.models import Record, RecordAction
from tests.helpers import NATLSYSADMIN, bearer, user_token
from tests.notification.helpers import (
    FACILITY_ID,
    OFFICE_ID,
    example,
    fresh_ids,
    health_token,
    post,
)

TRACKING = re.compile(r"^[BD][0-9A-Z]{6}$")


@pytest.mark.parametrize(
    ("name", "event", "status"),
    [
        ("birth-minimal", "birth", "IN_PROGRESS"),
        ("birth-full", "birth", "DECLARED"),
        ("death-minimal", "death", "IN_PROGRESS"),
        ("death-full", "death", "DECLARED"),
        ("birth-home", "birth", "IN_PROGRESS"),
    ],
)
def test_documented_examples_are_saved(
    client: TestClient, ctx: AppContext, name: str, event: str, status: str
) -> None:
    token = health_token(ctx)
    response = post(client, token, example(name))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    saved = response.json()
    composition, task = saved["entry"][0]["resource"], saved["entry"][1]["resource"]
    record_id = composition["id"]
    assert response.headers["location"] == f"/fhir/Composition/{record_id}"
    tracking = next(i["value"] for i in task["identifier"]
                    if i["system"] == f"http://opencrvs.org/specs/id/{event}-tracking-id")
    assert TRACKING.match(tracking) and tracking[0] == event[0].upper()
    assert composition["identifier"]["value"] == tracking
    assert task["businessStatus"]["coding"][0] == {
        "system": "http://opencrvs.org/specs/reg-status", "code": status}
    for entry in saved["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    assert task["focus"]["reference"] == f"urn:uuid:{record_id}"
    with ctx.db.transaction() as session:
        record = session.get(Record, record_id)
        assert record is not None
        assert (record.status, record.event, record.office_id) == (status, event, OFFICE_ID)
        assert record.source == "health-system" and record.source_client_id
        assert record.composition_type == f"{event}-notification"
        assert record.tracking_id == tracking and record.bundle == saved
        topics = session.scalars(select(DomainEvent.topic).where(
            DomainEvent.record_id == record_id)).all()
        assert topics == [f"{event.upper()}_NOTIFIED"]


def test_every_reference_points_inside_the_saved_bundle(client: TestClient, ctx: AppContext):
    saved = post(client, health_token(ctx), example("birth-full")).json()
    urls = {e["fullUrl"] for e in saved["entry"]}
    text = str(saved)
    refs = re.findall(r"'reference': '([^']+)'", text)
    assert refs
    for ref in refs:
        assert ref in urls or ref.startswith("Location/"), ref


def test_search_columns_and_audit(client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx, name="Harambo Hospital HIS")
    saved = post(client, token, example("birth-full")).json()
    record_id = saved["entry"][0]["resource"]["id"]
    with ctx.db.transaction() as session:
        record = session.get(Record, record_id)
        assert record is not None
        assert record.subject_given == "Tendai Joy" and record.subject_family == "Mwale"
        assert record.subject_name_norm == "tendai joy mwale"
        assert record.subject_gender == "male"
        assert str(record.event_date) == "2026-01-08"
        assert record.event_location_id == FACILITY_ID
        assert record.contact_number == "+260759205190"
        actions = session.scalars(select(RecordAction).where(
            RecordAction.record_id == record_id)).all()
        assert len(actions) == 1
        action = actions[0]
        assert action.action == "sent-notification"
        assert (action.actor_type, action.actor_name, action.actor_role) == (
            "client", "Harambo Hospital HIS", "HEALTH")
        assert action.actor_id == record.source_client_id
        assert action.data["client_type"] == "HEALTH" and action.data["client_id"]
        assert action.status_after == "DECLARED" and action.version_after == 1
        assert action.ip


def test_system_identifier_names_the_hospital(client: TestClient, ctx: AppContext) -> None:
    saved = post(client, health_token(ctx, name="St Mary HIS"), example("death-minimal")).json()
    task = saved["entry"][1]["resource"]
    system = next(i["value"] for i in task["identifier"]
                  if i["system"] == "http://opencrvs.org/specs/id/system_identifier")
    assert '"name":"St Mary HIS"' in system and '"type":"HEALTH"' in system


def test_system_identifier_username_is_the_admin_who_registered_the_client(
    client: TestClient, ctx: AppContext
) -> None:
    admin = bearer(user_token(ctx, NATLSYSADMIN))
    created = client.post("/api/integrations", json={"name": "Kosari HIS", "type": "HEALTH"},
                          headers=admin).json()
    token = client.post("/token", data={
        "grant_type": "client_credentials", "client_id": created["client_id"],
        "client_secret": created["client_secret"]}).json()["access_token"]
    saved = post(client, token, example("birth-minimal")).json()
    task = saved["entry"][1]["resource"]
    [value] = [i["value"] for i in task["identifier"]
               if i["system"] == "http://opencrvs.org/specs/id/system_identifier"]
    # As OpenCRVS (spec 3.2): {name, username, type} of the system, in this order.
    assert json.loads(value) == {"name": "Kosari HIS", "username": NATLSYSADMIN,
                                 "type": "HEALTH"}
    assert list(json.loads(value)) == ["name", "username", "type"]


def test_death_event_date_and_home_birth_place(client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx)
    death = post(client, token, example("death-full")).json()
    home = post(client, token, example("birth-home")).json()
    with ctx.db.transaction() as session:
        record = session.get(Record, death["entry"][0]["resource"]["id"])
        assert record is not None and str(record.event_date) == "2026-01-06"
        home_record = session.get(Record, home["entry"][0]["resource"]["id"])
        assert home_record is not None and home_record.event_location_id is None
    encounter = next(e["resource"] for e in home["entry"]
                     if e["resource"]["resourceType"] == "Encounter")
    place_ref = encounter["location"][0]["location"]["reference"]
    assert place_ref in {e["fullUrl"] for e in home["entry"]}


def test_v13_forms_family_array_legacy_identifier_and_reg_last_location(
    client: TestClient, ctx: AppContext
) -> None:
    bundle = fresh_ids(example("birth-full"))
    mother = bundle["entry"][3]["resource"]
    mother["name"][0]["family"] = ["Mwale"]
    mother["identifier"] = [{"type": "NATIONAL_ID", "value": "1234567890"}]
    bundle["entry"][0]["resource"]["section"][0]["code"]["coding"][0]["system"] = (
        "http://opencrvs.org/doc-sections")
    bundle["entry"][1]["resource"]["extension"].append({
        "url": "http://opencrvs.org/specs/extension/regLastLocation",
        "valueReference": {"reference": "Location/1ce7a782-f7ee-5efe-8fe9-afdbe78a5cac"}})
    bundle["entry"].append({"fullUrl": "urn:uuid:0d6f0c8e-57a5-4e1e-9d7b-6b1e2f0c9a11",
                            "resource": {"resourceType": "QuestionnaireResponse",
                                         "status": "completed", "item": []}})
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 200, response.text
    assert response.json()["entry"][1]["resource"]["businessStatus"]["coding"][0]["code"] == (
        "DECLARED")


def test_field_agent_user_token_is_accepted_as_staff(client: TestClient, ctx: AppContext):
    from tests.helpers import FIELD_AGENT, user_token

    response = post(client, user_token(ctx, FIELD_AGENT), example("birth-minimal"))
    assert response.status_code == 200, response.text
    with ctx.db.transaction() as session:
        record = session.get(Record, response.json()["entry"][0]["resource"]["id"])
        assert record is not None and record.source == "staff"
        assert record.source_client_id is None
