"""Staff sign in through the web UI in a real browser."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_demo_user_signs_in_and_out(live_server, page) -> None:
    page.goto(live_server.url + "/")
    page.fill("input[name=username]", "r.olusinde")
    page.fill("input[name=password]", "test")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=who]")
    assert "Local registrar" in page.inner_text("[data-testid=who]")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["crvshub_session"]["httpOnly"] is True
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "home-signed-in.png"))
    page.click("text=Log out")
    page.wait_for_selector("input[name=username]")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_wrong_password_shows_error(live_server, page) -> None:
    page.goto(live_server.url + "/")
    page.fill("input[name=username]", "r.olusinde")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert "Wrong username or password" in page.inner_text("[role=alert]")
