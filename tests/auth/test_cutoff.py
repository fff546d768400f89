"""Immediate cut-off over real HTTP: in the acting process at once, in any other within a second."""

from __future__ import annotations

import time

import httpx
from fastapi.testclient import TestClient

from crvshub.app import create_app
from tests.helpers import NATLSYSADMIN, bearer, user_token


def _register(base: str, admin: dict[str, str], name: str) -> dict:
    response = httpx.post(f"{base}/api/integrations", headers=admin,
                          json={"name": name, "type": "HEALTH"})
    assert response.status_code == 201, response.text
    return response.json()


def _token(base: str, created: dict) -> str:
    response = httpx.post(f"{base}/token", params={
        "client_id": created["client_id"], "client_secret": created["client_secret"],
        "grant_type": "client_credentials"})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_deactivation_cuts_off_a_token_obtained_a_moment_before(live_server) -> None:
    base = live_server.url
    admin = bearer(user_token(live_server.ctx, NATLSYSADMIN))
    created = _register(base, admin, "Central Hospital")
    token = _token(base, created)
    assert httpx.get(f"{base}/api/auth/me", headers=bearer(token)).status_code == 200
    off = httpx.post(f"{base}/api/integrations/{created['client_id']}/deactivate", headers=admin)
    assert off.status_code == 200
    cut = httpx.get(f"{base}/api/auth/me", headers=bearer(token))
    assert cut.status_code == 401
    assert cut.json()["issue"][0]["details"]["coding"][0]["code"] == "AUTH-401-003"
    on = httpx.post(f"{base}/api/integrations/{created['client_id']}/reactivate", headers=admin)
    assert on.status_code == 200
    fresh = _token(base, created)
    assert httpx.get(f"{base}/api/auth/me", headers=bearer(fresh)).status_code == 200


def test_other_processes_cut_off_within_a_second(live_server, settings) -> None:
    base = live_server.url
    admin = bearer(user_token(live_server.ctx, NATLSYSADMIN))
    created = _register(base, admin, "District Hospital")
    token = _token(base, created)
    # A second application on the same database stands for another API process.
    other_app = create_app(settings, start_worker=False)
    with TestClient(other_app) as other:
        assert other.get("/api/auth/me", headers=bearer(token)).status_code == 200
        deleted = httpx.delete(f"{base}/api/integrations/{created['client_id']}", headers=admin)
        assert deleted.status_code == 200
        assert httpx.get(f"{base}/api/auth/me", headers=bearer(token)).status_code == 401
        deadline = time.monotonic() + 1.2
        status = 200
        while time.monotonic() < deadline and status == 200:
            status = other.get("/api/auth/me", headers=bearer(token)).status_code
            time.sleep(0.05)
        assert status == 401
