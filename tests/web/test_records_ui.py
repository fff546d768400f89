"""Staff handle a hospital notification in a real browser: workqueue, validate, register."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import LOCAL_REGISTRAR, REGISTRATION_AGENT, bearer, user_token
from tests.web.helpers import history, notify_birth, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]


def _status(page) -> str:
    return str(page.get_attribute("[data-testid=status]", "data-status"))


def test_notification_validated_and_registered_in_the_browser(live_server, page) -> None:
    rid = notify_birth(live_server)
    sign_in(page, live_server, REGISTRATION_AGENT)
    page.click("nav >> text=Workqueues")
    assert page.inner_text("[data-testid=count-in-progress-health-system]") == "1"
    page.click("text=In progress: health system")
    page.wait_for_selector("table")
    screenshot(page, "workqueue.png")
    page.click(f"a[href='/records/{rid}']")
    assert _status(page) == "IN_PROGRESS"
    page.click("[data-testid=action-validate]")
    page.check("[data-testid=incomplete-ok]")  # the minimal notification lacks mother facts
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[role=status]")
    assert _status(page) == "VALIDATED"

    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.goto(f"{live_server.url}/records/{rid}")
    page.click("[data-testid=action-register]")
    page.check("[data-testid=incomplete-ok]")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[role=status]")
    assert _status(page) == "REGISTERED"
    number = page.inner_text("[data-testid=registration-number]")
    tracking = page.inner_text("[data-testid=tracking-id]")
    assert number.endswith(tracking) and len(number) == len(tracking) + 4
    lines = "\n".join(history(page))
    assert "Sent by Harambo District Hospital (health system)" in lines
    assert "Validated by Jonas Mbéluke (Registration agent)" in lines
    assert "Registered by" in lines and "(Local registrar)" in lines
    screenshot(page, "record.png")
    assert not page.locator("[data-testid=action-register]").count()


def test_reject_needs_a_reason(live_server, page) -> None:
    rid = notify_birth(live_server)
    sign_in(page, live_server, REGISTRATION_AGENT)
    page.goto(f"{live_server.url}/records/{rid}")
    before = len(history(page))
    page.click("[data-testid=action-reject]")
    alert = page.inner_text("[role=alert]")
    assert "needs a reason" in alert and "REC-400-001" in alert
    assert _status(page) == "IN_PROGRESS"
    assert not any(line.startswith("Sent for updates") for line in history(page))
    # Only views of the page were added (summed up in today's one line), no action.
    assert len(history(page)) == before
    assert any(line.split("\t")[1].startswith("Viewed 2 times by") for line in history(page))
    page.fill("[data-testid=reason-reject]", "Mother's name is missing")
    page.click("[data-testid=action-reject]")
    page.wait_for_selector("[role=status]")
    assert _status(page) == "REJECTED"
    assert "Mother's name is missing" in "\n".join(history(page))


def test_stale_page_gets_the_conflict_message(live_server, page) -> None:
    rid = notify_birth(live_server)
    sign_in(page, live_server, REGISTRATION_AGENT)
    page.goto(f"{live_server.url}/records/{rid}")
    # Someone else validates the record after the page was opened.
    token = user_token(live_server.ctx, REGISTRATION_AGENT)
    done = httpx.post(f"{live_server.url}/api/records/{rid}/actions/validate",
                      headers=bearer(token))
    assert done.status_code == 200, done.text
    page.fill("[data-testid=reason-reject]", "Wrong date")
    page.click("[data-testid=action-reject]")
    alert = page.inner_text("[role=alert]")
    assert "changed since you opened it" in alert and "GEN-412-001" in alert
    assert _status(page) == "VALIDATED"


def test_post_without_csrf_token_is_refused(live_server, page) -> None:
    rid = notify_birth(live_server)
    sign_in(page, live_server, REGISTRATION_AGENT)
    page.goto(f"{live_server.url}/records/{rid}")
    url = f"{live_server.url}/records/{rid}/actions/validate"
    for form in ({"version": "1"}, {"version": "1", "csrf": "forged"}):
        refused = page.request.post(url, form=form, max_redirects=0)
        assert refused.status == 403
        assert "did not come from CRVS Hub" in refused.text()
    page.reload()
    assert _status(page) == "IN_PROGRESS"


def test_errors_are_pages_with_their_code(live_server, page) -> None:
    sign_in(page, live_server, REGISTRATION_AGENT)
    response = page.goto(f"{live_server.url}/records/no-such-record")
    assert response.status == 404
    assert "REC-404-001" in page.inner_text("[role=alert]")
    response = page.goto(f"{live_server.url}/workqueues/no-such-queue")
    assert response.status == 404
    assert "REC-404-002" in page.inner_text("[role=alert]")
