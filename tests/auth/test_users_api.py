"""Staff user management over HTTP: who may do what, jurisdictions, the password reset state."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import (
    DORONGO_OFFICE_SID,
    FIELD_AGENT,
    HARAMBO_OFFICE_SID,
    LOCAL_REGISTRAR,
    LOCAL_REGISTRAR_OTHER_OFFICE,
    NATLSYSADMIN,
    bearer,
    user_token,
)

LOCAL_ADMIN = "e.dalindo"  # LOCAL_SYSTEM_ADMIN of Harambo
NEW_PASSWORD = "Kalunde-river-2031"


def _new_user(client: TestClient, token: str, username: str, office: str = HARAMBO_OFFICE_SID,
              role: str = "FIELD_AGENT") -> dict:
    response = client.post("/api/users", headers=bearer(token), json={
        "username": username, "given_names": "Amina", "family_name": "Tembo", "role": role,
        "office": office})
    assert response.status_code == 201, response.text
    return response.json()


def _login(client: TestClient, username: str, password: str) -> tuple[int, dict]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    return response.status_code, response.json()


def test_admin_creates_a_user_who_must_set_a_password(client: TestClient, ctx: AppContext) -> None:
    admin = user_token(ctx, LOCAL_ADMIN)
    created = _new_user(client, admin, "a.tembo")
    assert created["user"]["must_change_password"] is True
    assert client.get("/api/users/a.tembo", headers=bearer(admin)).json()["username"] == "a.tembo"
    temporary = created["temporary_password"]

    status, body = _login(client, "a.tembo", temporary)
    assert status == 403
    assert body["issue"][0]["details"]["coding"][0]["code"] == "AUTH-403-010"
    assert "/api/auth/password" in body["issue"][0]["diagnostics"]

    weak = client.post("/api/auth/password", json={
        "username": "a.tembo", "password": temporary, "new_password": "short"})
    assert weak.status_code == 400
    changed = client.post("/api/auth/password", json={
        "username": "a.tembo", "password": temporary, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    me = client.get("/api/auth/me", headers=bearer(changed.json()["access_token"]))
    assert me.json()["role"] == "FIELD_AGENT"
    assert _login(client, "a.tembo", NEW_PASSWORD)[0] == 200
    assert _login(client, "a.tembo", temporary)[0] == 401


def test_reset_cuts_the_session_off_and_deactivate_reactivate(client: TestClient,
                                                              ctx: AppContext) -> None:
    admin = user_token(ctx, NATLSYSADMIN)
    token = user_token(ctx, LOCAL_REGISTRAR)
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    reset = client.post(f"/api/users/{LOCAL_REGISTRAR}/reset-password", headers=bearer(admin))
    assert reset.status_code == 200, reset.text
    refused = client.get("/api/auth/me", headers=bearer(token))
    assert refused.status_code == 403
    assert "new password" in refused.text

    off = client.post(f"/api/users/{FIELD_AGENT}/deactivate", headers=bearer(admin))
    assert off.json()["status"] == "deactivated"
    assert _login(client, FIELD_AGENT, "test")[0] == 401
    on = client.post(f"/api/users/{FIELD_AGENT}/reactivate", headers=bearer(admin))
    assert on.json()["status"] == "active"
    assert _login(client, FIELD_AGENT, "test")[0] == 200

    edited = client.patch(f"/api/users/{FIELD_AGENT}", headers=bearer(admin),
                          json={"given_names": "Akinyi", "mobile": "+260977000111"})
    assert edited.status_code == 200
    assert edited.json()["given_names"] == "Akinyi"
    audit = client.get(f"/api/users/{FIELD_AGENT}/audit", headers=bearer(admin)).json()
    whats = [e["what"] for e in audit["entries"]]
    assert "Account deactivated" in whats and "Account reactivated" in whats
    assert any(w.startswith("Account changed: ") for w in whats)
    assert all(e["actor"] == f"user:{NATLSYSADMIN}" for e in audit["entries"])


def test_other_roles_get_403_and_local_admins_stay_in_their_office(
        client: TestClient, ctx: AppContext) -> None:
    for username in (FIELD_AGENT, LOCAL_REGISTRAR):
        token = user_token(ctx, username)
        assert client.get("/api/users", headers=bearer(token)).status_code == 403
        denied = client.post("/api/users", headers=bearer(token), json={
            "username": "x.y", "given_names": "X", "family_name": "Y", "role": "FIELD_AGENT",
            "office": HARAMBO_OFFICE_SID})
        assert denied.status_code == 403
    local = user_token(ctx, LOCAL_ADMIN)
    listed = {u["username"] for u in client.get("/api/users", headers=bearer(local)).json()["users"]}
    assert LOCAL_REGISTRAR in listed and LOCAL_REGISTRAR_OTHER_OFFICE not in listed
    found = client.get("/api/users?q=OLUSIN", headers=bearer(local)).json()
    assert [u["username"] for u in found["users"]] == [LOCAL_REGISTRAR] and found["total"] == 1
    paged = client.get("/api/users?count=2&skip=1", headers=bearer(local)).json()
    assert len(paged["users"]) == 2 and paged["total"] == len(listed)
    other = client.get(f"/api/users/{LOCAL_REGISTRAR_OTHER_OFFICE}", headers=bearer(local))
    assert other.status_code == 403
    assert client.post(f"/api/users/{LOCAL_REGISTRAR_OTHER_OFFICE}/deactivate",
                       headers=bearer(local)).status_code == 403
    assert client.post(f"/api/users/{LOCAL_REGISTRAR_OTHER_OFFICE}/reset-password",
                       headers=bearer(local)).status_code == 403
    elsewhere = client.post("/api/users", headers=bearer(local), json={
        "username": "d.user", "given_names": "D", "family_name": "User", "role": "FIELD_AGENT",
        "office": DORONGO_OFFICE_SID})
    assert elsewhere.status_code == 403
    national = client.post("/api/users", headers=bearer(local), json={
        "username": "n.user", "given_names": "N", "family_name": "User",
        "role": "NATIONAL_SYSTEM_ADMIN", "office": HARAMBO_OFFICE_SID})
    assert national.status_code == 403
    assert national.json()["issue"][0]["details"]["coding"][0]["code"] == "AUTH-403-011"
    own = client.post(f"/api/users/{LOCAL_ADMIN}/deactivate", headers=bearer(local))
    assert own.status_code == 409
    taken = client.post("/api/users", headers=bearer(local), json={
        "username": LOCAL_REGISTRAR, "given_names": "R", "family_name": "O",
        "role": "FIELD_AGENT", "office": HARAMBO_OFFICE_SID})
    assert taken.status_code == 409
