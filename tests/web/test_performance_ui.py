"""The performance dashboard in Chromium: figures, filters, phone width, and who may open it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from crvshub.synthetic.generate import Plan, generate
from tests.helpers import FIELD_AGENT, HARAMBO_DISTRICT_SID, LOCAL_REGISTRAR, LiveServer, user_token
from tests.web.axe import assert_usable
from tests.web.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
YEAR = datetime.now(UTC).year - 1
PERFORMANCE_MANAGER = "d.okpaleni"


def _shot(page: Any, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / name), full_page=True)


def _api(live: LiveServer, path: str, **params: Any) -> Any:
    token = user_token(live.ctx, PERFORMANCE_MANAGER)
    answer = httpx.get(f"{live.url}{path}", params=params,
                       headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def live(live_server: LiveServer) -> LiveServer:
    """A live server with generated records."""
    generate(live_server.ctx.db, live_server.ctx.location_cache.snapshot().ordered,
             Plan(3000, seed=11, batch=1000))
    return live_server


def test_dashboard_shows_completeness_timeliness_and_backlog(page: Any, live: LiveServer) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live, PERFORMANCE_MANAGER)
    page.click("text=Performance")
    page.select_option("select[name=year]", str(YEAR))
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("[data-testid=completeness-chart] svg")
    expected = _api(live, "/api/statistics/completeness", year=YEAR, event="birth")
    rows = page.locator("[data-testid=district-row]")
    assert rows.count() == len(expected["rows"])
    # Ranked: the first row is the best district, as computed by the API.
    best = max(expected["rows"], key=lambda r: (r["completeness"] or 0))
    assert rows.first.inner_text().startswith(best["name"])
    assert page.locator("[data-testid=completeness-chart] [data-testid=bar]").count() == len(
        expected["rows"])
    total = expected["total"][0]
    assert f"{total['registered']} registered" in page.inner_text(
        "[data-testid=completeness-total]")
    timely = _api(live, "/api/statistics/timeliness", year=YEAR)["total"]
    birth = next(t for t in timely if t["event"] == "birth")
    assert f"{birth['within-legal-periodPercent']}%" in page.inner_text(
        "[data-testid=timeliness-total-birth]")
    assert page.locator("[data-testid=monthly-chart] [data-testid=column]").count() == 24
    backlog = _api(live, "/api/statistics/backlog", limit=10)["offices"]
    first = page.locator("[data-testid=backlog-row]").first.inner_text()
    assert first.startswith(backlog[0]["name"]) and str(backlog[0]["waiting"]) in first
    _shot(page, "performance-desktop.png")

    # Filter by a province: only its districts are ranked.
    state = next(v for v in live.ctx.location_cache.snapshot().ordered
                 if v.jurisdiction_type == "STATE")
    page.select_option("[data-testid=area]", state.id)
    page.click("form.filters button[type=submit]")
    page.wait_for_selector(f"[data-testid=period]:has-text('{state.name}')")
    inside = _api(live, "/api/statistics/completeness", year=YEAR, event="birth", area=state.id)
    assert page.locator("[data-testid=district-row]").count() == len(inside["rows"]) < len(
        expected["rows"])

    # A bad period is explained, not a crash.
    page.goto(f"{live.url}/performance?from={YEAR}-05-01&to={YEAR}-01-01")
    assert "ends before it starts" in page.inner_text("[data-testid=problem]")


def test_dashboard_fits_a_phone(page: Any, live: LiveServer) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live, PERFORMANCE_MANAGER)
    page.goto(f"{live.url}/performance?year={YEAR}")
    page.wait_for_selector("[data-testid=completeness-chart] svg")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    chart = page.locator("[data-testid=completeness-chart] svg").bounding_box()
    assert chart["width"] <= 390 and chart["width"] > 250
    _shot(page, "performance-phone.png")
    page.locator("[data-testid=completeness-chart]").scroll_into_view_if_needed()
    page.screenshot(path=str(IMAGES / "performance-phone-chart.png"))


def test_dashboard_is_for_performance_staff_only(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, FIELD_AGENT)
    assert page.locator("text=Performance").count() == 0
    response = page.goto(f"{live_server.url}/performance")
    assert response.status == 403


def test_a_local_registrar_sees_the_dashboard_of_their_district_only(
        page: Any, live: LiveServer) -> None:
    snapshot = live.ctx.location_cache.snapshot()
    district = next(v for v in snapshot.ordered if v.statistical_id == HARAMBO_DISTRICT_SID)
    other = next(v for v in snapshot.ordered
                 if v.jurisdiction_type == "DISTRICT" and v.id != district.id)
    sign_in(page, live, LOCAL_REGISTRAR)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live.url}/performance?year={YEAR}")
        page.wait_for_selector("[data-testid=completeness-chart] svg")
        assert_usable(page, f"/performance as a local registrar at {width} px")
    # The figures are the district's: the area filter offers it alone, and it is chosen.
    options = page.locator("[data-testid=area] option")
    assert [options.nth(i).get_attribute("value") for i in range(options.count())] == [
        district.id]
    assert f"in {district.name}" in page.inner_text("[data-testid=period]")
    rows = page.locator("[data-testid=district-row]")
    assert rows.count() == 1 and rows.first.inner_text().startswith(district.name)
    # Another district by its id in the address: refused, with the reason.
    response = page.goto(f"{live.url}/performance?year={YEAR}&area={other.id}")
    assert response.status == 403
    assert "outside your jurisdiction" in page.inner_text("[data-testid=problem]")
