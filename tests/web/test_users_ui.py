"""System administrators manage staff users in a real browser, at desktop and phone width."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import LOCAL_REGISTRAR
from tests.web.axe import assert_usable
from tests.web.helpers import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
LOCAL_ADMIN = "e.dalindo"  # LOCAL_SYSTEM_ADMIN of Harambo
NEW_PASSWORD = "Kalunde-river-2031"
WIDTHS = {"desktop": 1366, "phone": 390}


@pytest.fixture(params=sorted(WIDTHS))
def sized(request: Any, browser: Any) -> Iterator[tuple[Any, str]]:
    """A fresh page at desktop or phone width."""
    width = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10000)
    yield page, request.param
    context.close()



def test_admin_creates_a_user_who_signs_in_and_sets_a_password(live_server, sized) -> None:
    page, width = sized
    base = live_server.url
    sign_in(page, live_server, LOCAL_ADMIN)
    page.click("nav >> text=Users")
    assert page.locator(f"[data-testid='user-{LOCAL_REGISTRAR}']").count() == 1
    assert page.locator("[data-testid='user-g.lwendeza']").count() == 0  # another office
    assert_usable(page, page.url)
    screenshot(page, f"users-{width}.png")

    username = f"m.phiri.{width}"
    page.fill("input[name=username]", username)
    page.fill("form.register input[name=given_names]", "Mutale")
    page.fill("form.register input[name=family_name]", "Phiri")
    page.select_option("form.register select[name=role]", "REGISTRATION_AGENT")
    page.click("text=Create user")
    assert page.url.endswith("/password")
    temporary = page.inner_text("[data-testid=temporary-password]")
    page.reload()  # reloading shows the same password and creates nothing
    assert page.inner_text("[data-testid=temporary-password]") == temporary
    assert_usable(page, page.url)
    screenshot(page, f"user-password-{width}.png")
    page.click("text=I have handed it over")
    assert "Mutale Phiri" in page.inner_text("h1")
    assert "must set a new password" in page.inner_text("dl.facts")
    assert_usable(page, page.url)

    # The API refuses a token until the user has chosen a password.
    refused = httpx.post(f"{base}/api/auth/login",
                         json={"username": username, "password": temporary})
    assert refused.status_code == 403 and "AUTH-403-010" in refused.text

    page.context.clear_cookies()
    page.goto(base + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", temporary)
    page.click("button[type=submit]")
    assert page.url == base + "/set-password"
    assert_usable(page, page.url)
    screenshot(page, f"set-password-{width}.png")
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=confirmation]", NEW_PASSWORD + "x")
    page.click("text=Save my password")
    assert "differ" in page.inner_text("[role=alert]")
    assert "AUTH-400-030" in page.inner_text("[role=alert]")
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=confirmation]", NEW_PASSWORD)
    page.click("text=Save my password")
    page.wait_for_selector("[data-testid=who]")
    assert "Mutale Phiri" in page.inner_text("[data-testid=who]")
    assert httpx.post(f"{base}/api/auth/login", json={
        "username": username, "password": NEW_PASSWORD}).status_code == 200

    # The administrator resets the password (after a confirmation naming the user) and
    # sees the account's history.
    sign_in(page, live_server, LOCAL_ADMIN)
    page.goto(base + "/users")
    page.click(f"[data-testid='user-{username}'] >> text=Mutale Phiri")
    page.click("text=Reset the password of Mutale Phiri…")
    assert page.inner_text("h1") == "Reset the password of Mutale Phiri?"
    assert_usable(page, page.url)
    page.click("button:has-text('Reset the password of Mutale Phiri')")
    again = page.inner_text("[data-testid=temporary-password]")
    assert again != temporary
    page.click("text=I have handed it over")
    page.click("text=Deactivate Mutale Phiri…")
    assert page.inner_text("h1") == "Deactivate Mutale Phiri?"
    page.click("button:has-text('Deactivate Mutale Phiri')")
    assert page.inner_text("[data-testid=user-status]") == "deactivated"
    lines = page.locator("[data-testid=audit-line]").all_inner_texts()
    joined = "\n".join(lines)
    for what in ("Account deactivated", "Password reset", "New password set", "Account created"):
        assert what in joined
    assert_usable(page, page.url)
    screenshot(page, f"user-{width}.png")


def test_users_pages_refuse_other_roles_and_other_offices(live_server, page) -> None:
    base = live_server.url
    sign_in(page, live_server, LOCAL_REGISTRAR)
    assert "Users" not in page.inner_text("header nav")
    assert page.goto(base + "/users").status == 403
    sign_in(page, live_server, LOCAL_ADMIN)
    response = page.goto(base + "/users/g.lwendeza")  # a registrar of another office
    assert response.status == 403
    assert "AUTH-403-002" in page.inner_text("[role=alert]")
    page.goto(base + "/users")
    page.fill("input[name=username]", "x.other")
    page.fill("form.register input[name=given_names]", "X")
    page.fill("form.register input[name=family_name]", "Other")
    page.select_option("form.register select[name=role]", "FIELD_AGENT")
    options = page.locator("form.register select[name=office] option").all_inner_texts()
    assert options == ["Harambo District Office"]  # a local admin picks only their own office
    roles = page.locator("form.register select[name=role] option").all_inner_texts()
    assert "National system administrator" not in roles and "Local registrar" in roles
