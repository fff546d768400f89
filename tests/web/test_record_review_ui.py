"""A registration office works records in a real browser, at desktop and phone width.

Review before registering (the whole declaration, missing fields, confirm step), corrections,
archive and reinstate, assignment and unassignment, the national registrar's office picker.
axe-core checks every page visited when it is installed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import (
    LOCAL_REGISTRAR,
    NATIONAL_REGISTRAR,
    REGISTRATION_AGENT,
    LiveServer,
    bearer,
    new_client,
    user_token,
)
from tests.notification.helpers import example, fresh_ids
from tests.web.helpers import history, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
AXE = Path("/usr/lib/node_modules/axe-core/axe.min.js")
WIDTHS = {"desktop": 1366, "phone": 390}
# A 1x1 PNG, as a supporting document would carry it.
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a7f3b60000000049454e44ae426082"
)).decode()


@pytest.fixture(params=list(WIDTHS))
def wide(request: Any, browser: Any) -> Iterator[Any]:
    """A browser page at desktop (1366 px) or phone (390 px) width; CSP bypassed for axe only."""
    context = browser.new_context(viewport={"width": WIDTHS[request.param], "height": 900},
                                  bypass_csp=True)
    page = context.new_page()
    page.width_name = request.param
    yield page
    context.close()


def axe(page: Any) -> None:
    """Run axe-core (WCAG 2.x A/AA) on the page; fail on any violation."""
    if not AXE.exists():
        return
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})).violations"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))")
    assert not found, f"axe on {page.url}: {found}"


def no_sideways_scroll(page: Any) -> None:
    """Fail when the page scrolls horizontally (phone width)."""
    scroll = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter(e => "
        "e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 5)"
        ".map(e => e.tagName + '.' + e.className)")
    assert scroll <= 1, f"{page.url} scrolls {scroll}px sideways: {wide}"


def shot(page: Any, name: str) -> None:
    """Save a screenshot named for the page width."""
    screenshot(page, f"{name}-{page.width_name}.png")


def notify(live: LiveServer, name: str, given: list[str] | None = None) -> str:
    """Send an example notification as a hospital; return the record id."""
    _creds, token = new_client(live.ctx, "HEALTH", name="Harambo District Hospital")
    bundle = fresh_ids(example(name))
    if given:
        child = next(e["resource"] for e in bundle["entry"]
                     if e["resource"].get("resourceType") == "Patient")
        child["name"][0]["given"] = given
    response = httpx.post(f"{live.url}/notification", json=bundle,
                          headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.headers["location"].rsplit("/", 1)[1])


def declare_with_document(live: LiveServer) -> str:
    """Declare the full birth example as a registration agent with a scanned PNG attached."""
    bundle = fresh_ids(example("birth-full"))
    bundle["entry"][0]["resource"]["type"]["coding"][0]["code"] = "birth-declaration"
    bundle["entry"].append({"fullUrl": "urn:uuid:0f0e0d0c-0b0a-4909-8807-060504030201",
                            "resource": {"resourceType": "DocumentReference", "status": "current",
                                         "type": {"text": "Proof of birth"},
                                         "content": [{"attachment": {
                                             "contentType": "image/png", "data": PNG,
                                             "title": "Hospital birth record"}}]}})
    token = user_token(live.ctx, REGISTRATION_AGENT)
    response = httpx.post(f"{live.url}/api/records", json=bundle, headers=bearer(token))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def api(live: LiveServer, user: str, record_id: str, action: str, **body: Any) -> None:
    """Take an action through the JSON API."""
    response = httpx.post(f"{live.url}/api/records/{record_id}/actions/{action}",
                          json=body or None, headers=bearer(user_token(live.ctx, user)))
    assert response.status_code == 200, response.text


def status(page: Any) -> str:
    return str(page.get_attribute("[data-testid=status]", "data-status"))


def test_registrar_reviews_a_full_declaration_and_registers_it(live_server, wide) -> None:
    page = wide
    rid = declare_with_document(live_server)
    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.goto(f"{live_server.url}/records/{rid}")
    assert status(page) == "DECLARED"
    mother = page.inner_text("[data-testid=section-mother]")
    assert "Chipo Mwale" in mother and "National id: 1234567890" in mother
    assert "Mango Street" in mother
    assert "Daniel Mwale" in page.inner_text("[data-testid=section-father]")
    event = page.inner_text("[data-testid=section-event]")
    assert "3.2 kg" in event and "Midwife" in event and "Single" in event
    assert "—" not in event.split("Place of birth")[1].split("\n")[1]  # the facility is named
    assert "+260759205190" in page.inner_text("[data-testid=section-contact]")
    assert not page.locator("[data-testid=missing-field]").count()
    assert page.locator("[data-testid=document] img").count() == 1
    no_sideways_scroll(page)
    axe(page)
    shot(page, "record-review")

    page.click("[data-testid=action-register]")
    assert "registration number" in page.inner_text("[data-testid=outcome]")
    assert not page.locator("[data-testid=incomplete-warning]").count()
    no_sideways_scroll(page)
    axe(page)
    shot(page, "confirm-register")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[role=status]")
    assert status(page) == "REGISTERED"
    assert page.inner_text("[data-testid=registration-number]").endswith(
        page.inner_text("[data-testid=tracking-id]"))
    # The document opens from CRVS Hub (audited as a download).
    opened = page.request.get(f"{live_server.url}/records/{rid}/documents/0")
    assert opened.status == 200 and opened.headers["content-type"] == "image/png"
    page.reload()
    assert any("Downloaded by" in line for line in history(page))


def test_incomplete_notification_is_refused_unless_acknowledged(live_server, wide) -> None:
    page = wide
    rid = notify(live_server, "birth-minimal")
    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.goto(f"{live_server.url}/records/{rid}")
    summary = page.inner_text("[data-testid=missing-summary]")
    assert "3 required fields missing" in summary and "Mother: address" in summary
    assert page.locator("[data-testid=missing-field]").count() == 3
    axe(page)
    shot(page, "record-incomplete")
    page.click("[data-testid=action-register]")
    assert "incomplete" in page.inner_text("[data-testid=incomplete-warning]")
    shot(page, "confirm-incomplete")
    page.click("[data-testid=confirm]")
    alert = page.inner_text("[role=alert]")
    assert "WEB-422-001" in alert
    axe(page)
    page.goto(f"{live_server.url}/records/{rid}")
    assert status(page) == "IN_PROGRESS"
    assert not any("Registered by" in line for line in history(page))


def test_correction_requested_then_approved_and_another_rejected(live_server, wide) -> None:
    page = wide
    rid = notify(live_server, "birth-full", ["Tendai", "Joy"])
    api(live_server, LOCAL_REGISTRAR, rid, "register")
    sign_in(page, live_server, REGISTRATION_AGENT)
    page.goto(f"{live_server.url}/records/{rid}")
    page.click("[data-testid=action-request-correction]")
    page.fill("[data-testid=child-given]", "Tendai Grace")
    page.fill("[data-testid=correction-reason]", "The mother gave the second name wrongly")
    axe(page)
    shot(page, "correction-request")
    page.click("[data-testid=send-correction]")
    page.wait_for_selector("[role=status]")
    assert status(page) == "CORRECTION_REQUESTED"
    change = page.inner_text("[data-testid=correction-change]")
    assert "Tendai Joy Mwale" in change and "Tendai Grace Mwale" in change
    assert not page.locator("[data-testid=action-approve-correction]").count()  # agents ask

    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.goto(f"{live_server.url}/records/{rid}")
    assert "second name" in page.inner_text("[data-testid=correction]")
    axe(page)
    shot(page, "correction-approve")
    page.click("[data-testid=action-approve-correction]")
    page.wait_for_selector("[role=status]")
    assert status(page) == "REGISTERED"
    assert "Tendai Grace Mwale" in page.inner_text("[data-testid=section-child]")
    assert any("Corrected by" in line for line in history(page))

    # A second request is rejected with a reason: nothing changes.
    page.click("[data-testid=action-request-correction]")
    page.fill("[data-testid=child-family]", "Mwala")
    page.fill("[data-testid=correction-reason]", "Spelling")
    page.click("[data-testid=send-correction]")
    page.wait_for_selector("[data-testid=correction]")
    page.fill("[data-testid=reason-reject-correction]", "The hospital record says Mwale")
    page.click("[data-testid=action-reject-correction]")
    page.wait_for_selector("[role=status]")
    assert status(page) == "REGISTERED"
    assert "Tendai Grace Mwale" in page.inner_text("[data-testid=section-child]")
    assert "The hospital record says Mwale" in "\n".join(history(page))


def test_archive_and_reinstate(live_server, wide) -> None:
    page = wide
    rid = notify(live_server, "birth-minimal")
    sign_in(page, live_server, REGISTRATION_AGENT)
    page.goto(f"{live_server.url}/records/{rid}")
    page.fill("[data-testid=reason-archive]", "Sent twice by the hospital")
    page.click("[data-testid=action-archive]")
    page.wait_for_selector("[role=status]")
    assert status(page) == "ARCHIVED"
    assert "Sent twice" in page.inner_text("[data-testid=banner-archived]") or \
        "archived" in page.inner_text("[data-testid=banner-archived]")
    axe(page)
    shot(page, "record-archived")
    page.click("[data-testid=action-reinstate]")
    page.wait_for_selector("[role=status]")
    assert status(page) == "IN_PROGRESS"
    lines = "\n".join(history(page))
    assert "Archived by" in lines and "Reinstated by" in lines


def test_assignment_is_shown_and_a_registrar_unassigns(live_server, wide) -> None:
    page = wide
    rid = notify(live_server, "birth-full", ["Amani"])
    api(live_server, REGISTRATION_AGENT, rid, "assign")
    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.goto(f"{live_server.url}/workqueues/ready-for-review")
    assert "Jonas Mbéluke" in page.inner_text(f"[data-testid=assignee-{rid}]")
    no_sideways_scroll(page)
    axe(page)
    shot(page, "workqueue-assignee")
    page.goto(f"{live_server.url}/records/{rid}")
    assert "Jonas Mbéluke (Registration agent)" in page.inner_text("[data-testid=assignee]")
    assert "Jonas Mbéluke" in page.inner_text("[data-testid=action-unassign]")
    page.click("[data-testid=action-unassign]")
    page.wait_for_selector("[role=status]")
    assert page.inner_text("[data-testid=assignee]") == "Nobody"
    page.click("[data-testid=action-assign]")
    page.wait_for_selector("[role=status]")
    assert "you" in page.inner_text("[data-testid=assignee]")
    # The agent sees who holds it and gets no Unassign button for someone else's record.
    sign_in(page, live_server, REGISTRATION_AGENT)
    page.goto(f"{live_server.url}/records/{rid}")
    assert "Local registrar" in page.inner_text("[data-testid=assignee]")
    assert not page.locator("[data-testid=action-unassign]").count()


def test_national_registrar_picks_an_office_or_all(live_server, wide) -> None:
    page = wide
    notify(live_server, "birth-full", ["Baraka"])
    sign_in(page, live_server, NATIONAL_REGISTRAR)
    page.click("nav >> text=Workqueues")
    assert page.locator("[data-testid=office-picker]").count() == 1
    page.select_option("[data-testid=office-select]", label="HQ Office")
    page.click("[data-testid=office-picker] button")
    assert page.inner_text("[data-testid=count-ready-for-review]") == "0"
    page.select_option("[data-testid=office-select]", value="all")
    page.click("[data-testid=office-picker] button")
    assert "All offices" in page.inner_text("[data-testid=office-name]")
    assert page.inner_text("[data-testid=count-ready-for-review]") == "1"
    axe(page)
    shot(page, "workqueues-national")
    page.click("text=Ready for review")
    assert "office=all" in page.url
    assert page.locator("tbody tr").count() == 1




def test_duplicate_resolved_both_ways(live_server, wide) -> None:
    page = wide
    original = notify(live_server, "birth-full", ["Tendai", "Joy"])
    copy = notify(live_server, "birth-full", ["Tendia", "Joy"])
    third = notify(live_server, "birth-full", ["Tendai", "Joi"])
    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.goto(f"{live_server.url}/records/{copy}")
    assert "Potential duplicate" in page.inner_text("[data-testid=duplicates]")
    no_sideways_scroll(page)
    axe(page)
    shot(page, "record-duplicate")
    page.locator("[data-testid=action-duplicate-of]").first.click()
    page.wait_for_selector("[role=status]")
    assert status(page) == "ARCHIVED"
    page.goto(f"{live_server.url}/records/{third}")
    page.click("[data-testid=action-not-duplicate]")
    page.wait_for_selector("[role=status]")
    assert "resolved: not a duplicate" in page.inner_text("[data-testid=duplicates]")
    page.click("[data-testid=action-register]")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[role=status]")
    assert status(page) == "REGISTERED"
    page.goto(f"{live_server.url}/records/{original}")
    assert status(page) == "DECLARED"
