"""One store, two faces, several processes: a write shows everywhere, quickly."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from crvshub.app import create_app
from tests.helpers import NATLSYSADMIN, bearer, user_token
from tests.location.helpers import DISTRICT_ID, OFFICE_ID, facility


def test_write_through_one_face_shows_in_the_other_at_once(client, ctx) -> None:
    admin = bearer(user_token(ctx, NATLSYSADMIN))
    assert client.get(f"/fhir/Location/{OFFICE_ID}").json()["name"] != "Renamed"
    client.put(f"/location/{OFFICE_ID}", json={"name": "Renamed"}, headers=admin)
    assert client.get(f"/fhir/Location/{OFFICE_ID}").json()["name"] == "Renamed"
    fhir = client.get(f"/fhir/Location/{OFFICE_ID}").json() | {"name": "Renamed again"}
    client.put(f"/fhir/Location/{OFFICE_ID}", json=fhir, headers=admin)
    found = client.get("/location", params={"name": "Renamed again"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [OFFICE_ID]


def test_second_process_sees_a_write_within_the_cache_interval(client, ctx, settings) -> None:
    other_app = create_app(settings.model_copy(update={"location_cache_seconds": 0.5}),
                           start_worker=False)
    with TestClient(other_app, raise_server_exceptions=False) as other:
        before = other.get("/location", params={"identifier": "HEALTH_FACILITY_XPROC"}).json()
        assert before["total"] == 0
        assert other.get(f"/location/{DISTRICT_ID}").json()["status"] == "active"
        admin = bearer(user_token(ctx, NATLSYSADMIN))
        assert client.post("/location", json=facility("XPROC", "Cross"), headers=admin).status_code == 201
        client.put(f"/location/{DISTRICT_ID}", json={"status": "inactive"}, headers=admin)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            found = other.get("/location", params={"identifier": "HEALTH_FACILITY_XPROC"}).json()
            if found["total"] == 1:
                break
            time.sleep(0.05)
        assert found["total"] == 1
        assert other.get(f"/location/{DISTRICT_ID}").json()["status"] == "inactive"


def test_failed_write_leaves_the_cache_and_the_version_alone(client, ctx) -> None:
    from crvshub.location.cache import cache_for

    admin = bearer(user_token(ctx, NATLSYSADMIN))
    version = cache_for(ctx).snapshot().version
    response = client.post("/location", json=[facility("OKAY", "ok"), facility("f4t3tGolUB", "dup")],
                           headers=admin)
    assert response.status_code == 409
    assert cache_for(ctx).snapshot().version == version
    assert client.get("/location", params={"identifier": "HEALTH_FACILITY_OKAY"}).json()["total"] == 0
