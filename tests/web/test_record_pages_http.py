"""Who may do what on the record pages, over HTTP: review step, corrections, offices, landing."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from crvshub.auth import service as auth_service
from crvshub.context import AppContext
from tests.helpers import (
    FIELD_AGENT,
    HARAMBO_OFFICE_SID,
    LOCAL_REGISTRAR,
    LOCAL_REGISTRAR_OTHER_OFFICE,
    NATIONAL_REGISTRAR,
    REGISTRATION_AGENT,
    bearer,
    new_client,
    user_token,
)
from tests.notification.helpers import example, fresh_ids

CSRF = re.compile(r'name="csrf" value="([^"]*)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


def notify(client: TestClient, ctx: AppContext, name: str) -> str:
    _creds, token = new_client(ctx, "HEALTH", name="Harambo District Hospital")
    response = client.post("/notification", json=fresh_ids(example(name)), headers=bearer(token))
    assert response.status_code == 200, response.text
    return str(response.headers["location"].rsplit("/", 1)[1])


def as_user(client: TestClient, ctx: AppContext, username: str) -> None:
    client.cookies.set("crvshub_session", user_token(ctx, username))


def form_of(client: TestClient, path: str) -> dict[str, str]:
    page = client.get(path)
    assert page.status_code == 200, page.text
    csrf, version = CSRF.search(page.text), VERSION.search(page.text)
    assert csrf and version
    return {"csrf": csrf.group(1), "version": version.group(1)}


def code_of(response: Any) -> str:
    found = re.search(r'data-testid="error-code">([^<]+)<', response.text)
    return found.group(1) if found else ""


def status_of(client: TestClient, ctx: AppContext, rid: str) -> str:
    token = user_token(ctx, LOCAL_REGISTRAR)
    return str(client.get(f"/api/records/{rid}", headers=bearer(token)).json()["status"])


def test_register_goes_through_the_review_step(client: TestClient, ctx: AppContext) -> None:
    rid = notify(client, ctx, "birth-full")
    as_user(client, ctx, LOCAL_REGISTRAR)
    form = form_of(client, f"/records/{rid}")
    skipped = client.post(f"/records/{rid}/actions/register", data=form, follow_redirects=False)
    assert skipped.status_code == 303
    assert skipped.headers["location"] == f"/records/{rid}/review/register"
    assert status_of(client, ctx, rid) == "DECLARED"
    review = client.get(f"/records/{rid}/review/register")
    assert "registration number" in review.text and 'data-testid="confirm"' in review.text
    done = client.post(f"/records/{rid}/actions/register", data={**form, "confirmed": "yes"},
                       follow_redirects=False)
    assert done.status_code == 303 and status_of(client, ctx, rid) == "REGISTERED"


def test_incomplete_declaration_needs_the_acknowledgement(
    client: TestClient, ctx: AppContext
) -> None:
    rid = notify(client, ctx, "birth-minimal")
    as_user(client, ctx, LOCAL_REGISTRAR)
    form = {**form_of(client, f"/records/{rid}"), "confirmed": "yes"}
    refused = client.post(f"/records/{rid}/actions/register", data=form)
    assert refused.status_code == 422 and code_of(refused) == "WEB-422-001"
    assert "Mother: nationality" in refused.text
    assert status_of(client, ctx, rid) == "IN_PROGRESS"
    done = client.post(f"/records/{rid}/actions/register", data={**form, "incomplete": "yes"},
                       follow_redirects=False)
    assert done.status_code == 303 and status_of(client, ctx, rid) == "REGISTERED"


def test_field_agent_cannot_validate_or_register(client: TestClient, ctx: AppContext) -> None:
    rid = notify(client, ctx, "birth-full")
    as_user(client, ctx, FIELD_AGENT)
    page = client.get(f"/records/{rid}")
    assert 'data-testid="action-register"' not in page.text
    assert 'data-testid="action-validate"' not in page.text
    review = client.get(f"/records/{rid}/review/register")
    assert 'data-testid="not-allowed"' in review.text and 'data-testid="confirm"' not in review.text
    form = {**form_of(client, f"/records/{rid}"), "confirmed": "yes"}
    refused = client.post(f"/records/{rid}/actions/register", data=form)
    assert refused.status_code == 403 and code_of(refused) == "AUTH-403-001"
    assert status_of(client, ctx, rid) == "DECLARED"


def test_only_registrars_decide_corrections(client: TestClient, ctx: AppContext) -> None:
    rid = notify(client, ctx, "birth-full")
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    assert client.post(f"/api/records/{rid}/actions/register",
                       headers=bearer(registrar)).status_code == 200
    as_user(client, ctx, REGISTRATION_AGENT)
    form = form_of(client, f"/records/{rid}/correction")
    same = client.post(f"/records/{rid}/correction", data={**form, "reason": "typo"})
    assert same.status_code == 400 and code_of(same) == "WEB-400-001"
    no_reason = client.post(f"/records/{rid}/correction",
                            data={**form, "child.family": "Mwala"})
    assert no_reason.status_code == 400 and code_of(no_reason) == "REC-400-001"
    sent = client.post(f"/records/{rid}/correction",
                       data={**form, "child.family": "Mwala", "reason": "spelling"},
                       follow_redirects=False)
    assert sent.status_code == 303 and status_of(client, ctx, rid) == "CORRECTION_REQUESTED"
    page = client.get(f"/records/{rid}")
    assert "Mwala" in page.text and 'action-approve-correction' not in page.text
    form = form_of(client, f"/records/{rid}")
    refused = client.post(f"/records/{rid}/actions/approve-correction", data=form)
    assert refused.status_code == 403 and code_of(refused) == "AUTH-403-001"
    as_user(client, ctx, LOCAL_REGISTRAR)
    form = form_of(client, f"/records/{rid}")
    approved = client.post(f"/records/{rid}/actions/approve-correction", data=form,
                           follow_redirects=False)
    assert approved.status_code == 303 and status_of(client, ctx, rid) == "REGISTERED"
    body = client.get(f"/api/records/{rid}", headers=bearer(registrar)).json()
    assert body["name"].endswith("Mwala")
    assert [h["action"] for h in body["history"]].count("correction-requested") == 1


def test_another_offices_registrar_is_refused(client: TestClient, ctx: AppContext) -> None:
    rid = notify(client, ctx, "birth-full")
    as_user(client, ctx, LOCAL_REGISTRAR_OTHER_OFFICE)
    for path in (f"/records/{rid}", f"/records/{rid}/review/register",
                 f"/records/{rid}/correction", f"/records/{rid}/documents/0"):
        refused = client.get(path)
        assert refused.status_code == 403 and code_of(refused) == "AUTH-403-002", path


def test_office_picker_is_for_national_roles(client: TestClient, ctx: AppContext) -> None:
    notify(client, ctx, "birth-full")
    as_user(client, ctx, LOCAL_REGISTRAR)
    page = client.get("/workqueues")
    assert 'data-testid="office-picker"' not in page.text
    refused = client.get("/workqueues?office=all")
    assert refused.status_code == 403 and code_of(refused) == "REC-403-001"
    as_user(client, ctx, NATIONAL_REGISTRAR)
    page = client.get("/workqueues?office=all")
    assert page.status_code == 200 and "All offices" in page.text
    assert re.search(r'count-ready-for-review">1<', page.text)
    page = client.get(f"/workqueues/ready-for-review?office={HARAMBO_OFFICE_SID}")
    assert page.status_code == 200 and "Harambo District Office" in page.text
    api = client.get("/api/records/workqueues?office=all",
                     headers=bearer(user_token(ctx, NATIONAL_REGISTRAR)))
    assert api.status_code == 200 and api.json()["officeId"] is None


def test_no_document_is_a_page_with_its_code(client: TestClient, ctx: AppContext) -> None:
    rid = notify(client, ctx, "birth-full")
    as_user(client, ctx, LOCAL_REGISTRAR)
    missing = client.get(f"/records/{rid}/documents/0")
    assert missing.status_code == 404 and code_of(missing) == "WEB-404-001"


def test_performance_manager_and_local_admin_land_on_their_pages(
    client: TestClient, ctx: AppContext
) -> None:
    with ctx.db.transaction() as session:
        for username, role in (("p.manager", "PERFORMANCE_MANAGER"),
                               ("l.admin", "LOCAL_SYSTEM_ADMIN")):
            auth_service.create_user(session, username=username, given_names="Test",
                                     family_name=role.title(), role=role,
                                     office=HARAMBO_OFFICE_SID, password="test-password-1")
    for username, target in (("p.manager", "/performance"), ("l.admin", "/users")):
        as_user(client, ctx, username)
        landing = client.get("/", follow_redirects=False)
        assert landing.status_code == 303 and landing.headers["location"] == target
    as_user(client, ctx, LOCAL_REGISTRAR)
    assert client.get("/", follow_redirects=False).status_code == 200


def _run_worker(ctx: AppContext) -> None:
    from sqlalchemy import update

    from crvshub.db import utcnow
    from crvshub.outbox.models import OutboxJob
    from crvshub.outbox.worker import Worker

    with ctx.db.transaction() as session:  # make retried jobs due now
        session.execute(update(OutboxJob).values(available_at=utcnow()))
    Worker(ctx).run_once()


def test_banners_for_external_validation_and_rejection(client: TestClient, ctx: AppContext) -> None:
    from tests.helpers import free_port

    ctx.settings.registration_hook_url = f"http://127.0.0.1:{free_port()}/event-registration"
    rid = notify(client, ctx, "birth-full")
    as_user(client, ctx, LOCAL_REGISTRAR)
    review = client.get(f"/records/{rid}/review/register")
    assert "external validation" in review.text
    form = {**form_of(client, f"/records/{rid}"), "confirmed": "yes"}
    sent = client.post(f"/records/{rid}/actions/register", data=form, follow_redirects=False)
    assert sent.status_code == 303 and status_of(client, ctx, rid) == "WAITING_VALIDATION"
    _run_worker(ctx)
    page = client.get(f"/records/{rid}")
    banner = page.text.split('data-testid="banner-external"')[1].split("</section>")[0]
    assert "1 attempt" in banner and "ConnectError" in banner
    other = notify(client, ctx, "birth-minimal")
    token = user_token(ctx, REGISTRATION_AGENT)
    rejected = client.post(f"/api/records/{other}/actions/reject", headers=bearer(token),
                           json={"reason": "The mother's address is missing"})
    assert rejected.status_code == 200, rejected.text
    page = client.get(f"/records/{other}")
    banner = page.text.split('data-testid="banner-rejected"')[1].split("</section>")[0]
    assert "The mother&#39;s address is missing" in banner


def test_the_api_shows_the_pending_correction(client: TestClient, ctx: AppContext) -> None:
    rid = notify(client, ctx, "birth-full")
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    assert client.post(f"/api/records/{rid}/actions/register",
                       headers=bearer(registrar)).status_code == 200
    assert client.get(f"/api/records/{rid}/correction",
                      headers=bearer(registrar)).json() == {"correction": None}
    as_user(client, ctx, LOCAL_REGISTRAR)
    form = form_of(client, f"/records/{rid}/correction")
    sent = client.post(f"/records/{rid}/correction",
                       data={**form, "child.given": "Tendai Grace", "reason": "second name"},
                       follow_redirects=False)
    assert sent.status_code == 303
    found = client.get(f"/api/records/{rid}/correction", headers=bearer(registrar)).json()
    pending = found["correction"]
    assert pending["reason"] == "second name" and pending["statusBefore"] == "REGISTERED"
    assert "Grace" in str(pending["bundle"])
    other = user_token(ctx, LOCAL_REGISTRAR_OTHER_OFFICE)
    refused = client.get(f"/api/records/{rid}/correction", headers=bearer(other))
    assert refused.status_code == 403
