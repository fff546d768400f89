"""In a browser, in French, on a phone: a registrar works a workqueue (sorts it, changes the
page size) and opens a record; every page passes axe and fits the screen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from crvshub.settings import Settings
from tests.helpers import LOCAL_REGISTRAR
from tests.web.axe import assert_usable
from tests.web.helpers import notify_birth, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
WIDTHS = {"phone": 390, "desktop": 1366}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The offices keep Central Africa Time."""
    return Settings(database_url=database_url, environment="test", embedded_worker=False,
                    log_level="WARNING", time_zone="Africa/Lusaka")


@pytest.fixture(params=list(WIDTHS))
def french(request: Any, browser: Any) -> Iterator[Any]:
    """A browser page at phone or desktop width whose person reads French."""
    context = browser.new_context(viewport={"width": WIDTHS[request.param], "height": 844},
                                  locale="fr-FR")
    page = context.new_page()
    page.width_name = request.param
    yield page
    context.close()


def test_a_registrar_works_a_workqueue_in_french(live_server, french) -> None:
    page = french
    first = notify_birth(live_server, "lists-1")
    notify_birth(live_server, "lists-2")
    sign_in(page, live_server, LOCAL_REGISTRAR)
    assert "Officier d'état civil local" in page.inner_text("[data-testid=who]")
    page.click("nav >> text=Files de travail")
    page.wait_for_selector("h1:has-text('Files de travail')")
    assert_usable(page, "workqueues in French")
    queue = page.locator("table a").first
    queue.click()
    page.wait_for_selector("[data-testid=page-size]")
    assert page.inner_text("th:has-text('Dernière modification')")
    assert_usable(page, "workqueue in French")
    page.select_option("[data-testid=sort-by]", "tracking_id")
    page.select_option("[data-testid=page-size] select[name=size]", "10")
    page.click("[data-testid=page-size] button")
    page.wait_for_url("**size=10**")
    assert "sort=tracking_id" in page.url
    tracking = page.locator("td[data-label='Numéro de suivi'] a").all_inner_texts()
    assert tracking == sorted(tracking) and len(tracking) == 2
    if page.viewport_size["width"] > 600:  # the column headers sort too (a phone shows cards)
        page.click("[data-testid=sort-tracking_id]")
        page.wait_for_selector("th[aria-sort=descending] [data-testid=sort-tracking_id]")
        assert page.locator("td[data-label='Numéro de suivi'] a").all_inner_texts() == \
            sorted(tracking, reverse=True)
    assert page.locator("td[data-label='En attente depuis']").first.inner_text().endswith(
        "minute")
    assert_usable(page, "sorted workqueue in French")
    screenshot(page, f"workqueue-fr-{page.width_name}.png")
    page.goto(f"{live_server.url}/records/{first}")
    page.reload()  # a second view on the same day: still one history line for the views
    status = page.locator("[data-testid=status]")
    assert status.inner_text() == "En cours" and status.get_attribute("data-status") == \
        "IN_PROGRESS"
    lines = page.locator("[data-testid=history-line]").all_inner_texts()
    assert sum(1 for line in lines if "Consulté" in line) == 1, lines
    assert any("Consulté 2 fois par Ruth Olusinde" in line for line in lines), lines
    assert any("CAT" in line for line in lines), lines
    assert_usable(page, "record in French")
    screenshot(page, f"record-fr-{page.width_name}.png")
