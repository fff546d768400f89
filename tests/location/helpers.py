"""Shared helpers of the location tests."""

from __future__ import annotations

from typing import Any

from crvshub.location.domain import stable_location_id
from tests.helpers import HARAMBO_DISTRICT_SID, HARAMBO_HOSPITAL_SID, HARAMBO_OFFICE_SID

DISTRICT_ID = stable_location_id("FAR", HARAMBO_DISTRICT_SID)
OFFICE_ID = stable_location_id("FAR", HARAMBO_OFFICE_SID)
HOSPITAL_ID = stable_location_id("FAR", HARAMBO_HOSPITAL_SID)
STATE_SID = "M0XvqZjxTW3"


def code_of(response: Any) -> str:
    """Return the stable error code of an OperationOutcome response."""
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return str(body["issue"][0]["details"]["coding"][0]["code"])


def expressions(response: Any) -> list[str]:
    """Return every FHIRPath expression named by an OperationOutcome."""
    return [e for issue in response.json()["issue"] for e in issue.get("expression", [])]


def facility(sid: str, name: str, part_of: str = f"Location/{DISTRICT_ID}") -> dict[str, Any]:
    """Return an OpenCRVS health facility payload."""
    return {"statisticalID": sid, "name": name, "partOf": part_of, "code": "HEALTH_FACILITY"}
