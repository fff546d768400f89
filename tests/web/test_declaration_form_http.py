"""Declaration forms over HTTP: the form becomes the bundle the record API stores, with the same
checks, the country's required fields, dependent fields, documents and who may use them."""

from __future__ import annotations

import base64
import re
from typing import Any

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.location.domain import stable_location_id
from crvshub.web import form_bundle
from crvshub.web.form_config import forms
from tests.helpers import (
    FIELD_AGENT,
    HARAMBO_DISTRICT_SID,
    HARAMBO_HOSPITAL_SID,
    LOCAL_REGISTRAR,
    NATLSYSADMIN,
    REGISTRATION_AGENT,
    bearer,
    new_client,
    user_token,
)
from tests.notification.helpers import example, fresh_ids

CSRF = re.compile(r'name="csrf" value="([^"]*)"')
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNg+M8AAAICAQB7CYF4AAAAAElFTkSuQmCC")
HOSPITAL = stable_location_id("FAR", HARAMBO_HOSPITAL_SID)
DISTRICT = stable_location_id("FAR", HARAMBO_DISTRICT_SID)


def as_user(client: TestClient, ctx: AppContext, username: str) -> str:
    client.cookies.set("crvshub_session", user_token(ctx, username))
    page = client.get("/records/new?event=birth")
    found = CSRF.search(page.text)
    return found.group(1) if found else ""


def complete_birth() -> dict[str, str]:
    return {
        "child.given": "Amani Grace", "child.family": "Phiri", "child.gender": "female",
        "child.birthDate": "2026-01-03", "place.type": "HEALTH_FACILITY",
        "place.facility": HOSPITAL, "birthType": "SINGLE", "weightAtBirth": "3.1",
        "attendantAtBirth": "MIDWIFE", "mother.given": "Ruth", "mother.family": "Phiri",
        "mother.birthDate": "1995-04-02", "mother.nationality": "FAR",
        "mother.nationalId": "1234509876", "mother.addressDistrict": DISTRICT,
        "mother.addressLine": "12 Acacia Road", "informant.type": "MOTHER",
        "contact.phone": "+260759205191",
    }


def record(client: TestClient, ctx: AppContext, rid: str) -> dict[str, Any]:
    token = user_token(ctx, LOCAL_REGISTRAR)
    body: dict[str, Any] = client.get(f"/api/records/{rid}", headers=bearer(token)).json()
    return body


def test_the_form_comes_from_the_country_data(client: TestClient, ctx: AppContext) -> None:
    birth = forms(ctx.settings.country_dir)["birth"]
    assert [s.key for s in birth.sections] == ["child", "event", "mother", "father", "contact",
                                              "informant"]
    required = {f.name for f in birth.fields() if birth.is_required(f)}
    assert {"child.given", "mother.addressDistrict", "place.type"} <= required
    assert "father.given" not in required
    as_user(client, ctx, FIELD_AGENT)
    page = client.get("/records/new?event=birth")
    assert page.status_code == 200
    assert "Harambo District Hospital" in page.text and "(required)" in page.text
    client.cookies.set("crvshub_lang", "fr")
    assert "Déclaration de naissance" in client.get("/records/new?event=birth").text
    client.cookies.set("crvshub_lang", "en")
    assert "Declare a death" in client.get("/records/new").text


def test_field_agent_declares_a_complete_birth_with_a_document(
    client: TestClient, ctx: AppContext
) -> None:
    csrf = as_user(client, ctx, FIELD_AGENT)
    sent = client.post("/records/new?event=birth", follow_redirects=False,
                       data={"csrf": csrf, "intent": "declare", "document_type": "PROOF_OF_BIRTH",
                             **complete_birth()},
                       files={"document": ("proof.png", PNG, "image/png")})
    assert sent.status_code == 303, sent.text
    rid = sent.headers["location"].split("/")[2].split("?")[0]
    body = record(client, ctx, rid)
    assert body["status"] == "DECLARED"
    values = form_bundle.values_of(body["bundle"], "birth")
    assert values["child.given"] == "Amani Grace" and values["place.facility"] == HOSPITAL
    assert values["informant.type"] == "MOTHER" and values["weightAtBirth"] == "3.1"
    documents = [e["resource"] for e in body["bundle"]["entry"]
                 if e["resource"]["resourceType"] == "DocumentReference"]
    assert documents[0]["content"][0]["attachment"]["size"] == len(PNG)
    shown = client.get(f"/records/{rid}")
    assert "Ruth Phiri" in shown.text and "12 Acacia Road" in shown.text


def test_send_for_review_needs_the_required_fields(client: TestClient, ctx: AppContext) -> None:
    csrf = as_user(client, ctx, FIELD_AGENT)
    partial = {"child.given": "Tiny", "child.family": "Banda"}
    refused = client.post("/records/new?event=birth", data={"csrf": csrf, "intent": "declare",
                                                            **partial})
    assert refused.status_code == 422
    assert 'data-testid="error-mother.given"' in refused.text
    assert 'data-testid="error-place.type"' in refused.text
    assert 'data-testid="error-child.given"' not in refused.text
    saved = client.post("/records/new?event=birth", follow_redirects=False,
                        data={"csrf": csrf, "intent": "save", **partial})
    assert saved.status_code == 303
    rid = saved.headers["location"].split("/")[2].split("?")[0]
    assert record(client, ctx, rid)["status"] == "IN_PROGRESS"
    assert "Saved as in progress" in client.get(saved.headers["location"]).text


def test_bad_values_and_files_are_refused_next_to_their_fields(
    client: TestClient, ctx: AppContext
) -> None:
    csrf = as_user(client, ctx, FIELD_AGENT)
    bad = {**complete_birth(), "child.birthDate": "2999-01-01", "weightAtBirth": "heavy",
           "place.facility": DISTRICT, "mother.nationalId": "12", "child.gender": "x"}
    refused = client.post("/records/new?event=birth", data={"csrf": csrf, "intent": "save",
                                                            "document_type": "PROOF_OF_BIRTH",
                                                            **bad},
                          files={"document": ("x.png", b"not an image", "image/png")})
    assert refused.status_code == 422
    for name in ("child.birthDate", "weightAtBirth", "place.facility", "mother.nationalId",
                 "child.gender", "document"):
        assert f'data-testid="error-{name}"' in refused.text, name
    big = client.post("/records/new?event=birth", data={"csrf": csrf, "intent": "save",
                                                        "document_type": "PROOF_OF_BIRTH"},
                      files={"document": ("big.pdf", b"%PDF-" + b"0" * 1048577,
                                          "application/pdf")})
    assert big.status_code in (413, 422)
    forged = client.post("/records/new?event=birth", data={"csrf": "nope", **complete_birth()})
    assert forged.status_code == 403


def test_hidden_dependent_fields_do_not_count(client: TestClient, ctx: AppContext) -> None:
    csrf = as_user(client, ctx, FIELD_AGENT)
    values = {**complete_birth(), "place.type": "PRIVATE_HOME",
              "place.addressDistrict": DISTRICT, "place.addressLine": "7 Baobab Lane",
              "informant.given": "Not", "informant.family": "Used"}
    sent = client.post("/records/new?event=birth", follow_redirects=False,
                       data={"csrf": csrf, "intent": "declare", **values})
    assert sent.status_code == 303, sent.text
    rid = sent.headers["location"].split("/")[2].split("?")[0]
    bundle = record(client, ctx, rid)["bundle"]
    read = form_bundle.values_of(bundle, "birth")
    assert read["place.type"] == "PRIVATE_HOME" and "place.facility" not in read
    assert read["place.addressLine"] == "7 Baobab Lane"
    assert "Used" not in str(bundle)  # the informant is the mother: their own fields are ignored


def test_a_partial_hospital_notification_is_completed(client: TestClient, ctx: AppContext) -> None:
    _creds, token = new_client(ctx, "HEALTH", name="Harambo District Hospital")
    notified = client.post("/notification", json=fresh_ids(example("birth-minimal")),
                           headers=bearer(token))
    rid = notified.headers["location"].rsplit("/", 1)[1]
    before = record(client, ctx, rid)
    assert before["status"] == "IN_PROGRESS"
    as_user(client, ctx, REGISTRATION_AGENT)
    page = client.get(f"/records/{rid}/edit")
    assert page.status_code == 200 and 'data-testid="send-for-review"' in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    # Only the missing facts are sent: every other field keeps what the hospital sent.
    sent = client.post(f"/records/{rid}/edit", follow_redirects=False, data={
        "csrf": csrf, "version": version, "intent": "declare",
        "mother.addressDistrict": DISTRICT, "mother.addressLine": "3 Market Street",
        "mother.nationality": "FAR", "mother.nationalId": "5556667778"})
    assert sent.status_code == 303, sent.text
    after = record(client, ctx, rid)
    assert after["status"] == "DECLARED"
    old = form_bundle.values_of(before["bundle"], "birth")
    new = form_bundle.values_of(after["bundle"], "birth")
    assert all(new.get(k) == v for k, v in old.items())
    assert new["mother.addressLine"] == "3 Market Street"


def test_who_may_open_the_forms(client: TestClient, ctx: AppContext) -> None:
    as_user(client, ctx, NATLSYSADMIN)
    assert client.get("/records/new?event=birth").status_code == 403
    csrf = as_user(client, ctx, LOCAL_REGISTRAR)
    sent = client.post("/records/new?event=death", follow_redirects=False, data={
        "csrf": csrf, "intent": "save", "deceased.given": "Peter", "deceased.family": "Zulu"})
    rid = sent.headers["location"].split("/")[2].split("?")[0]
    token = user_token(ctx, LOCAL_REGISTRAR)
    for action in ("declare", "register"):
        done = client.post(f"/api/records/{rid}/actions/{action}", headers=bearer(token))
        assert done.status_code == 200, done.text
    registered = client.get(f"/records/{rid}/edit")
    assert registered.status_code == 409 and "WEB-409-001" in registered.text
    assert 'data-testid="action-edit"' not in client.get(f"/records/{rid}").text


def test_a_stored_value_the_form_does_not_offer_is_kept(client: TestClient, ctx: AppContext) -> None:
    _creds, token = new_client(ctx, "HEALTH", name="Harambo District Hospital")
    bundle = fresh_ids(example("birth-full"))
    mother = next(e["resource"] for e in bundle["entry"][3:]
                  if e["resource"].get("resourceType") == "Patient")
    mother["extension"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = "GBR"
    notified = client.post("/notification", json=bundle, headers=bearer(token))
    rid = notified.headers["location"].rsplit("/", 1)[1]
    as_user(client, ctx, REGISTRATION_AGENT)
    page = client.get(f"/records/{rid}/edit")
    assert '<option value="GBR" selected>GBR</option>' in page.text
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    # The unchanged GBR passes as it was stored; the new phone is saved.
    sent = client.post(f"/records/{rid}/edit", follow_redirects=False, data={
        "csrf": csrf, "intent": "save", "mother.nationality": "GBR",
        "contact.phone": "+260700000001"})
    assert sent.status_code == 303, sent.text
    values = form_bundle.values_of(record(client, ctx, rid)["bundle"], "birth")
    assert values["mother.nationality"] == "GBR" and values["contact.phone"] == "+260700000001"


PENDING = re.compile(r'name="pending" value="([^"]*)"')


def test_a_document_attached_to_a_refused_form_is_kept_until_saved_or_removed(
    client: TestClient, ctx: AppContext
) -> None:
    csrf = as_user(client, ctx, FIELD_AGENT)
    values = {**complete_birth(), "contact.phone": ""}
    refused = client.post("/records/new?event=birth",
                          data={"csrf": csrf, "intent": "declare",
                                "document_type": "PROOF_OF_BIRTH", **values},
                          files={"document": ("proof.png", PNG, "image/png")})
    assert refused.status_code == 422 and 'data-testid="error-contact.phone"' in refused.text
    assert 'data-testid="pending-document"' in refused.text and "proof.png" in refused.text
    kept = PENDING.findall(refused.text)
    assert len(kept) == 1 and "proof.png" not in kept[0]  # sealed, not readable
    # Removing it shows the form again, saves nothing and keeps no document.
    removed = client.post("/records/new?event=birth",
                          data={"csrf": csrf, "intent": "declare", "pending": kept[0],
                                "remove_document": "0", **values})
    assert removed.status_code == 200 and not PENDING.findall(removed.text)
    assert 'data-testid="form-errors"' not in removed.text
    # Sent again with the phone: the kept document is saved with the declaration.
    sent = client.post("/records/new?event=birth",
                       data={"csrf": csrf, "intent": "declare", "pending": kept[0],
                             **complete_birth()}, follow_redirects=False)
    assert sent.status_code == 303, sent.text[:500]
    rid = sent.headers["location"].split("/records/", 1)[1].split("?", 1)[0]
    body = record(client, ctx, rid)
    documents = [e["resource"] for e in body["bundle"]["entry"]
                 if e["resource"]["resourceType"] == "DocumentReference"]
    assert len(documents) == 1
    assert base64.b64decode(documents[0]["content"][0]["attachment"]["data"]) == PNG
    # Another user's session (or another form) cannot read it back.
    other = as_user(client, ctx, REGISTRATION_AGENT)
    stolen = client.post("/records/new?event=birth",
                         data={"csrf": other, "intent": "declare", "pending": kept[0],
                               **complete_birth()}, follow_redirects=False)
    rid2 = stolen.headers["location"].split("/records/", 1)[1].split("?", 1)[0]
    assert not [e for e in record(client, ctx, rid2)["bundle"]["entry"]
                if e["resource"]["resourceType"] == "DocumentReference"]
