"""The admin pages over plain HTTP: roles, jurisdictions, CSRF, and the set-password step."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import FIELD_AGENT, LOCAL_REGISTRAR, NATLSYSADMIN, bearer, user_token

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')
LOCAL_ADMIN = "e.dalindo"  # LOCAL_SYSTEM_ADMIN of Harambo
NEW_PASSWORD = "Kalunde-river-2031"


def _sign_in(client: TestClient, username: str, password: str = "test") -> str:
    client.cookies.clear()
    form = CSRF_FIELD.search(client.get("/").text)
    assert form
    return str(client.post("/login", data={"username": username, "password": password,
                                           "csrf": form.group(1)},
                           follow_redirects=False).headers["location"])


def _csrf(client: TestClient, path: str) -> str:
    found = CSRF_FIELD.search(client.get(path).text)
    assert found
    return found.group(1)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_admin_pages_refuse_other_roles_offices_and_forged_forms(client: TestClient) -> None:
    for username in (FIELD_AGENT, LOCAL_REGISTRAR):
        _sign_in(client, username)
        for path in ("/users", f"/users/{FIELD_AGENT}", "/integrations"):
            assert client.get(path).status_code == 403, (username, path)
    _sign_in(client, LOCAL_ADMIN)
    assert client.get("/users").status_code == 200
    found = client.get("/users?q=olusinde&page=abc")
    assert found.status_code == 200 and "1 user matching" in found.text
    assert LOCAL_REGISTRAR in found.text and FIELD_AGENT not in found.text
    assert client.get("/integrations").status_code == 403  # national admins only
    other = client.get("/users/g.lwendeza")
    assert other.status_code == 403 and "AUTH-403-002" in other.text
    csrf = _csrf(client, "/users")
    assert client.post("/users/g.lwendeza/deactivate", data={"csrf": csrf}).status_code == 403
    forged = client.post(f"/users/{FIELD_AGENT}/deactivate", data={"csrf": "0" * 64})
    assert forged.status_code == 403
    _sign_in(client, NATLSYSADMIN)
    assert client.get("/integrations/no-such-client").status_code == 404
    assert client.get(f"/users/{LOCAL_ADMIN}").status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_set_password_step_is_needed_once_and_cannot_be_replayed(
        client: TestClient, ctx: AppContext) -> None:
    admin = user_token(ctx, NATLSYSADMIN)
    reset = client.post(f"/api/users/{FIELD_AGENT}/reset-password", headers=bearer(admin))
    temporary = reset.json()["temporary_password"]
    assert _sign_in(client, FIELD_AGENT, temporary) == "/set-password"
    assert "crvshub_session" not in client.cookies
    page = client.get("/set-password")
    token = CSRF_FIELD.search(page.text)
    assert token
    pending = dict(client.cookies)
    data = {"new_password": NEW_PASSWORD, "confirmation": NEW_PASSWORD, "csrf": token.group(1)}
    assert client.post("/set-password", data={**data, "csrf": "0" * 64},
                       follow_redirects=False).headers["location"] == "/"
    assert "crvshub_session" not in client.cookies
    done = client.post("/set-password", data=data, follow_redirects=False)
    assert done.status_code == 303 and "crvshub_session=" in done.headers["set-cookie"]
    # Replaying the step with the old cookie sets nothing: no reset is pending any more.
    replay = TestClient(client.app)
    replay.cookies.update(pending)
    again = replay.post("/set-password", data={**data, "new_password": "Other-river-2032",
                                               "confirmation": "Other-river-2032"},
                        follow_redirects=False)
    assert again.status_code == 404 and "No new password is expected" in again.text
    login = client.post("/api/auth/login", json={"username": FIELD_AGENT,
                                                 "password": NEW_PASSWORD})
    assert login.status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_disabled_subscription_is_enabled_from_its_clients_page(
        client: TestClient, ctx: AppContext) -> None:
    from sqlalchemy import update

    from crvshub.webhook.models import Subscription
    from tests.helpers import new_client
    from tests.webhook.receiver import Receiver

    receiver = Receiver().start()
    try:
        creds, token = new_client(ctx, "WEBHOOK", name="Disabled bus", webhook_permissions=[
            {"event": "birth", "permissions": ["child-details"]}])
        other, _ = new_client(ctx, "WEBHOOK", name="Other bus", webhook_permissions=[
            {"event": "birth", "permissions": ["child-details"]}])
        hub = {"callback": receiver.url, "mode": "subscribe", "topic": "BIRTH_REGISTERED",
               "secret": creds.sha_secret}
        assert client.post("/webhooks", json={"hub": hub},
                           headers=bearer(token)).status_code == 202
    finally:
        receiver.stop()
    sub_id = client.get("/webhooks", headers=bearer(token)).json()["entries"][0]["id"]
    with ctx.db.transaction() as session:  # as the delivery engine does after many failures
        session.execute(update(Subscription).where(Subscription.id == sub_id).values(
            status="disabled", status_reason="disabled after 20 failed attempts"))
    _sign_in(client, NATLSYSADMIN)
    cid = creds.client.client_id
    page = client.get(f"/integrations/{cid}")
    assert "Enable the BIRTH_REGISTERED subscription again" in page.text
    csrf = _csrf(client, f"/integrations/{cid}")
    elsewhere = client.post(f"/integrations/{other.client.client_id}/subscriptions/{sub_id}/enable",
                            data={"csrf": csrf})
    assert elsewhere.status_code == 404
    done = client.post(f"/integrations/{cid}/subscriptions/{sub_id}/enable", data={"csrf": csrf})
    assert done.status_code == 200 and "enabled again" in done.text
    admin = bearer(user_token(ctx, NATLSYSADMIN))
    assert client.get(f"/api/webhooks/subscriptions/{sub_id}",
                      headers=admin).json()["status"] == "active"
