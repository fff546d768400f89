"""Declaration forms in a real browser, at desktop (1366 px) and phone (390 px) width.

A field agent declares a birth with a scanned document; the registration agent validates it and
the registrar reviews and registers it. A hospital's partial notification is completed in the
form and registered. axe-core checks every page visited (`tests/web/axe.py`).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from crvshub.location.domain import stable_location_id
from tests.helpers import (
    FIELD_AGENT,
    HARAMBO_DISTRICT_SID,
    HARAMBO_HOSPITAL_SID,
    LOCAL_REGISTRAR,
    REGISTRATION_AGENT,
    LiveServer,
)
from tests.web.axe import assert_usable
from tests.web.helpers import history, screenshot, sign_in
from tests.web.test_record_review_ui import notify

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNg+M8AAAICAQB7CYF4AAAAAElFTkSuQmCC")
HOSPITAL = stable_location_id("FAR", HARAMBO_HOSPITAL_SID)
DISTRICT = stable_location_id("FAR", HARAMBO_DISTRICT_SID)



def shot(page: Any, name: str) -> None:
    screenshot(page, f"{name}-{page.width_name}.png")


def status(page: Any) -> str:
    """Return the record's status code (the page shows its words, the code is an attribute)."""
    return str(page.get_attribute("[data-testid=status]", "data-status"))


def fill(page: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        target = page.locator(f"[data-testid='{name}']")
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)


def attach(page: Any, name: str) -> None:
    page.select_option("[data-testid=document_type]", "PROOF_OF_BIRTH")
    page.set_input_files("[data-testid=document]", files=[
        {"name": name, "mimeType": "image/png", "buffer": PNG}])


def confirm(page: Any, action: str) -> None:
    page.click(f"[data-testid=action-{action}]")
    assert_usable(page, f"review {action}")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[role=status]")


def test_field_agent_declares_a_birth_then_it_is_validated_and_registered(
    live_server: LiveServer, wide: Any, tmp_path: Path
) -> None:
    page = wide
    sign_in(page, live_server, FIELD_AGENT)
    page.click("nav >> text=New declaration")
    assert_usable(page, "new declaration choice")
    page.click("[data-testid=new-birth]")
    # Dependent fields: the facility picker only for a facility, the address only for home.
    assert page.locator("[data-testid='field-place.facility']").is_hidden()
    assert page.locator("[data-testid=form-section-informant]").is_hidden()
    page.check("[data-testid='place.type-PRIVATE_HOME']")
    assert page.locator("[data-testid='field-place.addressDistrict']").is_visible()
    page.check("[data-testid='place.type-HEALTH_FACILITY']")
    assert page.locator("[data-testid='field-place.addressDistrict']").is_hidden()
    assert_usable(page, "empty birth form")
    fill(page, {"child.given": "Amani Grace", "child.family": "Phiri", "child.gender": "female",
                "child.birthDate": "2026-01-03", "place.facility": HOSPITAL,
                "birthType": "SINGLE", "weightAtBirth": "3.1", "attendantAtBirth": "MIDWIFE",
                "mother.given": "Ruth", "mother.family": "Phiri", "mother.birthDate": "1995-04-02",
                "mother.nationality": "FAR", "mother.nationalId": "1234509876",
                "mother.addressDistrict": DISTRICT, "mother.addressLine": "12 Acacia Road",
                "informant.type": "OTHER"})
    assert page.locator("[data-testid=form-section-informant]").is_visible()
    page.select_option("[data-testid='informant.type']", "MOTHER")
    assert page.locator("[data-testid=form-section-informant]").is_hidden()
    # Sent without the contact phone the country requires: refused next to the field, and the
    # document attached is kept, shown with a button to remove it.
    attach(page, "wrong-scan.png")
    page.click("[data-testid=send-for-review]")
    assert page.locator("[data-testid='error-contact.phone']").is_visible()
    assert page.inner_text("[data-testid=pending-documents]").count("wrong-scan.png") == 1
    page.click("[data-testid=remove-pending-0]")
    assert not page.locator("[data-testid=pending-document]").count()
    assert page.input_value("[data-testid='child.given']") == "Amani Grace"
    attach(page, "proof.png")
    page.click("[data-testid=send-for-review]")
    assert page.locator("[data-testid='error-contact.phone']").is_visible()
    assert "proof.png" in page.inner_text("[data-testid=pending-documents]")
    assert_usable(page, "birth form with an error and a kept document")
    shot(page, "declaration-form-error")
    fill(page, {"contact.phone": "+260759205191"})
    shot(page, "declaration-form")
    page.click("[data-testid=send-for-review]")
    page.wait_for_selector("[role=status]")
    assert status(page) == "DECLARED"
    assert "Ruth Phiri" in page.inner_text("[data-testid=section-mother]")
    assert page.locator("[data-testid=document] img").count() == 1
    assert_usable(page, "declared record")
    record_url = page.url.split("?")[0]

    sign_in(page, live_server, REGISTRATION_AGENT)
    page.goto(record_url)
    confirm(page, "validate")
    assert status(page) == "VALIDATED"

    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.goto(record_url)
    assert not page.locator("[data-testid=missing-field]").count()
    confirm(page, "register")
    assert status(page) == "REGISTERED"
    assert any("Registered by" in line for line in history(page))
    assert_usable(page, "registered record")


def test_partial_hospital_notification_is_completed_and_registered(
    live_server: LiveServer, wide: Any
) -> None:
    page = wide
    rid = notify(live_server, "birth-minimal")
    sign_in(page, live_server, REGISTRATION_AGENT)
    page.goto(f"{live_server.url}/records/{rid}")
    assert status(page) == "IN_PROGRESS"
    page.click("[data-testid=action-edit]")
    assert_usable(page, "completing a notification")
    # What the hospital sent is in the form already.
    assert page.input_value("[data-testid='child.given']")
    assert page.locator("[data-testid='place.type-HEALTH_FACILITY']").is_checked()
    fill(page, {"mother.addressDistrict": DISTRICT, "mother.addressLine": "3 Market Street",
                "mother.nationality": "FAR", "mother.nationalId": "5556667778"})
    shot(page, "declaration-complete")
    page.click("[data-testid=send-for-review]")
    page.wait_for_selector("[role=status]")
    assert status(page) == "DECLARED"
    assert not page.locator("[data-testid=missing-field]").count()
    assert "3 Market Street" in page.inner_text("[data-testid=section-mother]")

    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.goto(f"{live_server.url}/records/{rid}")
    confirm(page, "register")
    assert status(page) == "REGISTERED"
    assert_usable(page, "registered notification")
