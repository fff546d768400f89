"""A registrar sees why a notification may be a duplicate, resolves it, and searches records."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import LOCAL_REGISTRAR, LiveServer, new_client
from tests.notification.helpers import example, fresh_ids
from tests.web.helpers import history, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]


def _notify(live: LiveServer, given: list[str]) -> str:
    _creds, token = new_client(live.ctx, "HEALTH", name="Harambo District Hospital")
    bundle = fresh_ids(example("birth-full"))
    child = next(e["resource"] for e in bundle["entry"]
                 if e["resource"].get("resourceType") == "Patient")
    child["name"][0]["given"] = given
    response = httpx.post(f"{live.url}/notification", json=bundle,
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return str(response.headers["location"].rsplit("/", 1)[1])


def _status(page: Any) -> str:
    return str(page.get_attribute("[data-testid=status]", "data-status"))


def _flagged_pair(live: LiveServer, page: Any) -> tuple[str, str]:
    original = _notify(live, ["Tendai", "Joy"])
    copy = _notify(live, ["Tendia", "Joy"])
    sign_in(page, live, LOCAL_REGISTRAR)
    page.goto(f"{live.url}/records/{copy}")
    return original, copy


def test_the_record_page_explains_and_marks_a_duplicate(live_server, page) -> None:
    original, _copy = _flagged_pair(live_server, page)
    banner = page.inner_text("[data-testid=duplicates]")
    assert "Potential duplicate" in banner
    fields = page.locator("[data-testid=duplicate-field]").all_inner_texts()
    assert any(f.startswith("Child's name") and "tendia joy mwale" in f for f in fields)
    assert any(f.startswith("Mother's name") and "identical" in f for f in fields)
    assert any(f.startswith("Date of birth") and "identical" in f for f in fields)
    screenshot(page, "duplicate.png")
    page.click("[data-testid=action-register]")
    assert "potential duplicate" in page.inner_text("[data-testid=review-duplicate]")
    page.click("[data-testid=confirm]")
    assert "REC-409-004" in page.inner_text("[role=alert]")
    assert _status(page) == "DECLARED"
    page.click("[data-testid=action-duplicate-of]")
    page.wait_for_selector("[role=status]")
    assert _status(page) == "ARCHIVED"
    assert any("Marked as a duplicate by" in line for line in history(page))
    page.click("[data-testid=duplicate-link]")
    assert page.url.endswith(f"/records/{original}")


def test_not_a_duplicate_then_register(live_server, page) -> None:
    _original, _copy = _flagged_pair(live_server, page)
    page.click("[data-testid=action-not-duplicate]")
    page.wait_for_selector("[role=status]")
    assert "resolved: not a duplicate" in page.inner_text("[data-testid=duplicates]")
    assert not page.locator("[data-testid=action-duplicate-of]").count()
    page.click("[data-testid=action-register]")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[role=status]")
    assert _status(page) == "REGISTERED"


def test_search_box_on_the_workqueues_opens_a_record(live_server, page) -> None:
    rid = _notify(live_server, ["Tendai", "Joy"])
    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.click("nav >> text=Workqueues")
    page.fill("[data-testid=search-q]", "Tendia Mwale")  # a typo still finds the child
    page.click("[data-testid=search-go]")
    page.wait_for_selector("[data-testid=search-total]")
    assert page.locator("[data-testid=search-result]").count() == 1
    tracking = page.inner_text("[data-testid=search-result] a")
    page.click(f"a[href='/records/{rid}']")
    assert page.inner_text("[data-testid=tracking-id]") == tracking
    page.goto(f"{live_server.url}/workqueues/ready-for-review")
    page.fill("[data-testid=search-q]", tracking)
    page.click("[data-testid=search-go]")
    page.wait_for_selector("[data-testid=search-result]")
    page.click(f"a[href='/records/{rid}']")
    assert page.inner_text("[data-testid=tracking-id]") == tracking
    page.goto(f"{live_server.url}/search?q=Nobody+Here")
    assert "No record matches" in page.inner_text("[data-testid=search-total]")
