"""OpenCRVS-compatible writes: POST and PUT /location(s), scopes and payload errors."""

from __future__ import annotations

import json

from tests.helpers import FIELD_AGENT, NATLSYSADMIN, bearer, new_client, user_token
from tests.location.helpers import DISTRICT_ID, code_of, expressions, facility

ADMIN_AREA = {
    "statisticalID": "NEW_STATE", "name": "New State", "alias": "Nouvel État",
    "partOf": "Location/0", "code": "ADMIN_STRUCTURE", "jurisdictionType": "LOCATION_LEVEL_1",
    "statistics": [{"year": 2023, "male_population": 10, "female_population": 12,
                    "population": 22, "crude_birth_rate": 31.4}],
}


def _admin(ctx) -> dict[str, str]:
    return bearer(user_token(ctx, NATLSYSADMIN))


def test_create_one_returns_the_resource_with_its_id(client, ctx) -> None:
    response = client.post("/location", json=ADMIN_AREA, headers=_admin(ctx))
    assert response.status_code == 201
    created = response.json()
    assert created["id"] and response.headers["location"].endswith(f"/location/{created['id']}")
    assert {"system": "http://opencrvs.org/specs/id/jurisdiction-type",
            "value": "STATE"} in created["identifier"]
    assert created["alias"] == ["Nouvel État"]
    ext = {e["url"]: e["valueString"] for e in created["extension"]}
    assert json.loads(ext["http://opencrvs.org/specs/id/statistics-crude-birth-rates"]) == [
        {"2023": 31.4}]
    found = client.get("/location", params={"identifier": "ADMIN_STRUCTURE_NEW_STATE"}).json()
    assert found["total"] == 1 and found["entry"][0]["resource"]["id"] == created["id"]


def test_create_array_resolves_part_of_to_another_item(client, ctx) -> None:
    payload = [
        facility("NEW_CLINIC", "New Clinic", "Location/NEW_DISTRICT"),
        {"statisticalID": "NEW_DISTRICT", "name": "New District", "partOf": f"Location/{DISTRICT_ID}",
         "code": "ADMIN_STRUCTURE", "jurisdictionType": "DISTRICT"},
    ]
    response = client.post("/locations", json=payload, headers=_admin(ctx))
    assert response.status_code == 201, response.text
    bundle = response.json()
    assert bundle["type"] == "transaction-response"
    clinic, district = (e["resource"] for e in bundle["entry"])
    assert clinic["partOf"]["reference"] == f"Location/{district['id']}"
    assert bundle["entry"][0]["response"]["location"] == f"Location/{clinic['id']}/_history/1"
    below = client.get(f"/locations/{DISTRICT_ID}/children").json()
    assert {clinic["id"], district["id"]} <= {r["id"] for r in below}


def test_duplicate_statistical_id_is_409(client, ctx) -> None:
    assert client.post("/location", json=facility("DUP1", "One"), headers=_admin(ctx)).status_code == 201
    response = client.post("/location", json=facility("DUP1", "Two"), headers=_admin(ctx))
    assert response.status_code == 409 and code_of(response) == "LOC-409-001"
    assert "DUP1" in response.text
    # Any prefix counts: the statistical id of a seeded office is taken too.
    response = client.post("/location", json=facility("f4t3tGolUB", "Clash"), headers=_admin(ctx))
    assert response.status_code == 409
    both = [facility("DUP2", "A"), facility("DUP2", "B")]
    response = client.post("/location", json=both, headers=_admin(ctx))
    assert response.status_code == 409 and expressions(response) == ["[1].statisticalID"]


def test_bad_payload_is_400_naming_each_field(client, ctx) -> None:
    bad = {"name": "", "partOf": "Somewhere", "code": "HOSPITAL",
           "statistics": [{"year": "x", "population": -1}]}
    response = client.post("/location", json=bad, headers=_admin(ctx))
    assert response.status_code == 400 and code_of(response) == "LOC-400-001"
    named = expressions(response)
    for field in ("statisticalID", "name", "partOf", "code", "statistics[0].year",
                  "statistics[0].population", "statistics[0].male_population"):
        assert field in named, (field, named)
    response = client.post("/location", json=[facility("OK1", "ok"), {"name": 3}],
                           headers=_admin(ctx))
    assert response.status_code == 400 and "[1].statisticalID" in expressions(response)
    response = client.post("/location", content=b"{not json", headers={
        **_admin(ctx), "content-type": "application/json"})
    assert response.status_code == 400
    response = client.post("/location", json="a string", headers=_admin(ctx))
    assert response.status_code == 400


def test_unknown_parent_is_400(client, ctx) -> None:
    response = client.post("/location", json=facility("ORPHAN", "Orphan", "Location/nope"),
                           headers=_admin(ctx))
    assert response.status_code == 400 and code_of(response) == "LOC-400-002"
    assert "nope is not a valid location for partOfLocation" in response.text
    from tests.location.helpers import HOSPITAL_ID
    response = client.post("/location", json=facility("INSIDE", "x", f"Location/{HOSPITAL_ID}"),
                           headers=_admin(ctx))
    assert response.status_code == 400
    cycle = [facility("C1", "c1", "Location/C2") | {"code": "ADMIN_STRUCTURE"},
             facility("C2", "c2", "Location/C1") | {"code": "ADMIN_STRUCTURE"}]
    assert client.post("/location", json=cycle, headers=_admin(ctx)).status_code == 400


def test_writes_need_a_token_and_the_natlsysadmin_scope(client, ctx) -> None:
    response = client.post("/location", json=facility("NOAUTH", "x"))
    assert response.status_code == 401 and code_of(response) == "AUTH-401-001"
    response = client.put(f"/location/{DISTRICT_ID}", json={"name": "x"})
    assert response.status_code == 401
    field_agent = bearer(user_token(ctx, FIELD_AGENT))
    response = client.post("/location", json=facility("NOSCOPE", "x"), headers=field_agent)
    assert response.status_code == 403 and code_of(response) == "AUTH-403-001"
    _, health_token = new_client(ctx, "HEALTH")
    response = client.put(f"/locations/{DISTRICT_ID}", json={"name": "x"},
                          headers=bearer(health_token))
    assert response.status_code == 403
    assert client.get("/location", params={"identifier": "HEALTH_FACILITY_NOSCOPE"}).json()[
        "total"] == 0


def test_update_merges_statistics_by_year_and_archives(client, ctx) -> None:
    before = client.get(f"/location/{DISTRICT_ID}").json()
    update = {"name": "Harambo Nord", "alias": "Harambo N.", "status": "inactive",
              "statistics": {"year": 2020, "male_population": 1, "female_population": 2,
                             "population": 3, "crude_birth_rate": 40}}
    response = client.put(f"/location/{DISTRICT_ID}", json=update, headers=_admin(ctx))
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["name"] == "Harambo Nord" and after["alias"] == ["Harambo N."]
    assert after["status"] == "inactive"
    assert int(after["meta"]["versionId"]) == int(before["meta"]["versionId"]) + 1
    ext = {e["url"]: json.loads(e["valueString"]) for e in after["extension"]
           if "valueString" in e}
    rates = ext["http://opencrvs.org/specs/id/statistics-crude-birth-rates"]
    assert {"2020": 40} in rates and len(rates) > 1  # other years kept
    assert client.get(f"/location/{DISTRICT_ID}").json()["name"] == "Harambo Nord"
    active = client.get("/location", params={"type": "ADMIN_STRUCTURE", "status": "inactive"})
    assert [e["resource"]["id"] for e in active.json()["entry"]] == [DISTRICT_ID]


def test_update_errors(client, ctx) -> None:
    response = client.put("/location/nope", json={"name": "x"}, headers=_admin(ctx))
    assert response.status_code == 404 and code_of(response) == "LOC-404-001"
    response = client.put(f"/location/{DISTRICT_ID}", json={"status": "deleted"},
                          headers=_admin(ctx))
    assert response.status_code == 400 and expressions(response) == ["status"]
    response = client.put(f"/location/{DISTRICT_ID}", json={"statistics": {"year": 2020}},
                          headers=_admin(ctx))
    assert response.status_code == 400 and "statistics[0].population" in expressions(response)


def test_oversized_body_is_413(client, ctx) -> None:
    response = client.post("/location", content=b"[" + b" " * (3 * 1024 * 1024) + b"]",
                           headers={**_admin(ctx), "content-type": "application/json"})
    assert response.status_code == 413
