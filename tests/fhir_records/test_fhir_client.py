"""A real FHIR client (fhirpy) reads a notified record back as the hospital that sent it."""

from __future__ import annotations

import httpx
import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound

from tests.helpers import LiveServer, bearer
from tests.notification.helpers import example, fresh_ids, health_token


def test_hospital_follows_task_to_composition_to_patient(live_server: LiveServer) -> None:
    token = health_token(live_server.ctx)
    answer = httpx.post(f"{live_server.url}/notification", json=fresh_ids(example("birth-full")),
                        headers=bearer(token), timeout=30)
    assert answer.status_code == 200, answer.text
    location = answer.headers["location"]
    tracking = answer.json()["entry"][0]["resource"]["identifier"]["value"]
    client = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {token}")

    # The Location header of /notification is the FHIR read of the record's Composition.
    kind, record_id = location.removeprefix("/fhir/").split("/")
    composition = client.reference(kind, record_id).to_resource()
    assert composition["identifier"]["value"] == tracking

    # Search the Task by tracking ID, then follow Task -> Composition -> Patient.
    task = client.resources("Task").search(identifier=tracking).first()
    assert task is not None
    assert task["businessStatus"]["coding"][0]["code"] == "DECLARED"
    followed = task["focus"].to_resource()
    assert followed["id"] == record_id
    child = followed["subject"].to_resource()
    assert child["resourceType"] == "Patient" and child["birthDate"]
    assert child["name"][0]["family"] == "Mwale"

    # Includes in one round trip; paging through the hospital's records.
    bundle = client.resources("Task").search(identifier=tracking).include("Task", "focus")
    fetched = bundle.fetch_raw()
    assert {e["resource"]["resourceType"] for e in fetched["entry"]} == {"Task", "Composition"}

    # Nothing about anybody else's records.
    other = SyncFHIRClient(f"{live_server.url}/fhir",
                           authorization=f"Bearer {health_token(live_server.ctx, 'Other HIS')}")
    assert other.resources("Task").search(identifier=tracking).first() is None
    with pytest.raises(ResourceNotFound):
        other.reference("Composition", record_id).to_resource()
