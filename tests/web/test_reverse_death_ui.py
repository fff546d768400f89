"""Reversing a registered death from the record page, in Chromium at 1366 and 390 px: the
button only for registrars on a registered death, a confirmation naming the record and asking
the reason, then the record archived with the reversal and its reason in the history."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crvshub.outbox.models import DomainEvent
from crvshub.record.models import RecordAction
from tests.helpers import LOCAL_REGISTRAR, REGISTRATION_AGENT, LiveServer, bearer, user_token
from tests.web.axe import assert_usable
from tests.web.helpers import history, screenshot, sign_in
from tests.web.test_record_review_ui import notify

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]



def registered_death(live: LiveServer) -> str:
    """Notify a complete death as a hospital and register it through the API."""
    rid = notify(live, "death-full", given=["Tembo", secrets.token_hex(3).upper()])
    headers = bearer(user_token(live.ctx, LOCAL_REGISTRAR))
    record = httpx.get(f"{live.url}/api/records/{rid}", headers=headers, timeout=30)
    done = httpx.post(f"{live.url}/api/records/{rid}/actions/register", timeout=30,
                      headers={**headers, "If-Match": record.headers["etag"]})
    assert done.status_code == 200 and done.json()["status"] == "REGISTERED", done.text
    return rid


def test_a_registrar_reverses_a_registered_death_after_confirming_with_a_reason(
    live_server: LiveServer, wide: Any,
) -> None:
    page = wide
    rid = registered_death(live_server)
    url = f"{live_server.url}/records/{rid}"

    sign_in(page, live_server, REGISTRATION_AGENT)  # not a registrar: no button
    page.goto(url)
    assert not page.locator("[data-testid=action-reverse-death]").count()

    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.goto(url)
    tracking = page.inner_text("[data-testid=tracking-id]").strip()
    assert_usable(page, "registered death")
    page.click("[data-testid=action-reverse-death]")
    assert tracking in page.inner_text("[data-testid=reverse-title]")
    assert "Tembo" in page.inner_text("[data-testid=reverse-record]")
    assert_usable(page, "reverse death confirmation")
    screenshot(page, f"reverse-death-{page.width_name}.png")
    # The reason is required by the record service too, not only by the browser.
    page.eval_on_selector("[data-testid=reason-reverse-death]", "e => e.required = false")
    page.click("[data-testid=confirm]")
    assert page.inner_text("[data-testid=error-code]") == "REC-400-001"
    assert_usable(page, "reverse death without a reason")
    page.fill("[data-testid=reason-reverse-death]", "The person came to the office alive")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[role=status]")
    assert page.get_attribute("[data-testid=status]", "data-status") == "ARCHIVED"
    assert "Death registration reversed" in page.inner_text("[role=status]")
    assert any("Death registration reversed" in line and "came to the office alive" in line
               for line in history(page))
    assert not page.locator("[data-testid=action-reverse-death]").count()
    assert_usable(page, "reversed death")
    with live_server.ctx.db.transaction() as session:
        audit = session.scalars(select(RecordAction).where(
            RecordAction.record_id == rid, RecordAction.action == "death-reversed")).one()
        assert audit.reason == "The person came to the office alive"
        assert "DEATH_REVERSED" in session.scalars(select(DomainEvent.topic).where(
            DomainEvent.record_id == rid)).all()
