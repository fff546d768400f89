"""Client management API: register, list, show, change, deactivate, refresh, reveal, delete."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crvshub.auth import crypto
from crvshub.auth.models import Client
from tests.helpers import FIELD_AGENT, NATLSYSADMIN, bearer, new_client, user_token


@pytest.fixture
def admin(ctx) -> dict[str, str]:
    return bearer(user_token(ctx, NATLSYSADMIN))


def _create(client: TestClient, admin: dict[str, str], **body) -> dict:
    response = client.post("/api/integrations", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


def _token(client: TestClient, client_id: str, secret: str):
    return client.post("/token", data={"client_id": client_id, "client_secret": secret,
                                       "grant_type": "client_credentials"})


def _code(response) -> str:
    return response.json()["issue"][0]["details"]["coding"][0]["code"]


def test_register_returns_credentials_once_and_stores_no_secret(client, ctx, admin, db) -> None:
    created = _create(client, admin, name="Central Hospital", type="HEALTH")
    assert created["client_secret"].startswith(crypto.CLIENT_SECRET_PREFIX)
    assert created["sha_secret"].startswith(crypto.SHA_SECRET_PREFIX)
    view = created["client"]
    assert view["name"] == "Central Hospital" and view["status"] == "active"
    assert view["scope"] == ["declare", "notification-api"]
    assert view["created_by"] == f"user:{NATLSYSADMIN}"
    row = db.scalars(select(Client).where(Client.client_id == created["client_id"])).one()
    assert created["client_secret"] not in row.secret_hash
    assert created["sha_secret"].encode() not in row.sha_secret_enc
    db.rollback()  # release SQLite's write lock before the next request
    assert _token(client, created["client_id"], created["client_secret"]).status_code == 200
    shown = client.get(f"/api/integrations/{created['client_id']}", headers=admin).json()
    assert "client_secret" not in shown and "sha_secret" not in shown
    listed = client.get("/api/integrations", headers=admin).json()["clients"]
    assert [c["client_id"] for c in listed] == [created["client_id"]]


def test_record_search_and_webhook_defaults(client, admin) -> None:
    search = _create(client, admin, name="Social protection", type="RECORD_SEARCH")
    assert search["client"]["daily_quota"] == 2000
    hook = _create(client, admin, name="Statistics office", type="WEBHOOK", webhook_permissions=[
        {"event": "birth", "permissions": ["mother-details", "child-details", "child-details"]}])
    assert hook["client"]["webhook_permissions"] == [
        {"event": "birth", "permissions": ["child-details", "mother-details"]},
        {"event": "death", "permissions": []},
    ]
    nid = _create(client, admin, name="MOSIP", type="NATIONAL_ID", integrating_system_type="MOSIP")
    assert nid["client"]["integrating_system_type"] == "MOSIP"
    assert nid["client"]["scope"] == ["nationalId"]


def test_invalid_settings_report_every_problem(client, admin) -> None:
    response = client.post("/api/integrations", headers=admin, json={
        "name": "Hook", "type": "WEBHOOK", "daily_quota": 10**9,
        "webhook_permissions": [{"event": "birth", "permissions": ["deceased-details"]},
                                {"event": "marriage", "permissions": []}]})
    assert response.status_code == 400
    where = {i["expression"][0] for i in response.json()["issue"]}
    assert where == {"daily_quota", "webhook_permissions[0].permissions[0]",
                     "webhook_permissions[1].event"}
    bad_type = client.post("/api/integrations", headers=admin, json={"name": "X", "type": "NOPE"})
    assert bad_type.status_code == 400 and _code(bad_type) == "AUTH-400-003"
    blank = client.post("/api/integrations", headers=admin, json={"name": "   ", "type": "HEALTH"})
    assert blank.status_code == 400
    perms_on_health = client.post("/api/integrations", headers=admin, json={
        "name": "H", "type": "HEALTH",
        "webhook_permissions": [{"event": "birth", "permissions": ["child-details"]}]})
    assert perms_on_health.status_code == 400
    unknown_field = client.post("/api/integrations", headers=admin,
                                json={"name": "H", "type": "HEALTH", "secret": "mine"})
    assert unknown_field.status_code == 400
    assert client.post("/api/integrations", headers=admin, content=b"{oops",
                       ).status_code == 400


def test_names_are_unique_ignoring_case(client, admin) -> None:
    _create(client, admin, name="Central Hospital", type="HEALTH")
    again = client.post("/api/integrations", headers=admin,
                        json={"name": "central  HOSPITAL", "type": "WEBHOOK"})
    assert again.status_code == 409 and _code(again) == "AUTH-409-002"


def test_one_active_national_id_client(client, ctx, admin) -> None:
    first = _create(client, admin, name="NID one", type="NATIONAL_ID")
    second = client.post("/api/integrations", headers=admin,
                         json={"name": "NID two", "type": "NATIONAL_ID"})
    assert second.status_code == 409 and _code(second) == "AUTH-409-003"
    cid = first["client_id"]
    assert client.post(f"/api/integrations/{cid}/deactivate", headers=admin).status_code == 200
    other = _create(client, admin, name="NID two", type="NATIONAL_ID")
    again = client.post(f"/api/integrations/{cid}/reactivate", headers=admin)
    assert again.status_code == 409 and _code(again) == "AUTH-409-003"
    assert other["client"]["status"] == "active"


def test_database_refuses_a_second_active_national_id_even_without_the_check(ctx) -> None:
    from sqlalchemy.exc import IntegrityError

    new_client(ctx, "NATIONAL_ID", name="first")
    with pytest.raises(IntegrityError):
        new_client(ctx, "NATIONAL_ID", name="second")


def test_deactivate_cuts_off_tokens_and_reactivate_restores_with_new_tokens(client, admin) -> None:
    created = _create(client, admin, name="Hospital", type="HEALTH")
    cid, secret = created["client_id"], created["client_secret"]
    token = _token(client, cid, secret).json()["access_token"]
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    off = client.post(f"/api/integrations/{cid}/deactivate", headers=admin)
    assert off.status_code == 200 and off.json()["status"] == "deactivated"
    cut = client.get("/api/auth/me", headers=bearer(token))
    assert cut.status_code == 401 and _code(cut) == "AUTH-401-003"
    assert _token(client, cid, secret).status_code == 401
    on = client.post(f"/api/integrations/{cid}/reactivate", headers=admin)
    assert on.status_code == 200 and on.json()["status"] == "active"
    fresh = _token(client, cid, secret).json()["access_token"]
    assert client.get("/api/auth/me", headers=bearer(fresh)).status_code == 200


def test_refresh_secret_retires_the_old_secret_and_its_tokens(client, admin) -> None:
    created = _create(client, admin, name="Hospital", type="HEALTH")
    cid, old = created["client_id"], created["client_secret"]
    old_token = _token(client, cid, old).json()["access_token"]
    time.sleep(1.05)  # token iat has one-second resolution
    refreshed = client.post(f"/api/integrations/{cid}/refresh-secret", headers=admin)
    assert refreshed.status_code == 200
    assert refreshed.headers["cache-control"] == "no-store"
    new = refreshed.json()["client_secret"]
    assert new != old and refreshed.json()["sha_secret"] == created["sha_secret"]
    assert _token(client, cid, old).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(old_token)).status_code == 401
    new_token = _token(client, cid, new).json()["access_token"]
    assert client.get("/api/auth/me", headers=bearer(new_token)).status_code == 200


def test_update_name_quota_and_permissions(client, admin) -> None:
    hook = _create(client, admin, name="Hook", type="WEBHOOK")
    cid = hook["client_id"]
    response = client.patch(f"/api/integrations/{cid}", headers=admin, json={
        "name": "Renamed hook", "daily_quota": 10,
        "webhook_permissions": [{"event": "death", "permissions": ["deceased-details"]}]})
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["name"] == "Renamed hook" and view["daily_quota"] == 10
    assert view["webhook_permissions"][1] == {"event": "death", "permissions": ["deceased-details"]}
    bad = client.patch(f"/api/integrations/{cid}", headers=admin, json={
        "webhook_permissions": [{"event": "death", "permissions": ["child-details"]}]})
    assert bad.status_code == 400


def test_reveal_sha_secret_is_audited(client, admin) -> None:
    created = _create(client, admin, name="Hook", type="WEBHOOK")
    cid = created["client_id"]
    revealed = client.get(f"/api/integrations/{cid}/sha-secret", headers=admin)
    assert revealed.json()["sha_secret"] == created["sha_secret"]
    assert revealed.headers["cache-control"] == "no-store"
    client.post(f"/api/integrations/{cid}/deactivate", headers=admin)
    trail = client.get(f"/api/integrations/{cid}/audit", headers=admin).json()["entries"]
    assert [e["action"] for e in trail] == [
        "client.create", "client.reveal-sha-secret", "client.deactivate"]
    assert all(e["actor"] == f"user:{NATLSYSADMIN}" and e["ip"] for e in trail)


def test_delete_removes_the_client_and_cuts_off_its_token(client, admin) -> None:
    created = _create(client, admin, name="Hospital", type="HEALTH")
    cid = created["client_id"]
    token = _token(client, cid, created["client_secret"]).json()["access_token"]
    deleted = client.delete(f"/api/integrations/{cid}", headers=admin)
    assert deleted.status_code == 200 and deleted.json()["client_id"] == cid
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
    assert client.get(f"/api/integrations/{cid}", headers=admin).status_code == 404
    assert _token(client, cid, created["client_secret"]).status_code == 401
    trail = client.get(f"/api/integrations/{cid}/audit", headers=admin).json()["entries"]
    assert trail[-1]["action"] == "client.delete"
    assert trail[-1]["details"]["snapshot"]["name"] == "Hospital"


def test_unknown_client_is_404_everywhere(client, admin) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    for method, suffix in (("get", ""), ("patch", ""), ("delete", ""), ("post", "/deactivate"),
                           ("post", "/reactivate"), ("post", "/refresh-secret"),
                           ("get", "/sha-secret"), ("get", "/audit")):
        kwargs = {"json": {}} if method == "patch" else {}
        response = getattr(client, method)(f"/api/integrations/{unknown}{suffix}",
                                           headers=admin, **kwargs)
        assert response.status_code == 404, (method, suffix)
        assert _code(response) == "AUTH-404-002"


def test_management_needs_natlsysadmin(client, ctx) -> None:
    assert client.get("/api/integrations").status_code == 401
    field_agent = bearer(user_token(ctx, FIELD_AGENT))
    assert client.get("/api/integrations", headers=field_agent).status_code == 403
    _creds, health_token = new_client(ctx, "HEALTH")
    response = client.post("/api/integrations", headers=bearer(health_token),
                           json={"name": "Mine", "type": "HEALTH"})
    assert response.status_code == 403


def test_oversized_body_is_413(client, admin) -> None:
    response = client.post("/api/integrations", headers={**admin, "content-type": "application/json"},
                           content=b"{" + b" " * (3 * 1024 * 1024) + b"}")
    assert response.status_code == 413


def test_deleting_a_client_that_sent_records_keeps_the_records(client, ctx, admin, db) -> None:
    from crvshub.record.models import Record

    created = _create(client, admin, name="Hospital", type="HEALTH")
    row = db.scalars(select(Client).where(Client.client_id == created["client_id"])).one()
    office = db.execute(select(Record.office_id)).first()
    from crvshub.location.models import Location

    office_id = office[0] if office else db.scalars(
        select(Location.id).where(Location.type == "CRVS_OFFICE")).first()
    db.add(Record(tracking_id="BTEST01", event="birth", status="IN_PROGRESS", office_id=office_id,
                  composition_type="birth-notification", bundle={}, source="health-system",
                  source_client_id=row.id))
    db.commit()
    assert client.delete(f"/api/integrations/{created['client_id']}", headers=admin).status_code == 200
    db.expire_all()
    record = db.scalars(select(Record).where(Record.tracking_id == "BTEST01")).one()
    assert record.source_client_id is None and record.source == "health-system"


def test_delete_refused_while_other_data_still_points_at_the_client(client, ctx, admin) -> None:
    from sqlalchemy import text

    created = _create(client, admin, name="Hospital", type="HEALTH")
    with ctx.db.transaction() as session:
        row_id = session.scalars(
            select(Client.id).where(Client.client_id == created["client_id"])).one()
        # Stands for a table of another feature whose foreign key does not cascade.
        session.execute(text("CREATE TABLE test_client_refs (client_ref VARCHAR(64) "
                             "REFERENCES clients (id))"))
        session.execute(text("INSERT INTO test_client_refs VALUES (:id)"), {"id": row_id})
    refused = client.delete(f"/api/integrations/{created['client_id']}", headers=admin)
    assert refused.status_code == 409 and _code(refused) == "AUTH-409-004"
    shown = client.get(f"/api/integrations/{created['client_id']}", headers=admin)
    assert shown.status_code == 200
    trail = client.get(f"/api/integrations/{created['client_id']}/audit", headers=admin).json()
    assert [e["action"] for e in trail["entries"]] == ["client.create"]
