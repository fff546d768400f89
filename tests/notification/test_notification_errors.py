"""POST /notification rejects bad requests with precise, documented OperationOutcome issues."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import bearer, new_client
from tests.notification.helpers import (
    DISTRICT_ID,
    FACILITY_ID,
    HQ_OFFICE_ID,
    OTHER_STATE_ID,
    codes,
    example,
    expressions,
    health_token,
    post,
    records,
)


def test_missing_token_is_401(client: TestClient) -> None:
    response = client.post("/notification", json=example("birth-minimal"))
    assert response.status_code == 401
    assert codes(response) == ["AUTH-401-001"]


def test_bad_token_is_401(client: TestClient) -> None:
    response = post(client, "not-a-jwt", example("birth-minimal"))
    assert response.status_code == 401


def test_wrong_scope_is_403(client: TestClient, ctx: AppContext) -> None:
    _, token = new_client(ctx, "RECORD_SEARCH")
    response = post(client, token, example("birth-minimal"))
    assert response.status_code == 403
    assert codes(response) == ["AUTH-403-001"]


def test_wrong_content_type_is_415(client: TestClient, ctx: AppContext) -> None:
    response = client.post("/notification", content=b"<Bundle/>", headers={
        **bearer(health_token(ctx)), "content-type": "application/xml"})
    assert response.status_code == 415
    assert codes(response) == ["GEN-415-001"]


def test_invalid_json_is_400(client: TestClient, ctx: AppContext) -> None:
    response = client.post("/notification", content=b'{"resourceType": "Bundle",', headers={
        **bearer(health_token(ctx)), "content-type": "application/json"})
    assert response.status_code == 400
    assert codes(response) == ["GEN-400-001"]


def test_body_over_limit_is_413(client: TestClient, ctx: AppContext) -> None:
    bundle = example("birth-minimal")
    bundle["padding"] = "x" * (2 * 1024 * 1024 + 10)
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 413
    assert codes(response) == ["GEN-413-001"]
    assert records(ctx) == 0


def test_not_a_bundle_is_400(client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx)
    for body in (b"[]", b'"text"', b"42", b'{"resourceType": "Patient"}', b"null"):
        response = client.post("/notification", content=body, headers={
            **bearer(token), "content-type": "application/fhir+json; charset=utf-8"})
        assert response.status_code == 400, body
        assert codes(response) == ["NOTIF-400-001"]


def test_every_structural_problem_is_reported_at_once(client: TestClient, ctx: AppContext):
    bundle = example("birth-minimal")
    bundle["type"] = "collection"
    del bundle["meta"]
    bundle["entry"][2]["resource"]["gender"] = "boy"
    bundle["entry"][3]["resource"]["birthDate"] = "02/04/1996"
    bundle["entry"].append({"fullUrl": "urn:uuid:x1", "resource": {"resourceType": "Practitioner"}})
    bundle["entry"].append({"resource": {"resourceType": "Observation"}})
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 400
    found = dict(zip(expressions(response), codes(response), strict=True))
    assert found == {
        "Bundle.type": "NOTIF-400-003",
        "Bundle.meta.lastUpdated": "NOTIF-400-002",
        "Bundle.entry[2].resource.gender": "NOTIF-400-003",
        "Bundle.entry[3].resource.birthDate": "NOTIF-400-003",
        "Bundle.entry[6].resource.resourceType": "NOTIF-400-004",
        "Bundle.entry[7].fullUrl": "NOTIF-400-002",
    }
    for issue in response.json()["issue"]:
        assert issue["details"]["text"] and issue["diagnostics"].startswith("NOTIF-")


def test_entry_order_and_duplicate_full_url(client: TestClient, ctx: AppContext) -> None:
    bundle = example("birth-minimal")
    bundle["entry"][0], bundle["entry"][1] = bundle["entry"][1], bundle["entry"][0]
    bundle["entry"][3]["fullUrl"] = bundle["entry"][2]["fullUrl"]
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 400
    assert codes(response).count("NOTIF-400-005") == 2
    assert "NOTIF-400-006" in codes(response)


def test_every_rule_problem_is_reported_with_its_expression(client: TestClient, ctx: AppContext):
    bundle = example("birth-full")
    task = bundle["entry"][1]["resource"]
    task["status"] = "ready"
    task["focus"]["reference"] = "urn:uuid:somewhere-else"
    task["extension"][2]["valueReference"]["reference"] = f"Location/{FACILITY_ID}"
    mother = bundle["entry"][3]["resource"]
    mother["address"][0]["state"] = OTHER_STATE_ID
    mother["address"][0]["country"] = "XXX"
    bundle["entry"][4]["resource"]["address"][0]["state"] = OTHER_STATE_ID
    bundle["entry"][2]["resource"]["birthDate"] = "2099-01-01"
    bundle["entry"][0]["resource"]["section"][0]["code"]["coding"][0]["code"] = "pet-details"
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 422, response.text
    found = set(zip(expressions(response), codes(response), strict=True))
    assert found == {
        ("Bundle.entry[1].resource.status", "NOTIF-422-001"),
        ("Bundle.entry[1].resource.focus.reference", "NOTIF-422-002"),
        ("Bundle.entry[1].resource.focus", "NOTIF-422-003"),
        ("Bundle.entry[1].resource.extension[2].valueReference", "NOTIF-422-004"),
        ("Bundle.entry[3].resource.address[0].country", "NOTIF-422-010"),
        ("Bundle.entry[4].resource.address[0].district", "NOTIF-422-009"),
        ("Bundle.entry[2].resource.birthDate", "NOTIF-422-012"),
        ("Bundle.entry[0].resource.section[0].code.coding[0].code", "NOTIF-422-013"),
    }
    assert records(ctx) == 0


def test_unknown_event_type(client: TestClient, ctx: AppContext) -> None:
    bundle = example("birth-minimal")
    bundle["entry"][0]["resource"]["type"]["coding"][0]["code"] = "marriage-notification"
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 422
    assert codes(response) == ["NOTIF-422-011"]
    bundle = example("birth-minimal")
    bundle["entry"][1]["resource"]["code"]["coding"][0]["code"] = "DEATH"
    response = post(client, health_token(ctx), bundle)
    assert codes(response) == ["NOTIF-422-011"]


def _without(bundle: dict[str, Any], resource_type: str) -> dict[str, Any]:
    kept = [e for e in bundle["entry"] if e["resource"]["resourceType"] != resource_type]
    urls = {e["fullUrl"] for e in kept}
    for section in kept[0]["resource"]["section"]:
        section["entry"] = [r for r in section["entry"] if r["reference"] in urls]
    kept[0]["resource"].pop("subject", None)
    return {**bundle, "entry": kept}


def test_missing_office_person_and_encounter(client: TestClient, ctx: AppContext) -> None:
    bundle = _without(_without(example("death-minimal"), "Encounter"), "Patient")
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "RelatedPerson"]
    bundle["entry"][0]["resource"]["section"] = []
    bundle["entry"][1]["resource"]["extension"] = []
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 422
    assert sorted(codes(response)) == ["NOTIF-422-004", "NOTIF-422-006", "NOTIF-422-007"]


def test_office_must_be_a_crvs_office_and_area_must_match(client: TestClient, ctx: AppContext):
    bundle = example("birth-minimal")
    bundle["entry"][1]["resource"]["extension"].append({
        "url": "http://opencrvs.org/specs/extension/regLastLocation",
        "valueReference": {"reference": f"Location/{OTHER_STATE_ID}"}})
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 422
    assert codes(response) == ["NOTIF-422-005"]
    assert expressions(response) == ["Bundle.entry[1].resource.extension[3].valueReference"]


def test_event_place_must_be_a_facility(client: TestClient, ctx: AppContext) -> None:
    bundle = example("birth-minimal")
    bundle["entry"][5]["resource"]["location"][0]["location"]["reference"] = (
        f"Location/{HQ_OFFICE_ID}")
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 422
    assert codes(response) == ["NOTIF-422-008"]
    bundle["entry"][5]["resource"]["location"][0]["location"]["reference"] = (
        bundle["entry"][2]["fullUrl"])
    assert codes(post(client, health_token(ctx), bundle)) == ["NOTIF-422-008"]


def test_in_bundle_place_needs_address_or_home_type(client: TestClient, ctx: AppContext):
    bundle = example("birth-home")
    place = bundle["entry"][6]["resource"]
    del place["address"]
    place["type"]["coding"][0]["code"] = "BUS_STOP"
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 422
    assert codes(response) == ["NOTIF-422-008"]
    place["type"]["coding"][0]["code"] = "PRIVATE_HOME"
    assert post(client, health_token(ctx), bundle).status_code == 200


def test_address_hierarchy_must_reach_the_state(client: TestClient, ctx: AppContext) -> None:
    bundle = example("birth-full")
    del bundle["entry"][3]["resource"]["address"][0]["state"]
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 422
    assert codes(response) == ["NOTIF-422-009"]
    assert expressions(response) == ["Bundle.entry[3].resource.address[0].district"]
    bundle = example("birth-full")
    address = bundle["entry"][3]["resource"]["address"][0]
    address["line"] = [*address["line"], "", "", "", "", f"{DISTRICT_ID}"]
    response = post(client, health_token(ctx), bundle)
    assert expressions(response) == ["Bundle.entry[3].resource.address[0].line[10]"]


def test_foreign_address_needs_iso_country_only(client: TestClient, ctx: AppContext) -> None:
    bundle = example("birth-full")
    bundle["entry"][4]["resource"]["address"] = [{"line": ["1 Rue X"], "city": "Lyon",
                                                  "district": "anything", "country": "FRA"}]
    assert post(client, health_token(ctx), bundle).status_code == 200


def test_unresolved_reference(client: TestClient, ctx: AppContext) -> None:
    bundle = example("birth-minimal")
    bundle["entry"][4]["resource"]["patient"]["reference"] = "urn:uuid:nobody"
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 422
    assert codes(response) == ["NOTIF-422-003"]
    assert expressions(response) == ["Bundle.entry[4].resource.patient"]


def test_bad_idempotency_key(client: TestClient, ctx: AppContext) -> None:
    response = post(client, health_token(ctx), example("birth-minimal"),
                    **{"Idempotency-Key": "k" * 300})
    assert response.status_code == 400
    assert codes(response) == ["NOTIF-400-007"]


def test_related_person_link_must_be_a_reference(client: TestClient, ctx: AppContext) -> None:
    bundle = example("birth-full")
    index = next(i for i, e in enumerate(bundle["entry"])
                 if e["resource"]["resourceType"] == "RelatedPerson")
    bundle["entry"][index]["resource"]["patient"] = 1
    bundle["entry"][index]["resource"]["relationship"] = "MOTHER"
    before = records(ctx)
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 400, response.text
    assert {f"Bundle.entry[{index}].resource.patient",
            f"Bundle.entry[{index}].resource.relationship"} <= set(expressions(response))
    assert records(ctx) == before


def test_related_person_relationship_may_be_an_r4_list(client: TestClient, ctx: AppContext):
    bundle = example("birth-full")
    related = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "RelatedPerson")
    related["relationship"] = [related["relationship"]]
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 200, response.text


def test_null_items_in_arrays_are_refused_with_their_path(client: TestClient, ctx: AppContext):
    bundle = example("birth-minimal")
    child = bundle["entry"][2]["resource"]
    child["identifier"] = [None]
    child["name"].append(None)
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 400
    found = dict(zip(expressions(response), codes(response), strict=True))
    assert found == {"Bundle.entry[2].resource.name[1]": "NOTIF-400-003",
                     "Bundle.entry[2].resource.identifier[0]": "NOTIF-400-003"}
    assert records(ctx) == 0

