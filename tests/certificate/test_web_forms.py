"""The certificate pages over plain HTTP: CSRF on the print form, scopes, public /verify."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.certificate.helpers import registered
from tests.helpers import FIELD_AGENT, REGISTRATION_AGENT, bearer, user_token

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


def test_print_form_needs_the_csrf_token(client: TestClient, ctx: AppContext) -> None:
    record = registered(client, ctx)
    token = user_token(ctx, REGISTRATION_AGENT)
    client.cookies.set("crvshub_session", token)
    form = client.get(f"/records/{record['id']}/certificate")
    assert form.status_code == 200 and form.headers["Content-Security-Policy"]
    csrf = CSRF_FIELD.search(form.text)
    assert csrf is not None
    refused = client.post(f"/records/{record['id']}/certificate",
                          data={"csrf": "forged", "collector": "MOTHER"}, follow_redirects=False)
    assert refused.status_code == 403
    listing = client.get(f"/api/records/{record['id']}/certificates", headers=bearer(token))
    assert listing.json()["total"] == 0
    bad_fee = client.post(f"/records/{record['id']}/certificate",
                          data={"csrf": csrf.group(1), "collector": "MOTHER", "fee": "abc"})
    assert bad_fee.status_code == 400 and "CRT-400-002" in bad_fee.text
    done = client.post(f"/records/{record['id']}/certificate",
                       data={"csrf": csrf.group(1), "collector": "MOTHER", "fee": "2.50"},
                       follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert page.status_code == 200 and "2.50" in page.text
    pdf = client.get(done.headers["location"] + "/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_print_pages_need_a_session_with_certify(client: TestClient, ctx: AppContext) -> None:
    record = registered(client, ctx)
    path = f"/records/{record['id']}/certificate"
    assert client.get(path, follow_redirects=False).status_code == 303  # to sign-in
    client.cookies.set("crvshub_session", user_token(ctx, FIELD_AGENT))
    assert client.get(path).status_code == 403
    assert client.post(path, data={"collector": "MOTHER"}).status_code == 403


def test_verify_page_is_public_and_says_what_is_wrong(client: TestClient) -> None:
    form = client.get("/verify")
    assert form.status_code == 200 and "Verify a certificate" in form.text
    garbage = client.get("/verify/hello")
    assert garbage.status_code == 400 and "CRT-400-003" in garbage.text
    pasted = client.get("/verify", params={"code": "http://x/verify/a.b.c"},
                        follow_redirects=False)
    assert pasted.status_code == 303 and pasted.headers["location"] == "/verify/a.b.c"
    assert 'data-outcome="invalid"' in client.get("/verify/a.b.c").text
