"""Shared helpers for notification tests: the documented example bundles and a poster."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.notification.service import record_count
from tests.helpers import bearer, new_client

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "examples"
OFFICE_ID = "fe8c2a25-25b3-5d6c-bfdd-4b5d8e33a13f"  # Harambo District Office
FACILITY_ID = "ea8d821d-4742-54a6-b48d-f563e4106041"  # Harambo District Hospital
DISTRICT_ID = "1ce7a782-f7ee-5efe-8fe9-afdbe78a5cac"  # Harambo
STATE_ID = "d2bb8f09-b957-5e36-b165-bbde24a9c5db"  # Kosari
OTHER_STATE_ID = "ea405639-6e70-527a-b81b-2426da9f6d20"  # Mabenzi
HQ_OFFICE_ID = "c1c788e0-5efa-52f7-b74f-be1d5519de27"


def example(name: str) -> dict[str, Any]:
    """Return a fresh copy of a documented example bundle (docs/integrations/examples)."""
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def fresh_ids(bundle: dict[str, Any]) -> dict[str, Any]:
    """Give every entry a new fullUrl (and drop the Composition identifier) in a bundle copy."""
    text = json.dumps(bundle)
    for entry in bundle["entry"]:
        text = text.replace(entry["fullUrl"], f"urn:uuid:{uuid.uuid4()}")
    fresh: dict[str, Any] = json.loads(text)
    fresh["entry"][0]["resource"].pop("identifier", None)
    return fresh


def records(ctx: AppContext) -> int:
    """Return how many records are stored."""
    with ctx.db.transaction() as session:
        return record_count(session)


def health_token(ctx: AppContext, name: str = "Harambo District Hospital HIS") -> str:
    """Return a HEALTH client token."""
    _, token = new_client(ctx, "HEALTH", name=name)
    return token


def post(client: TestClient, token: str, bundle: Any, **headers: str) -> Any:
    """POST a bundle to /notification."""
    return client.post("/notification", json=bundle, headers={**bearer(token), **headers})


def codes(response: Any) -> list[str]:
    """Return the error codes of an OperationOutcome response."""
    return [i["details"]["coding"][0]["code"] for i in response.json()["issue"]]


def expressions(response: Any) -> list[str]:
    """Return the FHIRPath expressions of an OperationOutcome response."""
    return [e for i in response.json()["issue"] for e in i.get("expression", [])]
