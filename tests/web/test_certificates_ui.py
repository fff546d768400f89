"""A registrar prints a birth certificate in a real browser, issues it, and anyone verifies it."""

from __future__ import annotations

import httpx
import pytest

from tests.certificate.helpers import pdf_text, qr_texts
from tests.helpers import LOCAL_REGISTRAR, REGISTRATION_AGENT, bearer, user_token
from tests.web.axe import assert_usable
from tests.web.helpers import SHOTS, history, notify_birth, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]


def _registered(live) -> str:
    rid = notify_birth(live, key="cert-web")
    token = user_token(live.ctx, LOCAL_REGISTRAR)
    done = httpx.post(f"{live.url}/api/records/{rid}/actions/register", headers=bearer(token))
    assert done.status_code == 200, done.text
    return rid


def test_print_issue_and_verify_in_the_browser(live_server, page) -> None:
    rid = _registered(live_server)
    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.goto(f"{live_server.url}/records/{rid}")
    number = page.inner_text("[data-testid=registration-number]")
    assert not page.locator("[data-testid=action-certify]").count()
    page.click("[data-testid=print-certificate]")
    assert page.inner_text("[data-testid=print-count]") == "0"
    assert not page.locator("[data-testid=reprint-reason]").count()
    page.check("[data-testid=collector-OTHER]")
    page.click("[data-testid=print]")  # no name and ID document: refused, nothing printed
    assert "CRT-400-002" in page.inner_text("[role=alert]")
    page.fill("[data-testid=collector-name]", "Ruth Phiri")
    page.select_option("[data-testid=id-type]", "NATIONAL_ID")
    page.fill("[data-testid=id-number]", "NID-123")
    page.fill("[data-testid=fee]", "5.00")
    page.fill("[data-testid=receipt]", "R-77")
    screenshot(page, "certificate-print.png")
    assert_usable(page, "print form")
    page.click("[data-testid=print]")
    page.wait_for_selector("[role=status]")
    assert page.inner_text("[data-testid=status]") == "Certified"
    certificate_id = page.inner_text("[data-testid=certificate-id]")
    screenshot(page, "certificate-printed.png")
    assert_usable(page, "printed certificate")

    with page.expect_download() as info:
        page.click("[data-testid=download-pdf]")
    download = info.value
    path = download.path()
    assert path is not None
    with open(path, "rb") as handle:
        document = handle.read()
    assert document.startswith(b"%PDF-") and download.suggested_filename.endswith(".pdf")
    assert number in pdf_text(document)
    [qr] = qr_texts(document)
    assert qr.startswith(f"{live_server.url}/verify/")
    _render_for_docs(document)

    page.click("[data-testid=action-issue]")
    page.wait_for_selector("[role=status]")
    assert page.get_attribute("[data-testid=status]", "data-status") == "ISSUED"
    lines = "\n".join(history(page))
    assert "Certified by" in lines and "Certificate downloaded by" in lines
    assert "Issued by" in lines
    assert page.locator("[data-testid=certificate-line]").count() == 1

    # Anyone, signed out, opens the QR code's URL.
    page.context.clear_cookies()
    page.goto(qr)
    assert page.get_attribute("[data-testid=verdict]", "data-outcome") == "valid"
    assert page.inner_text("[data-testid=fact-registration-number]") == number
    assert page.inner_text("[data-testid=fact-certificate]") == certificate_id
    assert "Ruth Phiri" not in page.content() and "NID-123" not in page.content()
    screenshot(page, "certificate-verify.png")
    assert_usable(page, "verification page")


def test_reprint_and_pages_at_phone_width(live_server, page) -> None:
    rid = _registered(live_server)
    agent = user_token(live_server.ctx, REGISTRATION_AGENT)
    first = httpx.post(f"{live_server.url}/api/records/{rid}/certificates",
                       json={"collector": "MOTHER"}, headers=bearer(agent))
    assert first.status_code == 201
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, REGISTRATION_AGENT)
    page.goto(f"{live_server.url}/records/{rid}/certificate")
    assert page.inner_text("[data-testid=print-count]") == "1"
    page.click("[data-testid=print]")
    assert "CRT-400-001" in page.inner_text("[role=alert]")
    page.fill("[data-testid=reprint-reason]", "The first copy was damaged")
    assert_usable(page, "reprint form at phone width")
    page.click("[data-testid=print]")
    page.wait_for_selector("[role=status]")
    assert "(copy 2)" in page.inner_text("[data-testid=certificate-id]")
    assert_usable(page, "reprinted certificate at phone width")
    page.goto(f"{live_server.url}/records/{rid}")
    assert "1 reprint" in page.inner_text("[data-testid=reprints]")
    assert_usable(page, "record with certificates at phone width")

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/verify/{first.json()['payload']}")
    assert page.get_attribute("[data-testid=verdict]", "data-outcome") == "valid"
    assert_usable(page, "verification page at phone width")
    screenshot(page, "certificate-verify-390.png")
    tampered = first.json()["payload"][:-4] + "AAAA"
    page.goto(f"{live_server.url}/verify/{tampered}")
    assert page.get_attribute("[data-testid=verdict]", "data-outcome") == "invalid"
    # The paste form leads to the same answer.
    page.goto(f"{live_server.url}/verify")
    page.fill("[data-testid=verify-code]", f"{live_server.url}/verify/{first.json()['payload']}")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=verdict]")
    assert page.get_attribute("[data-testid=verdict]", "data-outcome") == "valid"


def test_print_page_needs_the_certify_scope(live_server, page) -> None:
    rid = _registered(live_server)
    sign_in(page, live_server, "a.kipsoni")  # field agent
    response = page.goto(f"{live_server.url}/records/{rid}/certificate")
    assert response is not None and response.status == 403


def _render_for_docs(document: bytes) -> None:
    """Keep a picture of the certificate for docs/certificates.md."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(document)
    try:
        pdf[0].render(scale=1.2).to_pil().save(SHOTS / "certificate-birth.png")
    finally:
        pdf.close()
