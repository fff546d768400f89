"""The national system admin manages integration clients in a real browser; others may not."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import FIELD_AGENT, NATLSYSADMIN
from tests.web.helpers import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]


def _token(base: str, client_id: str, secret: str) -> httpx.Response:
    return httpx.post(f"{base}/token", data={"client_id": client_id, "client_secret": secret,
                                             "grant_type": "client_credentials"})


def _me(base: str, token: str) -> int:
    return httpx.get(f"{base}/api/auth/me",
                     headers={"Authorization": f"Bearer {token}"}).status_code


def test_admin_creates_and_deactivates_a_health_client(live_server, page) -> None:
    base = live_server.url
    sign_in(page, live_server, NATLSYSADMIN)
    page.click("nav >> text=Integrations")
    page.fill("input[name=name]", "Dorongo Health Centre")
    page.select_option("select[name=type]", "HEALTH")
    page.click("text=Register client")
    assert "Copy these credentials now" in page.inner_text("[role=alert]")
    client_id = page.inner_text("[data-testid=client-id]")
    secret = page.inner_text("[data-testid=client-secret]")
    assert page.inner_text("[data-testid=sha-secret]")
    issued = _token(base, client_id, secret)
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    assert _me(base, token) == 200

    page.click("text=back to the integration clients")
    row = page.locator(f"[data-testid=client-{client_id}]")
    assert row.locator("[data-testid=client-status]").inner_text() == "active"
    assert secret not in page.content()  # shown once only
    screenshot(page, "integrations.png")
    row.locator("text=Deactivate").click()
    assert "deactivated" in page.inner_text("[role=status]")
    assert row.locator("[data-testid=client-status]").inner_text() == "deactivated"
    assert _me(base, token) in (401, 403)
    assert _token(base, client_id, secret).status_code in (400, 401)


def test_admin_refreshes_secret_and_deletes_after_confirmation(live_server, page) -> None:
    base = live_server.url
    sign_in(page, live_server, NATLSYSADMIN)
    page.goto(base + "/integrations")
    page.fill("input[name=name]", "Events bus")
    page.select_option("select[name=type]", "WEBHOOK")
    page.check("input[value='birth:child-details']")
    page.click("text=Register client")
    client_id = page.inner_text("[data-testid=client-id]")
    old = page.inner_text("[data-testid=client-secret]")
    page.click("text=back to the integration clients")
    page.locator(f"[data-testid=client-{client_id}] >> text=Refresh secret").click()
    new = page.inner_text("[data-testid=client-secret]")
    assert new != old
    assert _token(base, client_id, old).status_code in (400, 401)
    assert _token(base, client_id, new).status_code == 200
    page.click("text=back to the integration clients")
    page.locator(f"[data-testid=client-{client_id}] >> text=Delete…").click()
    assert "Delete Events bus?" in page.inner_text("h1")
    page.click("text=Delete for good")
    assert "deleted" in page.inner_text("[role=status]")
    assert not page.locator(f"[data-testid=client-{client_id}]").count()


def test_admin_sees_errors_on_the_page(live_server, page) -> None:
    sign_in(page, live_server, NATLSYSADMIN)
    page.goto(live_server.url + "/integrations")
    for _ in range(2):
        page.fill("input[name=name]", "Twin Clinic")
        page.select_option("select[name=type]", "HEALTH")
        page.click("text=Register client")
        page.goto(live_server.url + "/integrations")
    page.fill("input[name=name]", "Twin Clinic")
    page.click("text=Register client")
    assert "already used" in page.inner_text("[role=alert]")


def test_field_agent_gets_403_and_anonymous_goes_to_login(live_server, page) -> None:
    sign_in(page, live_server, FIELD_AGENT)
    assert "Integrations" not in page.inner_text("header nav")
    response = page.goto(live_server.url + "/integrations")
    assert response.status == 403
    assert "may not open this page" in page.inner_text("[role=alert]")
    page.context.clear_cookies()
    for path in ("/integrations", "/workqueues", "/records/nope"):
        page.goto(live_server.url + path)
        assert page.url == live_server.url + "/"
        assert page.locator("input[name=username]").count() == 1
