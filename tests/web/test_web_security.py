"""Browser protections of the staff pages: session cookie only, login CSRF, security headers."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.errors import InvalidParameter
from tests.helpers import FIELD_AGENT, LOCAL_REGISTRAR, bearer, user_token

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "crvshub" / "web" / "templates"
LOGIN_CSRF_COOKIE = "crvshub_login_csrf"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


def _login_form(client: TestClient) -> str:
    page = client.get("/")
    assert page.status_code == 200 and "Sign in" in page.text
    found = CSRF_FIELD.search(page.text)
    assert found and found.group(1), "the sign-in form has no CSRF field"
    return found.group(1)


def test_home_ignores_a_bearer_token(client: TestClient, ctx: AppContext) -> None:
    page = client.get("/", headers=bearer(user_token(ctx, LOCAL_REGISTRAR)))
    assert page.status_code == 200
    assert "Sign in" in page.text and "Welcome" not in page.text
    for path in ("/workqueues", "/integrations"):
        response = client.get(path, headers=bearer(user_token(ctx, LOCAL_REGISTRAR)),
                              follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/", path


def test_sign_in_needs_the_forms_csrf_token(client: TestClient) -> None:
    token = _login_form(client)
    assert client.cookies.get(LOGIN_CSRF_COOKIE)
    credentials = {"username": LOCAL_REGISTRAR, "password": "test"}
    missing = client.post("/login", data=credentials, follow_redirects=False)
    assert missing.status_code == 403 and "expired" in missing.text
    assert "crvshub_session" not in missing.headers.get("set-cookie", "")
    forged = client.post("/login", data={**credentials, "csrf": "0" * 64},
                         follow_redirects=False)
    assert forged.status_code == 403
    # Another browser (no pre-session cookie) cannot reuse this browser's token.
    stranger = TestClient(client.app)
    assert stranger.post("/login", data={**credentials, "csrf": token},
                         follow_redirects=False).status_code == 403
    signed_in = client.post("/login", data={**credentials, "csrf": token},
                            follow_redirects=False)
    assert signed_in.status_code == 303
    assert "crvshub_session=" in signed_in.headers["set-cookie"]
    assert not client.cookies.get(LOGIN_CSRF_COOKIE)  # used once; the next form gets a new one
    assert "Welcome" in client.get("/").text


def test_wrong_password_keeps_a_usable_form(client: TestClient) -> None:
    token = _login_form(client)
    wrong = client.post("/login", data={"username": LOCAL_REGISTRAR, "password": "no",
                                        "csrf": token}, follow_redirects=False)
    assert wrong.status_code == 401
    again = CSRF_FIELD.search(wrong.text)
    assert again and again.group(1) == token


def _assert_secure_headers(response) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") in ("same-origin",
                                                         "strict-origin-when-cross-origin")
    assert response.headers.get("x-frame-options") == "DENY"


def test_pages_send_security_headers(client: TestClient, ctx: AppContext) -> None:
    _assert_secure_headers(client.get("/"))
    _assert_secure_headers(client.get("/workqueues", follow_redirects=False))  # login redirect
    client.cookies.set("crvshub_session", user_token(ctx, FIELD_AGENT))
    _assert_secure_headers(client.get("/workqueues"))
    forbidden = client.get("/integrations")
    assert forbidden.status_code == 403
    _assert_secure_headers(forbidden)
    missing = client.get("/records/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    _assert_secure_headers(missing)


def test_templates_have_no_inline_script_or_style() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8").lower()
        assert "<style" not in text and " style=" not in text, template.name
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name


def test_a_browser_gets_error_pages_and_an_api_client_gets_json(client) -> None:
    html = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    missing = client.get("/no-such-page", headers=html)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "GEN-404-001" in missing.text and "<h1>" in missing.text
    token = _login_form(client)
    signed_in = client.post("/login", data={"username": LOCAL_REGISTRAR, "password": "test",
                                            "csrf": token}, follow_redirects=False)
    assert signed_in.status_code == 303
    bad = client.get("/workqueues/ready-for-review?page=abc", headers=html)
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html")
    assert InvalidParameter.code in bad.text
    for path in ("/no-such-page", "/api/records/nothing"):
        answer = client.get(path, headers={"accept": "application/json"})
        assert answer.headers["content-type"].startswith("application/"), path
    fhir = client.get("/fhir/Nothing/1", headers=html)
    assert fhir.headers["content-type"].startswith("application/"), "APIs answer JSON always"
