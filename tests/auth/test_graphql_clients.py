"""Client management over /graphql with the documents the OpenCRVS Integrations page sends."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.auth import gui_documents as gui
from tests.helpers import FIELD_AGENT, NATLSYSADMIN, bearer, new_client, user_token

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def admin(ctx) -> dict[str, str]:
    return bearer(user_token(ctx, NATLSYSADMIN))


def _gql(client: TestClient, headers: dict[str, str], query: str, **variables: Any) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables},
                           headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"  # secrets in answers
    return response.json()


def _data(client: TestClient, headers: dict[str, str], query: str, **variables: Any) -> Any:
    body = _gql(client, headers, query, **variables)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


def _error(body: Any) -> dict[str, Any]:
    assert body.get("errors"), body
    return dict(body["errors"][0])


def _register(client: TestClient, admin: dict[str, str], **system: Any) -> Any:
    return _data(client, admin, gui.REGISTER, system=system)


def _token(client: TestClient, client_id: str, secret: str) -> Any:
    return client.post("/token", data={"client_id": client_id, "client_secret": secret,
                                       "grant_type": "client_credentials"})


def _trail(client: TestClient, admin: dict[str, str], client_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/integrations/{client_id}/audit", headers=admin)
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


def _clients(client: TestClient, admin: dict[str, str]) -> list[dict[str, Any]]:
    return list(client.get("/api/integrations", headers=admin).json()["clients"])


def test_register_each_type_as_the_gui_does(client, admin) -> None:
    health = _register(client, admin, name="Central Hospital", type="HEALTH")
    system = health["system"]
    assert health["__typename"] == "SystemSecret" and system["__typename"] == "System"
    assert system["status"] == "active" and system["type"] == "HEALTH"
    assert system["integratingSystemType"] is None
    assert system["settings"] == {"webhook": [], "__typename": "SystemSettings"}
    assert _token(client, system["clientId"], health["clientSecret"]).status_code == 200
    search = _register(client, admin, name="Social protection", type="RECORD_SEARCH")
    quota = _data(client, admin, gui.FETCH, clientId=search["system"]["clientId"])
    assert quota["settings"]["dailyQuota"] == 2000
    nid = _register(client, admin, name="MOSIP", type="NATIONAL_ID",
                    integratingSystemType="MOSIP")
    assert nid["system"]["integratingSystemType"] == "MOSIP"
    hook = _register(client, admin, name="Statistics", type="WEBHOOK",
                     integratingSystemType=None, settings=gui.WEBHOOK_SETTINGS)
    assert [(w["event"], w["permissions"]) for w in hook["system"]["settings"]["webhook"]] == [
        ("birth", ["child-details", "mother-details"]), ("death", [])]
    revealed = client.get(f"/api/integrations/{hook['system']['clientId']}/sha-secret",
                          headers=admin).json()["sha_secret"]
    assert hook["system"]["shaSecret"] == revealed
    shown = {c["client_id"]: c for c in _clients(client, admin)}
    assert shown[system["clientId"]]["id"] == system["_id"]
    assert len(shown) == 4


def test_a_webhook_client_without_payloads_is_refused(client, admin) -> None:
    for settings in (None, {"dailyQuota": 0}):
        body = _gql(client, admin, gui.REGISTER,
                    system={"name": "Hook", "type": "WEBHOOK", "settings": settings})
        error = _error(body)
        assert error["message"] == "Webhook payloads are required !"
        assert error["extensions"]["code"] == "AUTH-400-003"
        assert error["extensions"]["status"] == 400
        assert body["data"] == {"registerSystem": None}
    assert _clients(client, admin) == []


def test_only_one_national_id_system(client, admin) -> None:
    first = _register(client, admin, name="NID", type="NATIONAL_ID")
    assert first["system"]["integratingSystemType"] == "OTHER"
    body = _gql(client, admin, gui.REGISTER, system={"name": "NID 2", "type": "NATIONAL_ID"})
    error = _error(body)
    assert error["message"] == "System with NATIONAL_ID already exists !"
    assert error["extensions"]["code"] == "AUTH-409-003"
    assert len(_clients(client, admin)) == 1


def test_invalid_settings_name_each_problem_in_graphql_terms(client, admin) -> None:
    body = _gql(client, admin, gui.REGISTER, system={
        "name": "Hook", "type": "WEBHOOK", "settings": {"dailyQuota": -1, "webhook": [
            {"event": "birth", "permissions": ["deceased-details"]},
            {"event": "marriage", "permissions": []}]}})
    error = _error(body)
    assert error["extensions"]["code"] == "AUTH-400-003"
    where = {i["expression"] for i in error["extensions"]["issues"]}
    assert where == {"system.settings.dailyQuota", "system.settings.webhook[0].permissions[0]",
                     "system.settings.webhook[1].event"}
    assert "system.settings.webhook[1].event" in error["message"]
    unknown_type = client.post("/graphql", headers=admin, json={
        "query": gui.REGISTER, "variables": {"system": {"name": "X", "type": "HOSPITAL"}}})
    assert unknown_type.status_code == 400
    assert unknown_type.json()["errors"][0]["extensions"]["code"] == "GQL-400-001"
    assert _clients(client, admin) == []


def test_refresh_secret_retires_the_old_secret(client, admin) -> None:
    created = _register(client, admin, name="Hospital", type="HEALTH")
    cid, old = created["system"]["clientId"], created["clientSecret"]
    old_token = _token(client, cid, old).json()["access_token"]
    time.sleep(1.05)  # token iat has one-second resolution
    refreshed = _data(client, admin, gui.REFRESH, clientId=cid)
    new = refreshed["clientSecret"]
    assert new != old and refreshed["system"]["shaSecret"] == created["system"]["shaSecret"]
    assert _token(client, cid, old).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(old_token)).status_code == 401
    assert _token(client, cid, new).status_code == 200


def test_deactivate_cuts_off_at_once_and_reactivate_restores(client, admin) -> None:
    created = _register(client, admin, name="Hospital", type="HEALTH")
    cid, secret = created["system"]["clientId"], created["clientSecret"]
    token = _token(client, cid, secret).json()["access_token"]
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    off = _data(client, admin, gui.DEACTIVATE, clientId=cid)
    assert off["status"] == "deactivated" and off["shaSecret"] == created["system"]["shaSecret"]
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
    assert _token(client, cid, secret).status_code == 401
    on = _data(client, admin, gui.REACTIVATE, clientId=cid)
    assert on["status"] == "active"
    fresh = _token(client, cid, secret).json()["access_token"]
    assert client.get("/api/auth/me", headers=bearer(fresh)).status_code == 200


def test_reactivating_a_second_national_id_is_refused(client, admin) -> None:
    first = _register(client, admin, name="NID one", type="NATIONAL_ID")["system"]["clientId"]
    _data(client, admin, gui.DEACTIVATE, clientId=first)
    _register(client, admin, name="NID two", type="NATIONAL_ID")
    error = _error(_gql(client, admin, gui.REACTIVATE, clientId=first))
    assert error["message"] == "System with NATIONAL_ID already exists !"
    assert error["extensions"]["code"] == "AUTH-409-003"


def test_update_permissions_as_the_webhook_modal_does(client, admin) -> None:
    hook = _register(client, admin, name="Hook", type="WEBHOOK", settings=gui.WEBHOOK_SETTINGS)
    cid = hook["system"]["clientId"]
    setting = {"clientId": cid, "webhook": [
        {"event": "birth", "permissions": []},
        {"event": "death", "permissions": ["death-encounter", "deceased-details"]}]}
    updated = _data(client, admin, gui.UPDATE_PERMISSIONS, setting=setting)
    assert [(w["event"], w["permissions"]) for w in updated["settings"]["webhook"]] == [
        ("birth", []), ("death", ["deceased-details", "death-encounter"])]
    bad = _error(_gql(client, admin, gui.UPDATE_PERMISSIONS, setting={
        "clientId": cid, "webhook": [{"event": "death", "permissions": ["child-details"]}]}))
    assert bad["extensions"]["code"] == "AUTH-400-003"
    assert [i["expression"] for i in bad["extensions"]["issues"]] == [
        "setting.webhook[0].permissions[0]"]
    health = _register(client, admin, name="Hospital", type="HEALTH")["system"]["clientId"]
    refused = _error(_gql(client, admin, gui.UPDATE_PERMISSIONS, setting={
        "clientId": health, "webhook": [{"event": "birth", "permissions": ["child-details"]}]}))
    assert refused["extensions"]["code"] == "AUTH-400-003"
    missing = _error(_gql(client, admin, gui.UPDATE_PERMISSIONS,
                          setting={"clientId": UNKNOWN, "webhook": []}))
    assert missing["message"] == f"No system found by clientId: {UNKNOWN}"


def test_delete_removes_the_client_and_cuts_off_its_token(client, admin) -> None:
    created = _register(client, admin, name="Hospital", type="HEALTH")
    cid = created["system"]["clientId"]
    token = _token(client, cid, created["clientSecret"]).json()["access_token"]
    deleted = _data(client, admin, gui.DELETE, clientId=cid)
    assert deleted["clientId"] == cid and deleted["name"] == "Hospital"
    assert deleted["shaSecret"] == created["system"]["shaSecret"]
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
    assert _token(client, cid, created["clientSecret"]).status_code == 401
    for document in (gui.DELETE, gui.FETCH, gui.DEACTIVATE, gui.REACTIVATE, gui.REFRESH):
        error = _error(_gql(client, admin, document, clientId=cid))
        assert error["message"] == f"No system found by clientId: {cid}", document
        assert error["extensions"]["code"] == "AUTH-404-002"
    assert [e["action"] for e in _trail(client, admin, cid)] == [
        "client.create", "client.delete"]


def test_fetch_get_and_search_systems(client, admin) -> None:
    ids = [_register(client, admin, name=f"Hospital {n}", type="HEALTH")["system"]["clientId"]
           for n in range(3)]
    hook = _register(client, admin, name="Statistics hook", type="WEBHOOK",
                     settings=gui.WEBHOOK_SETTINGS)["system"]["clientId"]
    _data(client, admin, gui.DEACTIVATE, clientId=ids[0])
    fetched = _data(client, admin, gui.FETCH, clientId=hook)
    assert fetched["settings"]["openIdProviderClientId"] is None
    assert fetched["settings"]["webhook"][0]["permissions"] == ["child-details", "mother-details"]
    assert _data(client, admin, gui.GET, clientId=hook)["name"] == "Statistics hook"
    everything = _data(client, admin, gui.SEARCH)
    assert everything["totalItems"] == 4
    assert [r["clientId"] for r in everything["results"]] == [hook, *reversed(ids)]
    page = _data(client, admin, gui.SEARCH, count=2, skip=1)
    assert page["totalItems"] == 4 and [r["clientId"] for r in page["results"]] == [
        ids[2], ids[1]]
    health = _data(client, admin, gui.SEARCH, type="HEALTH", status="active")
    assert {r["clientId"] for r in health["results"]} == {ids[1], ids[2]}
    named = _data(client, admin, gui.SEARCH, name="HOSPITAL 0")
    assert [r["clientId"] for r in named["results"]] == [ids[0]]
    assert _data(client, admin, gui.SEARCH, name="%")["totalItems"] == 0
    for bad in ({"count": 0}, {"count": 101}, {"skip": -1}, {"name": "x" * 300}):
        error = _error(_gql(client, admin, gui.SEARCH, **bad))
        assert error["extensions"]["code"] == "AUTH-400-020", bad


def test_callers_without_natlsysadmin_are_refused(client, ctx, admin) -> None:
    target = _register(client, admin, name="Hospital", type="HEALTH")["system"]["clientId"]
    _creds, health_token = new_client(ctx, "HEALTH", name="Other hospital")
    callers = {"field agent": bearer(user_token(ctx, FIELD_AGENT)),
               "local sysadmin": bearer(user_token(ctx, "e.dalindo")),
               "HEALTH client": bearer(health_token)}
    documents = [(gui.REGISTER, {"system": {"name": "Mine", "type": "HEALTH"}}),
                 (gui.DEACTIVATE, {"clientId": target}), (gui.REACTIVATE, {"clientId": target}),
                 (gui.REFRESH, {"clientId": target}), (gui.DELETE, {"clientId": target}),
                 (gui.UPDATE_PERMISSIONS, {"setting": {"clientId": target, "webhook": []}}),
                 (gui.FETCH, {"clientId": target}), (gui.GET, {"clientId": target}),
                 (gui.SEARCH, {})]
    for who, headers in callers.items():
        for document, variables in documents:
            body = _gql(client, headers, document, **variables)
            error = _error(body)
            assert error["extensions"]["code"] == "AUTH-403-001", (who, document)
            assert list(body["data"].values()) == [None]
    anonymous = client.post("/graphql", json={"query": gui.SEARCH})
    assert anonymous.status_code == 401
    assert sorted(c["name"] for c in _clients(client, admin)) == ["Hospital", "Other hospital"]
    assert [e["action"] for e in _trail(client, admin, target)] == ["client.create"]


def _rest_lifecycle(client: TestClient, admin: dict[str, str]) -> str:
    created = client.post("/api/integrations", headers=admin, json={
        "name": "Rest hook", "type": "WEBHOOK", "daily_quota": 0,
        "webhook_permissions": gui.WEBHOOK_SETTINGS["webhook"]}).json()
    cid = str(created["client_id"])
    for action in ("deactivate", "reactivate", "refresh-secret"):
        assert client.post(f"/api/integrations/{cid}/{action}", headers=admin).status_code == 200
    client.patch(f"/api/integrations/{cid}", headers=admin, json={
        "webhook_permissions": [{"event": "death", "permissions": ["deceased-details"]}]})
    client.get(f"/api/integrations/{cid}/sha-secret", headers=admin)
    return cid


def _graphql_lifecycle(client: TestClient, admin: dict[str, str]) -> str:
    cid = str(_register(client, admin, name="Graphql hook", type="WEBHOOK",
                        settings=gui.WEBHOOK_SETTINGS)["system"]["clientId"])
    for document in (gui.DEACTIVATE, gui.REACTIVATE, gui.REFRESH):
        _data(client, admin, document, clientId=cid)
    _data(client, admin, gui.UPDATE_PERMISSIONS, setting={"clientId": cid, "webhook": [
        {"event": "death", "permissions": ["deceased-details"]}]})
    return cid


def _comparable(entry: dict[str, Any]) -> tuple[Any, ...]:
    details = {k: v for k, v in entry["details"].items() if k != "name"}
    return entry["action"], entry["actor"], entry["ip"], details


def test_audit_lines_are_the_same_as_the_rest_api_writes(client, admin) -> None:
    rest = _trail(client, admin, _rest_lifecycle(client, admin))
    graphql = _trail(client, admin, _graphql_lifecycle(client, admin))
    # The GUI's documents ask for shaSecret on deactivate, reactivate and updatePermissions:
    # each is a reveal, audited as `GET .../sha-secret` is.
    reveals = [e for e in graphql if e["action"] == "client.reveal-sha-secret"]
    assert len(reveals) == 3
    rest_actions = [_comparable(e) for e in rest if e["action"] != "client.reveal-sha-secret"]
    graphql_actions = [_comparable(e) for e in graphql
                       if e["action"] != "client.reveal-sha-secret"]
    assert graphql_actions == rest_actions
    assert [a[0] for a in graphql_actions] == ["client.create", "client.deactivate",
                                               "client.reactivate", "client.refresh-secret",
                                               "client.update"]
    assert all(e["actor"] == f"user:{NATLSYSADMIN}" and e["ip"] for e in graphql)


def test_a_failed_document_undoes_its_changes_but_keeps_the_reveals(client, admin) -> None:
    cid = _register(client, admin, name="Hospital", type="HEALTH")["system"]["clientId"]
    document = """mutation($id: ID!, $other: ID!) {
      a: deactivateSystem(clientId: $id) { status shaSecret }
      b: deactivateSystem(clientId: $other) { status }
    }"""
    body = _gql(client, admin, document, id=cid, other=UNKNOWN)
    assert body["data"]["a"]["status"] == "deactivated" and body["data"]["b"] is None
    assert _data(client, admin, gui.GET, clientId=cid)["status"] == "active"
    assert [e["action"] for e in _trail(client, admin, cid)] == [
        "client.create", "client.reveal-sha-secret"]
