"""End to end over real HTTP: declare, validate, register, national ID confirms or rejects."""

from __future__ import annotations

from typing import Any

import httpx

from crvshub.registration_hook.nid_sim import NidSimulator
from tests.helpers import (
    FIELD_AGENT,
    LOCAL_REGISTRAR,
    REGISTRATION_AGENT,
    LiveServer,
    bearer,
    user_token,
    wait_for,
)
from tests.record.helpers import birth_bundle


def _declare_and_register(live: LiveServer, bundle: dict[str, Any]) -> tuple[str, str, str]:
    agent, clerk, registrar = (
        user_token(live.ctx, u) for u in (FIELD_AGENT, REGISTRATION_AGENT, LOCAL_REGISTRAR)
    )
    created = httpx.post(f"{live.url}/api/records", json=bundle, headers=bearer(agent))
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    validated = httpx.post(f"{live.url}/api/records/{rid}/actions/validate", headers=bearer(clerk))
    assert validated.json()["status"] == "VALIDATED"
    registered = httpx.post(
        f"{live.url}/api/records/{rid}/actions/register", headers=bearer(registrar)
    )
    assert registered.status_code == 200, registered.text
    assert registered.json()["status"] == "WAITING_VALIDATION"
    return rid, registrar, created.json()["trackingId"]


def _status(live: LiveServer, rid: str, token: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{live.url}/api/records/{rid}", headers=bearer(token)).json()
    return body


def test_registration_confirmed_by_national_id(live_server: LiveServer, nid_sim: NidSimulator) -> None:
    rid, registrar, tracking = _declare_and_register(live_server, birth_bundle(mother_nid="1234567890"))
    view = wait_for(lambda: (v := _status(live_server, rid, registrar))["status"] == "REGISTERED" and v)
    assert view["registrationNumber"].endswith(tracking)
    child = next(e["resource"] for e in view["bundle"]["entry"]
                 if e["resource"].get("name", [{}])[0].get("given") == ["Child"])
    codes = {i["type"]["coding"][0]["code"]: i["value"] for i in child["identifier"]}
    transaction = next(iter(nid_sim.transactions.values()))
    assert codes["NATIONAL_ID"] == transaction.national_id
    assert codes["BIRTH_REGISTRATION_NUMBER"] == view["registrationNumber"]
    task = view["bundle"]["entry"][1]["resource"]
    assert task["businessStatus"]["coding"][0]["code"] == "REGISTERED"
    lines = [(h["action"], h["actor"]["type"]) for h in view["history"]]
    assert ("waiting-validation", "user") in lines and ("registration-confirmed", "system") in lines
    assert view["externalValidation"]["state"] == "confirmed"


def test_registration_rejected_by_rule(live_server: LiveServer, nid_sim: NidSimulator) -> None:
    nid_sim.config.reject_when = "missing-parent-id"
    rid, registrar, _ = _declare_and_register(live_server, birth_bundle())
    view = wait_for(lambda: (v := _status(live_server, rid, registrar))["status"] == "REJECTED" and v)
    assert "parent" in view["statusReason"]
    assert view["bundle"]["entry"][1]["resource"]["statusReason"]["text"] == view["statusReason"]
    assert view["registrationNumber"] is None
    last = next(h for h in view["history"] if h["action"] == "registration-rejected")
    assert last["reason"] == view["statusReason"]
    queue = httpx.get(f"{live_server.url}/api/records/workqueues/requires-updates",
                      headers=bearer(registrar)).json()
    assert [i["id"] for i in queue["items"]] == [rid]
