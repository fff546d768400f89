"""The national system admin manages integration clients in a real browser; others may not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from crvshub.settings import Settings
from tests.helpers import FIELD_AGENT, NATLSYSADMIN, bearer, user_token, wait_for
from tests.web.axe import assert_usable
from tests.web.helpers import notify_birth, screenshot, sign_in
from tests.webhook.receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
WIDTHS = {"desktop": 1366, "phone": 390}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Loopback webhooks and a short retry schedule, so a delivery fails within a second."""
    return Settings(
        database_url=database_url, environment="test", embedded_worker=False,
        log_level="WARNING", webhook_allow_private=True, outbox_poll_interval=0.05,
        webhook_retry_schedule="0.2,0.2", token_query_credentials=True,
    )


@pytest.fixture(params=sorted(WIDTHS))
def sized(request: Any, browser: Any) -> Iterator[tuple[Any, str]]:
    """A fresh page at desktop or phone width."""
    context = browser.new_context(viewport={"width": WIDTHS[request.param], "height": 900})
    page = context.new_page()
    page.set_default_timeout(10000)
    yield page, request.param
    context.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real webhook receiver on a free loopback port."""
    rec = Receiver().start()
    yield rec
    rec.stop()


def _token(base: str, client_id: str, secret: str) -> httpx.Response:
    return httpx.post(f"{base}/token", data={"client_id": client_id, "client_secret": secret,
                                             "grant_type": "client_credentials"})


def _me(base: str, token: str) -> int:
    return httpx.get(f"{base}/api/auth/me",
                     headers={"Authorization": f"Bearer {token}"}).status_code



def _register(page: Any, base: str, name: str, client_type: str, perms: list[str]) -> None:
    page.goto(base + "/integrations")
    page.fill("input[name=name]", name)
    page.select_option("select[name=type]", client_type)
    for value in perms:
        page.check(f"input[value='{value}']")
    page.click("text=Register client")


def test_admin_manages_a_webhook_client_and_redelivers(live_server, sized, receiver) -> None:
    page, width = sized
    base = live_server.url
    name = f"Events bus {width}"
    sign_in(page, live_server, NATLSYSADMIN)
    page.click("nav >> text=Integrations")
    assert_usable(page, page.url)

    # Without any permission a webhook client is refused with a clear message.
    _register(page, base, name, "WEBHOOK", [])
    assert "at least one section" in page.inner_text("[role=alert]")
    _register(page, base, name, "WEBHOOK", ["birth:child-details"])
    assert page.url.endswith("/secrets")
    client_id = page.inner_text("[data-testid=client-id]")
    secret = page.inner_text("[data-testid=client-secret]")
    sha_secret = page.inner_text("[data-testid=sha-secret]")
    assert_usable(page, page.url)
    screenshot(page, f"integration-secrets-{width}.png")

    # Reload and Back never resubmit: the same secret, still valid.
    page.reload()
    assert page.inner_text("[data-testid=client-secret]") == secret
    page.go_back()
    page.go_forward()
    assert page.inner_text("[data-testid=client-secret]") == secret
    issued = _token(base, client_id, secret)
    assert issued.status_code == 200, issued.text
    page.click("text=I have copied them")
    page.goto(base + f"/integrations/{client_id}/secrets")
    assert page.locator("[data-testid=secrets-gone]").count() == 1
    assert secret not in page.content()

    # Permissions are shown and editable; none at all is refused.
    page.goto(base + f"/integrations/{client_id}")
    assert page.is_checked("input[value='birth:child-details']")
    page.uncheck("input[value='birth:child-details']")
    page.click(f"text=Save the permissions of {name}")
    assert "at least one section" in page.inner_text("[role=alert]")
    page.check("input[value='birth:child-details']")
    page.check("input[value='birth:mother-details']")
    page.click(f"text=Save the permissions of {name}")
    assert "permissions were saved" in page.inner_text("[role=status]")
    assert page.is_checked("input[value='birth:mother-details']")

    # A subscription whose receiver fails, then succeeds when redelivered.
    token = issued.json()["access_token"]
    hub = {"callback": receiver.url, "mode": "subscribe", "topic": "BIRTH_NOTIFIED",
           "secret": sha_secret}
    subscribed = httpx.post(f"{base}/webhooks", json={"hub": hub}, headers=bearer(token))
    assert subscribed.status_code == 202, subscribed.text
    receiver.script = [500, 500, 500]
    notify_birth(live_server, key=f"redeliver-{width}")
    admin = user_token(live_server.ctx, NATLSYSADMIN)
    subs = httpx.get(f"{base}/api/webhooks/subscriptions", headers=bearer(admin)).json()
    sub_id = next(s["id"] for s in subs["entries"] if s["createdBy"]["client_id"] == client_id)

    def failed() -> bool:
        entries = httpx.get(f"{base}/api/webhooks/subscriptions/{sub_id}/deliveries",
                            headers=bearer(admin)).json()["entries"]
        return bool(entries) and entries[0]["status"] == "failed"

    wait_for(failed, timeout=20)
    page.reload()
    row = page.locator("tr[data-testid^=delivery-]").first
    assert row.locator("[data-testid=delivery-status]").inner_text() == "failed"
    assert row.locator("[data-testid=delivery-attempts]").inner_text() == "3"
    assert "HTTP 500" in row.inner_text()
    assert_usable(page, page.url)
    screenshot(page, f"integration-{width}.png")
    row.locator("button:has-text('Redeliver')").click()
    assert "queued again" in page.inner_text("[role=status]")
    wait_for(lambda: len(receiver.received) >= 4, timeout=20)

    def delivered() -> bool:
        page.reload()
        status = page.locator("tr[data-testid^=delivery-] [data-testid=delivery-status]")
        return status.first.inner_text() == "delivered"

    wait_for(delivered, timeout=20)

    # The sha secret is revealed on request, and the look is audited.
    page.click(f"text=Reveal the sha secret of {name}")
    assert page.inner_text("[data-testid=sha-secret]") == sha_secret
    assert page.locator("[data-testid=client-secret]").count() == 0
    page.goto(base + f"/integrations/{client_id}")
    audit = "\n".join(page.locator("[data-testid=audit-line]").all_inner_texts())
    for action in ("Registered integration client",
                   "Changed integration client: webhook_permissions",
                   "Revealed the sha secret of integration client"):
        assert action in audit

    # Refreshing the secret asks first, names the client, and shows the new secret once.
    page.click(f"text=Refresh the secret of {name}…")
    assert page.inner_text("h1") == f"Refresh the secret of {name}?"
    assert_usable(page, page.url)
    page.click(f"button:has-text('Refresh the secret of {name}')")
    new = page.inner_text("[data-testid=client-secret]")
    page.reload()
    assert page.inner_text("[data-testid=client-secret]") == new != secret
    assert _token(base, client_id, secret).status_code in (400, 401)
    new_token = _token(base, client_id, new)
    assert new_token.status_code == 200

    # Deactivating asks first and names the client.
    page.goto(base + f"/integrations/{client_id}")
    page.click(f"text=Deactivate {name}…")
    assert page.inner_text("h1") == f"Deactivate {name}?"
    page.click(f"button:has-text('Deactivate {name}')")
    assert "deactivated" in page.inner_text("[role=status]")
    assert page.inner_text("[data-testid=client-status]") == "deactivated"
    assert _me(base, new_token.json()["access_token"]) in (401, 403)

    page.click(f"text=Delete {name}…")
    assert page.inner_text("h1") == f"Delete {name}?"
    page.click(f"button:has-text('Delete {name} for good')")
    assert "deleted" in page.inner_text("[role=status]")
    assert not page.locator(f"[data-testid=client-{client_id}]").count()


def test_search_client_quota_and_no_webhook_permissions(live_server, page) -> None:
    base = live_server.url
    sign_in(page, live_server, NATLSYSADMIN)
    _register(page, base, "Statistics office", "RECORD_SEARCH", [])
    client_id = page.inner_text("[data-testid=client-id]")
    page.goto(base + f"/integrations/{client_id}")
    assert page.locator("input[name=perm]").count() == 0  # webhook permissions: webhooks only
    page.fill("input[name=daily_quota]", "500")
    page.click("text=Save the quota of Statistics office")
    assert "daily quota was saved" in page.inner_text("[role=status]")
    assert page.input_value("input[name=daily_quota]") == "500"
    shown = httpx.get(f"{base}/api/integrations/{client_id}",
                      headers=bearer(user_token(live_server.ctx, NATLSYSADMIN))).json()
    assert shown["daily_quota"] == 500
    page.goto(base + "/integrations")
    assert page.locator(f"[data-testid=client-{client_id}]").count() == 1
    screenshot(page, "integrations.png")


def test_admin_sees_errors_on_the_page(live_server, page) -> None:
    sign_in(page, live_server, NATLSYSADMIN)
    for _ in range(2):
        _register(page, live_server.url, "Twin Clinic", "HEALTH", [])
    assert "already used" in page.inner_text("[role=alert]")


def test_field_agent_gets_403_and_anonymous_goes_to_login(live_server, page) -> None:
    sign_in(page, live_server, FIELD_AGENT)
    assert "Integrations" not in page.inner_text("header nav")
    response = page.goto(live_server.url + "/integrations")
    assert response.status == 403
    assert "may not open this page" in page.inner_text("[role=alert]")
    page.context.clear_cookies()
    for path in ("/integrations", "/integrations/abc", "/users", "/workqueues", "/records/nope"):
        page.goto(live_server.url + path)
        assert page.url == live_server.url + "/"
        assert page.locator("input[name=username]").count() == 1
