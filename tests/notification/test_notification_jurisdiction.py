"""Staff notify only into their own office, like on /api/records; hospital systems anywhere."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.location.domain import stable_location_id
from tests.helpers import DORONGO_OFFICE_SID, FIELD_AGENT, user_token
from tests.notification.helpers import codes, example, fresh_ids, health_token, post, records

DORONGO_OFFICE = f"Location/{stable_location_id('FAR', DORONGO_OFFICE_SID)}"
DORONGO_FIELD_AGENT = "n.tshabowa"


def _to_dorongo() -> dict:
    bundle = fresh_ids(example("birth-minimal"))
    task = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task")
    for ext in task["extension"]:
        if ext["url"].endswith("/regLastOffice"):
            ext["valueReference"]["reference"] = DORONGO_OFFICE
    return bundle


def test_field_agent_cannot_notify_into_another_office(client: TestClient, ctx: AppContext):
    before = records(ctx)
    response = post(client, user_token(ctx, FIELD_AGENT), _to_dorongo())
    assert response.status_code == 403, response.text
    assert codes(response) == ["AUTH-403-002"]
    assert records(ctx) == before


def test_field_agent_of_that_office_and_hospitals_may(client: TestClient, ctx: AppContext):
    assert post(client, user_token(ctx, DORONGO_FIELD_AGENT), _to_dorongo()).status_code == 200
    assert post(client, health_token(ctx), _to_dorongo()).status_code == 200
