"""Helpers for the FHIR read API tests: notify, register, validate with an independent library."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class

from tests.helpers import LOCAL_REGISTRAR, bearer, user_token
from tests.notification.helpers import example, fresh_ids, post

RECORD_TYPES = ("Composition", "Task", "Patient", "RelatedPerson", "Encounter", "Observation",
                "Practitioner")


def notify(client: TestClient, token: str, name: str = "birth-full") -> dict[str, Any]:
    """Send a documented example as a hospital; return the saved bundle."""
    response = post(client, token, fresh_ids(example(name)))
    assert response.status_code == 200, response.text
    saved: dict[str, Any] = response.json()
    return saved


def ids_by_type(saved: dict[str, Any]) -> dict[str, list[str]]:
    """Return the resource ids of a saved bundle by type."""
    found: dict[str, list[str]] = {}
    for entry in saved["entry"]:
        resource = entry["resource"]
        found.setdefault(resource["resourceType"], []).append(resource["id"])
    return found


def register(client: TestClient, ctx: Any, record_id: str) -> str:
    """Register a record as the office's local registrar; return its registration number."""
    token = user_token(ctx, LOCAL_REGISTRAR)
    response = client.post(f"/api/records/{record_id}/actions/register", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    number = body.get("registrationNumber") or body.get("registration_number")
    assert number, body
    return str(number)


def valid_r4(resource: dict[str, Any]) -> None:
    """Validate a resource with fhir.resources' models (R4B, the R4 line it ships)."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)


def section_ids(saved: dict[str, Any]) -> dict[str, str]:
    """Return the resource id each Composition section of a saved bundle points to."""
    found = {}
    for section in saved["entry"][0]["resource"]["section"]:
        code = section["code"]["coding"][0]["code"]
        found[code] = section["entry"][0]["reference"].removeprefix("urn:uuid:")
    return found
