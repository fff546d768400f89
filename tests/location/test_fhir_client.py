"""A real FHIR client library (fhirpy) reads, searches and pages through our locations."""

from __future__ import annotations

from fhirpy import SyncFHIRClient

from tests.helpers import NATLSYSADMIN, user_token
from tests.location.helpers import DISTRICT_ID, OFFICE_ID


def test_fhirpy_reads_searches_and_pages(live_server) -> None:
    client = SyncFHIRClient(f"{live_server.url}/fhir")
    office = client.reference("Location", OFFICE_ID).to_resource()
    assert office["id"] == OFFICE_ID and office["meta"]["versionId"]
    facilities = client.resources("Location").search(type="HEALTH_FACILITY").limit(25)
    assert facilities.count() >= 300
    everything = facilities.fetch_all()
    ids = [r["id"] for r in everything]
    assert len(ids) == len(set(ids)) == facilities.count()
    below = client.resources("Location").search(**{"partof:below": f"Location/{DISTRICT_ID}"})
    assert OFFICE_ID in {r["id"] for r in below.fetch_all()}
    named = client.resources("Location").search(name="harambo").sort("name").fetch()
    assert named and all("harambo" in r["name"].lower() for r in named)
    first = client.resources("Location").search(_id=OFFICE_ID).first()
    assert first is not None and first["name"] == office["name"]


def test_fhirpy_creates_and_updates_with_a_token(live_server) -> None:
    token = user_token(live_server.ctx, NATLSYSADMIN)
    client = SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {token}")
    clinic = client.resource(
        "Location", name="Fhirpy Clinic", status="active",
        identifier=[{"system": "http://opencrvs.org/specs/id/internal-id",
                     "value": "HEALTH_FACILITY_FHIRPY1"}],
        type={"coding": [{"system": "http://opencrvs.org/specs/location-type",
                          "code": "HEALTH_FACILITY"}]},
        partOf={"reference": f"Location/{DISTRICT_ID}"},
    )
    clinic.save()
    assert clinic["id"]
    clinic["name"] = "Fhirpy Clinic Renamed"
    clinic.save()
    fresh = client.reference("Location", clinic["id"]).to_resource()
    assert fresh["name"] == "Fhirpy Clinic Renamed" and fresh["meta"]["versionId"] == "2"
