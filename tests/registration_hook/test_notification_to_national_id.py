"""The whole chain over real HTTP: a hospital notifies a birth, staff validate and register,
the national ID system confirms, and the audit trail names every actor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from crvshub.registration_hook.nid_sim import NidSimulator
from tests.helpers import (
    LOCAL_REGISTRAR,
    REGISTRATION_AGENT,
    LiveServer,
    bearer,
    new_client,
    user_token,
    wait_for,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "examples"


def _queue(live: LiveServer, token: str, name: str) -> list[str]:
    response = httpx.get(f"{live.url}/api/records/workqueues/{name}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def _notify(live: LiveServer, token: str, bundle: dict[str, Any], key: str) -> httpx.Response:
    return httpx.post(f"{live.url}/notification", json=bundle,
                      headers={**bearer(token), "Idempotency-Key": key})


def test_hospital_notification_registered_with_national_id(
    live_server: LiveServer, nid_sim: NidSimulator
) -> None:
    _creds, hospital = new_client(live_server.ctx, "HEALTH", name="Harambo District Hospital")
    bundle = json.loads((EXAMPLES / "birth-minimal.json").read_text())
    first = _notify(live_server, hospital, bundle, "e2e-1")
    assert first.status_code == 200, first.text
    retry = _notify(live_server, hospital, bundle, "e2e-1")
    assert retry.status_code == 200
    rid = first.json()["entry"][0]["resource"]["id"]
    assert retry.json()["entry"][0]["resource"]["id"] == rid

    clerk = user_token(live_server.ctx, REGISTRATION_AGENT)
    registrar = user_token(live_server.ctx, LOCAL_REGISTRAR)
    assert _queue(live_server, clerk, "in-progress-health-system") == [rid]
    view = httpx.get(f"{live_server.url}/api/records/{rid}", headers=bearer(clerk)).json()
    sent = view["history"][0]
    assert sent["action"] == "sent-notification"
    assert "Harambo District Hospital" in json.dumps(sent)
    assert "health system" in json.dumps(sent).lower()

    # The registration agent completes the declaration, then validates; the registrar registers.
    validated = httpx.post(f"{live_server.url}/api/records/{rid}/actions/validate",
                           headers=bearer(clerk))
    assert validated.status_code == 200, validated.text
    registered = httpx.post(f"{live_server.url}/api/records/{rid}/actions/register",
                            headers=bearer(registrar))
    assert registered.json()["status"] == "WAITING_VALIDATION", registered.text
    done = wait_for(lambda: (v := httpx.get(f"{live_server.url}/api/records/{rid}",
                                            headers=bearer(registrar)).json())["status"]
                    == "REGISTERED" and v)
    child = next(e["resource"] for e in done["bundle"]["entry"]
                 if e["resource"]["resourceType"] == "Patient")
    codes = {i["type"]["coding"][0]["code"] for i in child["identifier"]}
    assert {"NATIONAL_ID", "BIRTH_REGISTRATION_NUMBER"} <= codes
    actors = [(h["action"], h["actor"]["type"]) for h in done["history"]]
    assert actors[0] == ("sent-notification", "client")
    assert ("validated", "user") in actors
    assert ("waiting-validation", "user") in actors
    assert ("registration-confirmed", "system") in actors
    assert _queue(live_server, registrar, "ready-to-print") == [rid]
