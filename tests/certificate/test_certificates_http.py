"""Print, reprint, download and issue certificates through HTTP, with the audit trail."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.certificate.helpers import pdf_text, print_cert, registered
from tests.helpers import (
    FIELD_AGENT,
    LOCAL_REGISTRAR,
    LOCAL_REGISTRAR_OTHER_OFFICE,
    REGISTRATION_AGENT,
    bearer,
    new_client,
    user_token,
)
from tests.record.helpers import act, declare, issue_code


def test_print_then_issue_changes_the_status_and_is_audited(client: TestClient,
                                                           ctx: AppContext) -> None:
    record = registered(client, ctx)
    agent = user_token(ctx, REGISTRATION_AGENT)
    printed = print_cert(client, agent, record["id"], fee="5.00", receipt="R-1001")
    assert printed.status_code == 201, printed.text
    cert = printed.json()
    assert cert["printNumber"] == 1 and not cert["reprint"] and cert["status"] == "current"
    assert cert["registrationNumber"] == record["registrationNumber"]
    assert cert["collector"] == {"type": "MOTHER"} and cert["fee"] == "5.00"
    assert printed.headers["Location"] == f"/api/certificates/{cert['id']}"

    view = client.get(f"/api/records/{record['id']}", headers=bearer(agent)).json()
    assert view["status"] == "CERTIFIED"
    certified = [h for h in view["history"] if h["action"] == "certified"]
    assert len(certified) == 1
    assert certified[0]["data"]["certificateId"] == cert["id"]
    assert certified[0]["data"]["collector"] == {"type": "MOTHER"}
    assert certified[0]["data"]["receipt"] == "R-1001" and certified[0]["data"]["fee"] == "5.00"

    document = client.get(cert["pdf"], headers=bearer(agent))
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    assert document.content.startswith(b"%PDF-")
    text = pdf_text(document.content)
    assert record["registrationNumber"] in text
    assert "Amani Banda" in text and "Mary Banda" in text
    assert "Certificate of Birth" in text and "Acte de naissance" in text
    assert cert["id"] in text

    issued = act(client, agent, record["id"], "issue")
    assert issued.status_code == 200 and issued.json()["status"] == "ISSUED"
    history = client.get(f"/api/records/{record['id']}", headers=bearer(agent)).json()["history"]
    names = [h["action"] for h in history]
    assert names.index("certified") < names.index("certificate-downloaded") < names.index("issued")


def test_print_can_answer_the_pdf_itself(client: TestClient, ctx: AppContext) -> None:
    record = registered(client, ctx)
    agent = user_token(ctx, REGISTRATION_AGENT)
    response = client.post(f"/api/records/{record['id']}/certificates",
                           json={"collector": "FATHER", "paper": "Letter"},
                           headers={**bearer(agent), "Accept": "application/pdf"})
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/pdf"
    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(response.content)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)
    assert record["registrationNumber"] in pdf_text(response.content)


def test_reprints_need_a_reason_and_are_counted(client: TestClient, ctx: AppContext) -> None:
    record = registered(client, ctx)
    agent = user_token(ctx, REGISTRATION_AGENT)
    assert print_cert(client, agent, record["id"]).status_code == 201
    again = print_cert(client, agent, record["id"])
    assert again.status_code == 400 and issue_code(again) == "CRT-400-001"
    reprint = print_cert(client, agent, record["id"], reprintReason="The first copy was lost",
                         collector="OTHER", collectorName="Ruth Phiri", idType="PASSPORT",
                         idNumber="P1234567")
    assert reprint.status_code == 201, reprint.text
    body = reprint.json()
    assert body["printNumber"] == 2 and body["reprint"]
    assert body["reprintReason"] == "The first copy was lost"
    assert body["collector"] == {"type": "OTHER", "name": "Ruth Phiri", "idType": "PASSPORT",
                                 "idNumber": "P1234567"}
    listing = client.get(f"/api/records/{record['id']}/certificates", headers=bearer(agent))
    assert listing.json()["total"] == 2 and listing.json()["reprints"] == 1
    history = client.get(f"/api/records/{record['id']}", headers=bearer(agent)).json()["history"]
    reprinted = [h for h in history if h["action"] == "certified"][-1]
    assert reprinted["reason"] == "The first copy was lost" and reprinted["data"]["reprint"]
    assert "copy 2" in pdf_text(client.get(body["pdf"], headers=bearer(agent)).content)
    # A reprint of an issued record makes it ready to issue again.
    assert act(client, agent, record["id"], "issue").json()["status"] == "ISSUED"
    third = print_cert(client, agent, record["id"], reprintReason="Damaged")
    assert third.status_code == 201 and third.json()["printNumber"] == 3


def test_collector_other_needs_a_name_and_an_id_document(client: TestClient,
                                                         ctx: AppContext) -> None:
    record = registered(client, ctx)
    agent = user_token(ctx, REGISTRATION_AGENT)
    for body in ({"collector": "OTHER"}, {"collector": "OTHER", "collectorName": "Ruth"},
                 {"collector": "NEIGHBOUR"}):
        response = print_cert(client, agent, record["id"], **body)
        assert response.status_code == 400 and issue_code(response) == "CRT-400-002", body
    status = client.get(f"/api/records/{record['id']}", headers=bearer(agent)).json()["status"]
    assert status == "REGISTERED"


def test_only_registered_records_are_certified(client: TestClient, ctx: AppContext) -> None:
    agent = user_token(ctx, REGISTRATION_AGENT)
    created = declare(client, agent)
    response = print_cert(client, agent, created["id"])
    assert response.status_code == 409 and issue_code(response) == "REC-409-001"


def test_permissions(client: TestClient, ctx: AppContext) -> None:
    record = registered(client, ctx)
    rid = record["id"]
    assert client.post(f"/api/records/{rid}/certificates",
                       json={"collector": "MOTHER"}).status_code == 401
    field_agent = user_token(ctx, FIELD_AGENT)
    assert print_cert(client, field_agent, rid).status_code == 403
    _creds, hospital = new_client(ctx, "HEALTH")
    assert print_cert(client, hospital, rid).status_code == 403
    other = user_token(ctx, LOCAL_REGISTRAR_OTHER_OFFICE)
    refused = print_cert(client, other, rid)
    assert refused.status_code == 403, refused.text

    agent = user_token(ctx, REGISTRATION_AGENT)
    cert = print_cert(client, agent, rid).json()
    assert client.get(cert["pdf"]).status_code == 401
    assert client.get(cert["pdf"], headers=bearer(field_agent)).status_code == 403
    assert client.get(cert["pdf"], headers=bearer(other)).status_code == 403
    assert client.get(f"/api/certificates/{cert['id']}", headers=bearer(other)).status_code == 403
    # Revoking is for registrars only.
    revoke = f"/api/certificates/{cert['id']}/revoke"
    assert client.post(revoke, json={"reason": "x"}, headers=bearer(agent)).status_code == 403
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    done = client.post(revoke, json={"reason": "Printed with a smudge"}, headers=bearer(registrar))
    assert done.status_code == 200 and done.json()["status"] == "revoked"
    again = client.post(revoke, json={"reason": "again"}, headers=bearer(registrar))
    assert again.status_code == 409 and issue_code(again) == "CRT-409-002"
    history = client.get(f"/api/records/{rid}", headers=bearer(registrar)).json()["history"]
    assert any(h["action"] == "certificate-revoked" and h["reason"] == "Printed with a smudge"
               for h in history)
    missing = client.get("/api/certificates/NOPE", headers=bearer(agent))
    assert missing.status_code == 404 and issue_code(missing) == "CRT-404-001"
