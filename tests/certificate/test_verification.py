"""Verification: the QR code decoded from the rendered PDF, its signature checked with a
generic JOSE library, and /verify's answers for genuine, altered, foreign, unknown, revoked
and superseded certificates."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.jwk import KeySet

from crvshub.auth.ratelimit import TokenBucket
from crvshub.context import AppContext
from tests.certificate.helpers import print_cert, qr_texts, registered
from tests.helpers import LOCAL_REGISTRAR, REGISTRATION_AGENT, bearer, user_token, wait_for
from tests.record.helpers import act, birth_bundle, issue_code


def _printed(client: TestClient, ctx: AppContext) -> tuple[dict[str, Any], dict[str, Any], str]:
    record = registered(client, ctx)
    agent = user_token(ctx, REGISTRATION_AGENT)
    cert = print_cert(client, agent, record["id"], collector="OTHER", collectorName="Ruth Phiri",
                      idType="NATIONAL_ID", idNumber="NID-99887766").json()
    return record, cert, agent


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()) \
        .rstrip(b"=").decode()


def test_qr_code_from_the_pdf_verifies_with_the_published_keys(client: TestClient,
                                                               ctx: AppContext) -> None:
    record, cert, agent = _printed(client, ctx)
    document = client.get(cert["pdf"], headers=bearer(agent)).content
    texts = qr_texts(document)
    assert len(texts) == 1
    url = texts[0]
    assert url == f"{ctx.settings.base_url}/verify/{cert['payload']}"
    token = url.rsplit("/verify/", 1)[1]
    assert len(token.encode()) <= 350, len(token)

    keys = client.get("/.well-known/jwks.json").json()
    ec_keys = [k for k in keys["keys"] if k["kty"] == "EC"]
    assert ec_keys and all(k["alg"] == "ES256" and "d" not in k for k in ec_keys)
    assert any(k["kty"] == "RSA" for k in keys["keys"])  # the token keys stay published
    verified = jws.deserialize_compact(token, KeySet.import_key_set(keys), algorithms=["ES256"])
    claims = json.loads(verified.payload)
    assert verified.protected["typ"] == "crvs-cert"
    assert claims["id"] == cert["id"] and claims["rn"] == record["registrationNumber"]
    assert claims["n"] == "Amani Banda" and claims["t"] == "b" and claims["d"] == "2026-11-01"
    assert "Ruth" not in json.dumps(claims) and "NID-99887766" not in json.dumps(claims)


def test_verify_json_and_page_for_a_valid_certificate(client: TestClient,
                                                      ctx: AppContext) -> None:
    record, cert, _agent = _printed(client, ctx)
    answer = client.get(f"/api/verify/{cert['payload']}")
    assert answer.status_code == 200
    body = answer.json()
    assert body["outcome"] == "valid" and body["genuine"] and body["current"]
    assert body["certificate"] == {
        "certificateId": cert["id"], "event": "birth",
        "registrationNumber": record["registrationNumber"], "name": "Amani Banda",
        "eventDate": "2026-11-01", "eventPlace": body["certificate"]["eventPlace"],
        "issuedOn": cert["printedAt"][:10],
    }
    # The full URL of the QR code is accepted as well.
    page = client.get(f"/verify/{cert['payload']}")
    assert page.status_code == 200
    assert 'data-outcome="valid"' in page.text and record["registrationNumber"] in page.text
    # Never more than the paper says: no collector, ID document, parents or contact.
    for secret in ("Ruth Phiri", "NID-99887766", "Mary", "+260911111111", record["id"]):
        assert secret not in page.text and secret not in answer.text
    assert page.headers["Content-Security-Policy"]


def test_altered_foreign_and_unknown_payloads(client: TestClient, ctx: AppContext) -> None:
    _record, cert, _agent = _printed(client, ctx)
    header, payload, signature = cert["payload"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    altered = f"{header}.{_b64({**claims, 'n': 'Someone Else'})}.{signature}"
    body = client.get(f"/api/verify/{altered}").json()
    assert body["outcome"] == "invalid" and not body["genuine"] and body["certificate"] is None

    kid = jwt.get_unverified_header(cert["payload"])["kid"]
    stranger = ec.generate_private_key(ec.SECP256R1())
    foreign = jwt.encode(claims, stranger, algorithm="ES256",
                         headers={"kid": kid, "typ": "crvs-cert"})
    assert client.get(f"/api/verify/{foreign}").json()["outcome"] == "invalid"
    unknown_kid = jwt.encode(claims, stranger, algorithm="ES256",
                             headers={"kid": "c00000", "typ": "crvs-cert"})
    assert client.get(f"/api/verify/{unknown_kid}").json()["outcome"] == "invalid"

    with ctx.db.sessionmaker() as session:
        ctx.certificate_keys.ensure(session)
        never_printed, _kid = ctx.certificate_keys.sign({**claims, "id": "ZZZZZZZZZZZZ"})
    body = client.get(f"/api/verify/{never_printed}").json()
    assert body["outcome"] == "unknown" and body["genuine"] and not body["current"]
    assert body["certificate"] is None

    garbage = client.get("/api/verify/not-a-certificate")
    assert garbage.status_code == 400 and issue_code(garbage) == "CRT-400-003"
    page = client.get(f"/verify/{altered}")
    assert 'data-outcome="invalid"' in page.text and "Someone Else" not in page.text


def test_revoked_and_superseded_certificates(client: TestClient, ctx: AppContext) -> None:
    record, cert, agent = _printed(client, ctx)
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    second = print_cert(client, agent, record["id"], reprintReason="Lost").json()
    revoked = client.post(f"/api/certificates/{cert['id']}/revoke", json={"reason": "Stolen"},
                          headers=bearer(registrar))
    assert revoked.status_code == 200
    body = client.get(f"/api/verify/{cert['payload']}").json()
    assert body["outcome"] == "revoked" and body["genuine"] and not body["current"]
    assert client.get(f"/api/verify/{second['payload']}").json()["outcome"] == "valid"

    corrected = birth_bundle(given="Amani", family="Banda-Phiri")
    assert act(client, registrar, record["id"], "request-correction", reason="Family name",
               bundle=corrected).status_code == 200
    # Still current while the correction is only requested.
    assert client.get(f"/api/verify/{second['payload']}").json()["outcome"] == "valid"
    approved = act(client, registrar, record["id"], "approve-correction")
    assert approved.status_code == 200, approved.text
    # Answers are remembered for a second: the correction shows within that time.
    body = wait_for(lambda: (found := client.get(f"/api/verify/{second['payload']}").json())
                    ["outcome"] == "superseded" and found, timeout=3)
    assert not body["current"]
    assert body["certificate"]["name"] == "Amani Banda"  # what the old paper says
    page = client.get(f"/verify/{second['payload']}")
    assert 'data-outcome="superseded"' in page.text and "corrected" in page.text
    # The revoked one stays revoked; a new print states the corrected name.
    assert client.get(f"/api/verify/{cert['payload']}").json()["outcome"] == "revoked"
    third = print_cert(client, agent, record["id"], reprintReason="Corrected").json()
    fresh = client.get(f"/api/verify/{third['payload']}").json()
    assert fresh["outcome"] == "valid" and fresh["certificate"]["name"] == "Amani Banda-Phiri"


def test_verifications_are_logged_and_rate_limited(client: TestClient, ctx: AppContext) -> None:
    _record, cert, _agent = _printed(client, ctx)
    ctx.verify_limit = TokenBucket(0.01, 3)
    codes = [client.get(f"/api/verify/{cert['payload']}").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get(f"/api/verify/{cert['payload']}")
    assert issue_code(limited) == "CRT-429-001" and int(limited.headers["Retry-After"]) >= 1
    assert client.get(f"/verify/{cert['payload']}").status_code == 429
    # Checks are written in batches (at most a second apart): what is not written yet is queued.
    queued = [c.outcome for c in ctx.verify_cache.drain() if c.certificate_id == cert["id"]]
    assert sorted(_logged(ctx, cert["id"]) + queued) == ["valid", "valid", "valid"]


def test_checks_are_logged_when_due(client: TestClient, ctx: AppContext,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _record, cert, _agent = _printed(client, ctx)
    monkeypatch.setattr("crvshub.certificate.cache.FLUSH_SECONDS", 0.0)
    client.get(f"/api/verify/{cert['payload']}")
    client.get(f"/verify/{cert['payload'][:-3]}AAA")
    client.get(f"/api/verify/{cert['payload']}")
    assert _logged(ctx, cert["id"]) == ["valid", "valid"]
    with ctx.db.sessionmaker() as session:
        from sqlalchemy import text

        outcomes = session.execute(text("SELECT outcome FROM certificate_checks")).scalars().all()
    assert sorted(outcomes) == ["invalid", "valid", "valid"]


def _logged(ctx: AppContext, certificate_id: str) -> list[str]:
    from sqlalchemy import text

    with ctx.db.sessionmaker() as session:
        return list(session.execute(text(
            "SELECT outcome FROM certificate_checks WHERE certificate_id = :c"),
            {"c": certificate_id}).scalars().all())


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_verify_certificate_command_offline(client: TestClient, ctx: AppContext,
                                            tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from crvshub.cli import app

    _record, cert, agent = _printed(client, ctx)
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(client.get(cert["pdf"], headers=bearer(agent)).content)
    keys = tmp_path / "jwks.json"
    keys.write_text(client.get("/.well-known/jwks.json").text)
    runner = CliRunner()
    for argument in (str(pdf), cert["payload"], f"http://x/verify/{cert['payload']}"):
        result = runner.invoke(app, ["verify-certificate", argument, "--jwks", str(keys)])
        assert result.exit_code == 0, result.output
        out = json.loads(result.output)
        assert out["valid"] and out["certificate"]["certificateId"] == cert["id"]
    header, payload, signature = cert["payload"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered = f"{header}.{_b64({**claims, 'd': '2020-01-01'})}.{signature}"
    result = runner.invoke(app, ["verify-certificate", tampered, "--jwks", str(keys)])
    assert result.exit_code == 1 and not json.loads(result.output)["valid"]
    result = runner.invoke(app, ["verify-certificate", "hello", "--jwks", str(keys)])
    assert result.exit_code == 2
