"""Shared steps of the staff UI browser tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import LiveServer, new_client

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
EXAMPLES = ROOT / "docs" / "integrations" / "examples"


def sign_in(page: Any, live: LiveServer, username: str) -> None:
    """Sign in through the login form."""
    page.set_default_timeout(10000)
    page.context.clear_cookies()
    page.goto(live.url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "test")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=who]")


def notify_birth(live: LiveServer, key: str = "web-1") -> str:
    """Send the example birth notification as a hospital over real HTTP; return the record id."""
    _creds, token = new_client(live.ctx, "HEALTH", name="Harambo District Hospital")
    bundle = json.loads((EXAMPLES / "birth-minimal.json").read_text())
    response = httpx.post(f"{live.url}/notification", json=bundle,
                          headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
    assert response.status_code == 200, response.text
    return str(response.json()["entry"][0]["resource"]["id"])


def history(page: Any) -> list[str]:
    """Return the audit lines shown on a record page."""
    return [str(t) for t in page.locator("[data-testid=history-line]").all_inner_texts()]


def screenshot(page: Any, name: str) -> None:
    """Save a full-page screenshot for the documentation."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def signin_form(client: Any) -> dict[str, str]:
    """Open the sign-in page (setting its CSRF cookie) and return the form's hidden fields."""
    import re

    page = client.get("/")
    found = re.search(r'name="csrf" value="([^"]*)"', page.text)
    assert found and found.group(1), "the sign-in form has no CSRF field"
    return {"csrf": found.group(1)}
