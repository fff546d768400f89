"""A registrar issues a wallet credential from the certificate page, downloads it, and the QR
code on the page and the file both verify at /verify, at desktop and phone widths."""

from __future__ import annotations

import io

import httpx
import pytest

from tests.helpers import LOCAL_REGISTRAR, REGISTRATION_AGENT, bearer, user_token
from tests.web.axe import assert_usable
from tests.web.helpers import history, notify_birth, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]


def _printed(live, key: str) -> tuple[str, str]:
    rid = notify_birth(live, key=key)
    token = user_token(live.ctx, LOCAL_REGISTRAR)
    done = httpx.post(f"{live.url}/api/records/{rid}/actions/register", headers=bearer(token))
    assert done.status_code == 200, done.text
    agent = user_token(live.ctx, REGISTRATION_AGENT)
    printed = httpx.post(f"{live.url}/api/records/{rid}/certificates",
                         json={"collector": "MOTHER"}, headers=bearer(agent))
    assert printed.status_code == 201, printed.text
    return rid, printed.json()["id"]


def _qr_on_page(page) -> list[str]:
    """Decode the QR codes of the page as rendered (zxing-cpp on a screenshot; QR codes only:
    the dense modules of a long credential can also read as a linear barcode)."""
    import zxingcpp
    from PIL import Image

    shot = Image.open(io.BytesIO(page.locator("[data-testid=credential-qr]").screenshot()))
    return [r.text for r in zxingcpp.read_barcodes(shot)
            if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("width", [1366, 390])
def test_issue_download_and_verify_a_wallet_credential(live_server, page, width: int) -> None:
    rid, certificate_id = _printed(live_server, key=f"cred-web-{width}")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, live_server, LOCAL_REGISTRAR)
    page.goto(f"{live_server.url}/records/{rid}/certificates/{certificate_id}")
    assert_usable(page, f"certificate page with the wallet section at {width} px")
    page.click("[data-testid=issue-credential]")
    page.wait_for_selector("[data-testid=credential-qr]")
    credential_id = page.inner_text("[data-testid=credential-id]")
    assert page.inner_text("[data-testid=credential-status]") == "current"
    if width == 1366:
        screenshot(page, "certificate-credential.png")
    assert_usable(page, f"wallet credential page at {width} px")

    with page.expect_download() as info:
        page.click("[data-testid=download-credential]")
    download = info.value
    assert download.suggested_filename.endswith(f"{credential_id}.sd-jwt")
    path = download.path()
    assert path is not None
    with open(path, encoding="ascii") as handle:
        sd_jwt = handle.read()
    assert sd_jwt.count("~") >= 2 and sd_jwt.endswith("~")
    assert _qr_on_page(page) == [sd_jwt]  # the QR code holds the same credential

    page.goto(f"{live_server.url}/records/{rid}")
    lines = "\n".join(history(page)).lower()
    assert "credential issued" in lines and "credential downloaded" in lines
    assert_usable(page, f"record page at {width} px")

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/verify/{sd_jwt}")
    assert page.get_attribute("[data-testid=verdict]", "data-outcome") == "valid"
    assert page.inner_text("[data-testid=fact-credential]") == credential_id
    assert_usable(page, f"credential verified at {width} px")
    tampered = sd_jwt.split("~")[0] + "~" + "W1wic2FsdFwiLFwibmFtZVwiLFwiWFwiXQ" + "~"
    page.goto(f"{live_server.url}/verify/{tampered}")
    assert page.get_attribute("[data-testid=verdict]", "data-outcome") == "invalid"
    assert_usable(page, f"altered credential at {width} px")
