"""Builders for declaration bundles and shortcuts for the staff records API."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from crvshub.location.domain import stable_location_id
from tests.helpers import HARAMBO_HOSPITAL_SID, bearer

HOSPITAL_ID = stable_location_id("FAR", HARAMBO_HOSPITAL_SID)
SECTIONS = "http://opencrvs.org/specs/sections"


def _section(code: str, ref: str) -> dict[str, Any]:
    return {"title": code, "code": {"coding": [{"system": SECTIONS, "code": code}]},
            "entry": [{"reference": ref}]}


def birth_bundle(
    *, given: str = "Child", family: str = "Banda", mother_nid: str | None = None,
    with_child: bool = True,
) -> dict[str, Any]:
    """Return a birth declaration bundle with a child, a mother and a birth encounter."""
    ids = {k: f"urn:uuid:{uuid.uuid4()}" for k in ("comp", "task", "child", "mother", "enc")}
    mother: dict[str, Any] = {"resourceType": "Patient", "name": [{"given": ["Mary"], "family": family}],
                              "gender": "female", "birthDate": "1995-03-02"}
    if mother_nid:
        mother["identifier"] = [{"type": {"coding": [{
            "system": "http://opencrvs.org/specs/identifier-type", "code": "NATIONAL_ID"}]},
            "value": mother_nid}]
    sections = [_section("mother-details", ids["mother"]), _section("birth-encounter", ids["enc"])]
    if with_child:
        sections.insert(0, _section("child-details", ids["child"]))
    entries = [
        (ids["comp"], {"resourceType": "Composition", "status": "final", "section": sections,
                       "type": {"coding": [{"system": "http://opencrvs.org/doc-types",
                                            "code": "birth-declaration"}]}}),
        (ids["task"], {"resourceType": "Task", "status": "draft", "intent": "unknown",
                       "code": {"coding": [{"system": "http://opencrvs.org/specs/types",
                                            "code": "BIRTH"}]},
                       "focus": {"reference": ids["comp"]},
                       "extension": [{"url": "http://opencrvs.org/specs/extension/"
                                      "contact-person-phone-number", "valueString": "+260911111111"}]}),
        (ids["child"], {"resourceType": "Patient", "name": [{"given": [given], "family": family}],
                        "gender": "male", "birthDate": "2026-11-01"}),
        (ids["mother"], mother),
        (ids["enc"], {"resourceType": "Encounter", "status": "finished",
                      "location": [{"location": {"reference": f"Location/{HOSPITAL_ID}"}}]}),
    ]
    return {"resourceType": "Bundle", "type": "document",
            "meta": {"lastUpdated": "2026-11-20T10:00:00Z"},
            "entry": [{"fullUrl": url, "resource": res} for url, res in entries]}


def declare(client: TestClient, token: str, bundle: dict[str, Any] | None = None,
            *, incomplete: bool = False) -> dict[str, Any]:
    """Create a declaration through the API and return its summary."""
    response = client.post("/api/records", json=bundle or birth_bundle(), headers=bearer(token),
                           params={"incomplete": str(incomplete).lower()})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def act(client: TestClient, token: str, record_id: str, action: str,
        **body: Any) -> Any:
    """Perform an action and return the response."""
    headers = bearer(token)
    if "if_match" in body:
        headers["If-Match"] = body.pop("if_match")
    return client.post(f"/api/records/{record_id}/actions/{action}", json=body or None,
                       headers=headers)


def issue_code(response: Any) -> str:
    """Return the stable error code of an OperationOutcome response."""
    return str(response.json()["issue"][0]["details"]["coding"][0]["code"])
