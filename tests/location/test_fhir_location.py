"""FHIR R4 Location: read, vread, history, search parameters, paging, create and update."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.helpers import FIELD_AGENT, NATLSYSADMIN, bearer, user_token
from tests.location.helpers import DISTRICT_ID, HOSPITAL_ID, OFFICE_ID, code_of, expressions

SYSTEM = "http://opencrvs.org/specs/id/internal-id"


def _admin(ctx) -> dict[str, str]:
    return bearer(user_token(ctx, NATLSYSADMIN))


def _facility(sid: str, name: str, part_of: str = DISTRICT_ID) -> dict:
    return {
        "resourceType": "Location", "name": name, "status": "active",
        "identifier": [{"system": SYSTEM, "value": f"HEALTH_FACILITY_{sid}"}],
        "type": {"coding": [{"system": "http://opencrvs.org/specs/location-type",
                             "code": "HEALTH_FACILITY"}]},
        "partOf": {"reference": f"Location/{part_of}"},
    }


def _ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle["entry"]]


def test_read_has_etag_and_version(client) -> None:
    response = client.get(f"/fhir/Location/{OFFICE_ID}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert response.headers["etag"] == f'W/"{body["meta"]["versionId"]}"'
    assert "last-modified" in response.headers
    again = client.get(f"/fhir/Location/{OFFICE_ID}", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    missing = client.get("/fhir/Location/does-not-exist")
    assert missing.status_code == 404 and code_of(missing) == "LOC-404-001"


def test_create_update_vread_history_and_if_match(client, ctx) -> None:
    created = client.post("/fhir/Location", json=_facility("FHIR1", "Clinique Élan"),
                          headers=_admin(ctx))
    assert created.status_code == 201, created.text
    location_id = created.json()["id"]
    assert created.headers["etag"] == 'W/"1"'
    assert created.headers["location"].endswith(f"/fhir/Location/{location_id}/_history/1")
    body = created.json() | {"name": "Clinique Élan Nord"}
    stale = client.put(f"/fhir/Location/{location_id}", json=body,
                       headers={**_admin(ctx), "If-Match": 'W/"7"'})
    assert stale.status_code == 412 and code_of(stale) == "GEN-412-001"
    updated = client.put(f"/fhir/Location/{location_id}", json=body,
                         headers={**_admin(ctx), "If-Match": 'W/"1"'})
    assert updated.status_code == 200 and updated.json()["meta"]["versionId"] == "2"
    assert updated.headers["etag"] == 'W/"2"'
    old = client.get(f"/fhir/Location/{location_id}/_history/1").json()
    assert old["name"] == "Clinique Élan" and old["meta"]["versionId"] == "1"
    assert client.get(f"/fhir/Location/{location_id}/_history/9").status_code == 404
    assert code_of(client.get(f"/fhir/Location/{location_id}/_history/9")) == "LOC-404-002"
    history = client.get(f"/fhir/Location/{location_id}/_history").json()
    assert history["type"] == "history" and history["total"] == 2
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "POST"]
    # The same store serves the OpenCRVS face.
    assert client.get(f"/location/{location_id}").json()["name"] == "Clinique Élan Nord"


def test_seeded_locations_have_history(client) -> None:
    history = client.get(f"/fhir/Location/{DISTRICT_ID}/_history").json()
    assert history["total"] >= 1
    assert client.get("/fhir/Location/nope/_history").status_code == 404


def test_conditional_create_on_identifier(client, ctx) -> None:
    condition = {"If-None-Exist": f"identifier={SYSTEM}|HEALTH_FACILITY_COND1"}
    first = client.post("/fhir/Location", json=_facility("COND1", "Cond"),
                        headers={**_admin(ctx), **condition})
    assert first.status_code == 201
    second = client.post("/fhir/Location", json=_facility("COND1", "Cond"),
                         headers={**_admin(ctx), **condition})
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    plain = client.post("/fhir/Location", json=_facility("COND1", "Cond"), headers=_admin(ctx))
    assert plain.status_code == 409 and code_of(plain) == "LOC-409-001"
    bad = client.post("/fhir/Location", json=_facility("COND2", "Cond"),
                      headers={**_admin(ctx), "If-None-Exist": "name=Cond"})
    assert bad.status_code == 400


def test_fhir_write_errors(client, ctx) -> None:
    assert client.post("/fhir/Location", json=_facility("NA", "x")).status_code == 401
    forbidden = client.post("/fhir/Location", json=_facility("NA", "x"),
                            headers=bearer(user_token(ctx, FIELD_AGENT)))
    assert forbidden.status_code == 403
    invalid = client.post("/fhir/Location", json={"resourceType": "Location", "status": "odd"},
                          headers=_admin(ctx))
    assert invalid.status_code == 400
    assert {"Location.name", "Location.status", "Location.type",
            "Location.identifier"} <= set(expressions(invalid))
    wrong_type = client.post("/fhir/Location", json={"resourceType": "Patient"}, headers=_admin(ctx))
    assert wrong_type.status_code == 400
    current = client.get(f"/fhir/Location/{OFFICE_ID}").json()
    moved = current | {"partOf": {"reference": f"Location/{HOSPITAL_ID}"}}
    response = client.put(f"/fhir/Location/{OFFICE_ID}", json=moved, headers=_admin(ctx))
    assert response.status_code == 400 and code_of(response) == "LOC-400-003"
    response = client.put(f"/fhir/Location/{OFFICE_ID}", json=current | {"id": "other"},
                          headers=_admin(ctx))
    assert response.status_code == 400 and code_of(response) == "LOC-400-004"
    response = client.put("/fhir/Location/nope", json=current | {"id": "nope"}, headers=_admin(ctx))
    assert response.status_code == 404
    response = client.put(f"/fhir/Location/{OFFICE_ID}", json=current,
                          headers={**_admin(ctx), "If-Match": "junk"})
    assert response.status_code == 400


def test_update_without_changes_keeps_version_and_keeps_statistics(client, ctx) -> None:
    current = client.get(f"/fhir/Location/{DISTRICT_ID}").json()
    response = client.put(f"/fhir/Location/{DISTRICT_ID}", json=current, headers=_admin(ctx))
    assert response.status_code == 200
    assert response.json()["meta"]["versionId"] == current["meta"]["versionId"]
    assert response.json()["extension"] == current["extension"]


def test_name_search_prefix_accents_case_and_unicode(client, ctx) -> None:
    for sid, name in (("U1", "Hôpital Saint-Élie"), ("U2", "Больница Мира"), ("U3", "病院")):
        assert client.post("/fhir/Location", json=_facility(sid, name),
                           headers=_admin(ctx)).status_code == 201
    assert [e["resource"]["name"] for e in client.get(
        "/fhir/Location", params={"name": "HOPITAL saint-e"}).json()["entry"]] == ["Hôpital Saint-Élie"]
    assert client.get("/fhir/Location", params={"name": "больница"}).json()["total"] == 1
    assert client.get("/fhir/Location", params={"name": "病"}).json()["total"] == 1
    exact = client.get("/fhir/Location", params={"name:exact": "Hôpital Saint-Élie"}).json()
    assert exact["total"] == 1
    assert client.get("/fhir/Location", params={"name:exact": "hôpital saint-élie"}).json()["total"] == 0


def test_token_and_reference_parameters(client) -> None:
    types = client.get("/fhir/Location", params={"type": "CRVS_OFFICE", "_count": "100"}).json()
    assert types["total"] == 17
    system_type = "http://opencrvs.org/specs/location-type|CRVS_OFFICE"
    assert client.get("/fhir/Location", params={"type": system_type}).json()["total"] == 17
    assert client.get("/fhir/Location", params={"type": "other|CRVS_OFFICE"}).json()["total"] == 0
    office = client.get(f"/fhir/Location/{OFFICE_ID}").json()
    value = office["identifier"][0]["value"]
    for token in (f"{SYSTEM}|{value}", value, f"|{value}"[1:]):
        assert _ids(client.get("/fhir/Location", params={"identifier": token}).json()) == [OFFICE_ID]
    assert client.get("/fhir/Location", params={"identifier": f"other|{value}"}).json()["total"] == 0
    direct = client.get("/fhir/Location", params={"partof": f"Location/{DISTRICT_ID}", "_count": "1000"}).json()
    below = client.get("/fhir/Location", params={"partof:below": DISTRICT_ID, "_count": "1000"}).json()
    assert OFFICE_ID in _ids(direct) and set(_ids(direct)) <= set(_ids(below))
    state_id = office["address"] and client.get(f"/locations/{DISTRICT_ID}/hierarchy").json()[0]["id"]
    whole = client.get("/fhir/Location", params={"partof:below": f"Location/{state_id}", "_count": "0"}).json()
    assert whole["total"] > below["total"] and whole["entry"] == []
    both = client.get("/fhir/Location", params={"_id": f"{OFFICE_ID},{HOSPITAL_ID}"}).json()
    assert sorted(_ids(both)) == sorted([OFFICE_ID, HOSPITAL_ID])
    assert client.get("/fhir/Location", params={"status": "active", "_count": "0"}).json()["total"] > 300
    assert client.get("/fhir/Location", params={"status": "inactive"}).json()["total"] == 0
    assert client.get("/fhir/Location", params={"address-country": "FAR", "_count": "0"}).json()["total"] > 300
    assert client.get("/fhir/Location", params={"address-country": "KEN"}).json()["total"] == 0


def test_last_updated_sort_and_unknown_parameters(client, ctx) -> None:
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    time.sleep(1.05 - now.microsecond / 1e6)  # into the next second: "gt" is past the stamp's
    created = client.post("/fhir/Location", json=_facility("LU1", "Late"), headers=_admin(ctx)).json()
    recent = client.get("/fhir/Location", params={"_lastUpdated": f"gt{stamp}"}).json()
    assert _ids(recent) == [created["id"]]
    older = client.get("/fhir/Location", params={"_lastUpdated": f"le{stamp}", "_count": "1000"}).json()
    assert older["total"] > 300 and created["id"] not in _ids(older)
    assert client.get("/fhir/Location", params={"_lastUpdated": f"lt{stamp}", "_count": "0"}).status_code == 200
    day = datetime.now(UTC).date().isoformat()
    assert client.get("/fhir/Location", params={"_lastUpdated": day, "_count": "0"}).json()["total"] > 300
    assert client.get("/fhir/Location", params={"_lastUpdated": "gtnonsense"}).status_code == 400
    newest = client.get("/fhir/Location", params={"_sort": "-_lastUpdated", "_count": "1"}).json()
    assert _ids(newest) == [created["id"]]
    names = [e["resource"]["name"].lower() for e in client.get(
        "/fhir/Location", params={"type": "CRVS_OFFICE", "_sort": "-name"}).json()["entry"]]
    assert names == sorted(names, reverse=True)
    response = client.get("/fhir/Location", params={"_sort": "colour"})
    assert response.status_code == 400
    response = client.get("/fhir/Location", params={"near": "1|2|3"})
    assert response.status_code == 400 and code_of(response) == "GEN-400-003"
    lenient = client.get("/fhir/Location", params={"near": "1|2|3", "_count": "0"},
                         headers={"Prefer": "handling=lenient"})
    assert lenient.status_code == 200 and lenient.json()["total"] > 300
    assert client.get("/fhir/Location", params={"_count": "abc"}).status_code == 400


def test_paging_is_stable_when_locations_are_added(client, ctx) -> None:
    url = "/fhir/Location?type=HEALTH_FACILITY&_count=40"
    seen: list[str] = []
    first = True
    while url:
        bundle = client.get(url).json()
        assert bundle["total"] >= 300
        seen += _ids(bundle)
        if first:
            # A facility that sorts before the current page must not shift the pages.
            client.post("/fhir/Location", json=_facility("AAA", "Aaa first"), headers=_admin(ctx))
            first = False
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), "")
    assert len(seen) == len(set(seen)) >= 324


def test_capability_statement_lists_location(client) -> None:
    body = client.get("/fhir/metadata").json()
    assert body["resourceType"] == "CapabilityStatement" and body["fhirVersion"] == "4.0.1"
    resources = body["rest"][0]["resource"]
    location = next(r for r in resources if r["type"] == "Location")
    assert {i["code"] for i in location["interaction"]} == {
        "read", "vread", "update", "history-instance", "create", "search-type"}
    names = {p["name"] for p in location["searchParam"]}
    assert {"name", "identifier", "type", "partof", "status", "address-country",
            "_lastUpdated", "_id", "_count", "_sort"} <= names
    assert location["conditionalCreate"] is True and location["versioning"] == "versioned"


def test_history_pages_with_next_links(client, ctx) -> None:
    created = client.post("/fhir/Location", json=_facility("HIST1", "Clinic v1"),
                          headers=_admin(ctx))
    location_id = created.json()["id"]
    for version in range(2, 6):
        body = client.get(f"/fhir/Location/{location_id}").json() | {"name": f"Clinic v{version}"}
        assert client.put(f"/fhir/Location/{location_id}", json=body,
                          headers=_admin(ctx)).status_code == 200
    url = f"/fhir/Location/{location_id}/_history?_count=2"
    pages = []
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["total"] == 5
        pages.append([e["resource"]["meta"]["versionId"] for e in body["entry"]])
        links = {link["relation"]: link["url"] for link in body["link"]}
        assert links["first"].endswith(f"/fhir/Location/{location_id}/_history?_count=2")
        url = links.get("next", "").split("://", 1)[-1].split("/", 1)[-1]
        url = f"/{url}" if url else ""
    assert pages == [["5", "4"], ["3", "2"], ["1"]]
    everything = client.get(f"/fhir/Location/{location_id}/_history").json()
    assert len(everything["entry"]) == 5
    assert everything["entry"][0]["resource"]["name"] == "Clinic v5"
    assert "next" not in {link["relation"] for link in everything["link"]}
    for bad in ("_count=0", "_count=x", "_page=abc"):
        response = client.get(f"/fhir/Location/{location_id}/_history?{bad}")
        assert response.status_code == 400, bad
