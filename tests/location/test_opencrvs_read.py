"""OpenCRVS-compatible reads: /location and /locations search, read, hierarchy, children."""

from __future__ import annotations

import json

from crvshub.location.domain import stable_location_id
from tests.helpers import HARAMBO_DISTRICT_SID, HARAMBO_OFFICE_SID
from tests.location.helpers import DISTRICT_ID, HOSPITAL_ID, OFFICE_ID, STATE_SID, code_of


def test_all_health_facilities_with_count_zero_is_public_and_complete(client) -> None:
    response = client.get("/location", params={"type": "HEALTH_FACILITY", "_count": "0",
                                               "status": "active"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    assert bundle["total"] == len(bundle["entry"]) >= 300
    entry = bundle["entry"][0]
    assert entry["fullUrl"] == f"http://testserver/location/{entry['resource']['id']}"
    assert all(e["resource"]["type"]["coding"][0]["code"] == "HEALTH_FACILITY"
               for e in bundle["entry"])


def test_default_page_size_and_next_link_walk_everything_once(client) -> None:
    url = "/locations?type=CRVS_OFFICE"
    seen: list[str] = []
    while url:
        bundle = client.get(url).json()
        assert len(bundle["entry"]) <= 10
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), "")
    assert len(seen) == len(set(seen)) == 17


def test_office_shape_matches_opencrvs(client) -> None:
    bundle = client.get("/location", params={"identifier": f"CRVS_OFFICE_{HARAMBO_OFFICE_SID}"}).json()
    assert bundle["total"] == 1
    office = bundle["entry"][0]["resource"]
    assert office["id"] == OFFICE_ID
    assert office["identifier"] == [{"system": "http://opencrvs.org/specs/id/internal-id",
                                     "value": f"CRVS_OFFICE_{HARAMBO_OFFICE_SID}"}]
    assert office["partOf"] == {"reference": f"Location/{DISTRICT_ID}"}
    assert office["physicalType"]["coding"] == [{"code": "bu", "display": "Building"}]
    assert office["type"]["coding"] == [{"system": "http://opencrvs.org/specs/location-type",
                                         "code": "CRVS_OFFICE"}]
    assert office["mode"] == "instance" and office["status"] == "active"
    assert office["telecom"] == [] and office["address"]["line"] == []
    assert office["address"]["district"] == "Harambo"


def test_admin_area_shape_and_statistics_not_halved(client, db) -> None:
    district = client.get(f"/location/{DISTRICT_ID}").json()
    assert {"system": "http://opencrvs.org/specs/id/statistical-code",
            "value": f"ADMIN_STRUCTURE_{HARAMBO_DISTRICT_SID}"} in district["identifier"]
    assert {"system": "http://opencrvs.org/specs/id/jurisdiction-type",
            "value": "DISTRICT"} in district["identifier"]
    assert district["description"] == HARAMBO_DISTRICT_SID
    assert district["physicalType"]["coding"][0]["code"] == "jdn"
    ext = {e["url"]: e for e in district["extension"]}
    rates = json.loads(ext["http://opencrvs.org/specs/id/statistics-crude-birth-rates"]["valueString"])
    from crvshub.location import repository
    stored = repository.by_statistical_id(db, HARAMBO_DISTRICT_SID)
    assert stored is not None
    assert {"2020": stored.statistics["2020"]["crude_birth_rate"]} in rates
    totals = json.loads(ext["http://opencrvs.org/specs/id/statistics-total-populations"]["valueString"])
    assert {"2020": stored.statistics["2020"]["population"]} in totals


def test_top_level_area_is_part_of_location_zero(client) -> None:
    state = client.get(f"/locations/{stable_location_id('FAR', STATE_SID)}").json()
    assert state["partOf"] == {"reference": "Location/0"}
    children = client.get("/location", params={"partOf": "Location/0", "_count": "0"}).json()
    assert children["total"] == 4


def test_name_status_identifier_and_id_filters(client) -> None:
    by_name = client.get("/location", params={"name": "harambo", "type": "ADMIN_STRUCTURE"}).json()
    assert [e["resource"]["id"] for e in by_name["entry"]] == [DISTRICT_ID]
    assert client.get("/location", params={"status": "inactive"}).json()["total"] == 0
    by_id = client.get("/location", params={"_id": HOSPITAL_ID}).json()
    assert by_id["total"] == 1
    none = client.get("/location", params={"identifier": "HEALTH_FACILITY_nope"}).json()
    assert none["total"] == 0 and none["entry"] == []


def test_bad_query_parameters_are_400(client) -> None:
    response = client.get("/location", params={"type": "HOSPITAL"})
    assert response.status_code == 400 and code_of(response) == "GEN-400-002"
    response = client.get("/location", params={"status": "gone"})
    assert response.status_code == 400
    response = client.get("/location", params={"identifier": "bad id!"})
    assert response.status_code == 400
    response = client.get("/location", params={"_count": "-1"})
    assert response.status_code == 400
    response = client.get("/location", params={"colour": "blue"})
    assert response.status_code == 400 and code_of(response) == "GEN-400-003"
    response = client.get("/location", params={"_page": "garbage"})
    assert response.status_code == 400


def test_unknown_id_is_404_operation_outcome(client) -> None:
    for path in ("/location/nope", "/locations/nope", "/locations/nope/hierarchy",
                 "/locations/nope/children"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert code_of(response) == "LOC-404-001"


def test_hierarchy_and_children(client) -> None:
    chain = client.get(f"/locations/{OFFICE_ID}/hierarchy").json()
    assert [r["id"] for r in chain][-2:] == [DISTRICT_ID, OFFICE_ID]
    assert chain[0]["partOf"]["reference"] == "Location/0"
    below = client.get(f"/locations/{DISTRICT_ID}/children").json()
    ids = {r["id"] for r in below}
    assert {OFFICE_ID, HOSPITAL_ID} <= ids and DISTRICT_ID not in ids
    state_id = chain[0]["id"]
    assert len(client.get(f"/locations/{state_id}/children").json()) > len(below)
