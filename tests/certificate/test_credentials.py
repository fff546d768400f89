"""Wallet credentials (SD-JWT VC): issued for a registered record, checked here with a generic
JOSE library and an independent SHA-256 of each disclosure, and verified by /verify and the CLI
as genuine, altered, foreign, unknown, revoked and superseded."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from joserfc import jws
from joserfc.jwk import KeySet

from crvshub.context import AppContext
from tests.certificate.helpers import registered
from tests.helpers import LOCAL_REGISTRAR, REGISTRATION_AGENT, bearer, user_token, wait_for
from tests.record.helpers import act, birth_bundle, declare, issue_code


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _issued(client: TestClient, ctx: AppContext) -> tuple[dict[str, Any], dict[str, Any], str]:
    record = registered(client, ctx)
    agent = user_token(ctx, REGISTRATION_AGENT)
    issued = client.post(f"/api/records/{record['id']}/credentials", headers=bearer(agent))
    assert issued.status_code == 201, issued.text
    assert issued.headers["Location"] == f"/api/credentials/{issued.json()['id']}"
    return record, issued.json(), agent


def _disclosures(sd_jwt: str) -> dict[str, tuple[str, Any]]:
    """Return each disclosure by claim name: (its text, its value), decoded by hand."""
    found = {}
    for text in sd_jwt.split("~")[1:-1]:
        _salt, name, value = json.loads(_unb64(text))
        found[name] = (text, value)
    return found


def _present(issuer_jwt: str, disclosures: list[str]) -> str:
    return "~".join([issuer_jwt, *disclosures]) + "~"


def test_credential_verifies_with_a_generic_jose_library_and_sha256(client: TestClient,
                                                                    ctx: AppContext) -> None:
    record, cred, agent = _issued(client, ctx)
    sd_jwt = cred["credential"]
    assert sd_jwt.endswith("~") and cred["format"] == "dc+sd-jwt"
    issuer_jwt = sd_jwt.split("~")[0]
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
    verified = jws.deserialize_compact(issuer_jwt, keys, algorithms=["ES256"])
    header, claims = verified.protected, json.loads(verified.payload)
    assert header["typ"] == "dc+sd-jwt" and header["kid"] == cred["keyId"]
    assert claims["iss"] == ctx.settings.base_url and isinstance(claims["iat"], int)
    assert claims["vct"] == f"{ctx.settings.base_url}/credentials/types/birth-registration"
    assert claims["jti"] == cred["id"] and claims["_sd_alg"] == "sha-256"
    assert claims["registration_number"] == record["registrationNumber"]
    # Nothing personal in the signed part: names, dates and parents are only digests.
    assert "Amani" not in json.dumps(claims) and "2026-11-01" not in json.dumps(claims)
    disclosures = _disclosures(sd_jwt)
    for text, _value in disclosures.values():
        assert _b64(hashlib.sha256(text.encode("ascii")).digest()) in claims["_sd"]
    assert len(claims["_sd"]) == len(disclosures)
    assert disclosures["name"][1] == "Amani Banda"
    assert disclosures["event_date"][1] == "2026-11-01"
    assert {"mother", "event_place", "gender", "registered_at"} <= set(disclosures)

    body = client.get(f"/api/verify/{sd_jwt}").json()
    assert body["outcome"] == "valid" and body["genuine"] and body["current"]
    assert body["kind"] == "credential"
    facts = body["certificate"]
    assert facts["credentialId"] == cred["id"] and facts["name"] == "Amani Banda"
    assert facts["mother"] == disclosures["mother"][1]

    history = client.get(f"/api/records/{record['id']}", headers=bearer(agent)).json()["history"]
    issued = [h for h in history if h["action"] == "credential-issued"]
    assert len(issued) == 1 and issued[0]["data"]["credentialId"] == cred["id"]
    again = client.get(f"/api/credentials/{cred['id']}", headers={
        **bearer(agent), "Accept": "application/dc+sd-jwt"})
    assert again.status_code == 200 and again.text == sd_jwt
    assert again.headers["content-type"].startswith("application/dc+sd-jwt")
    history = client.get(f"/api/records/{record['id']}", headers=bearer(agent)).json()["history"]
    assert any(h["action"] == "credential-downloaded" for h in history)


def test_selective_disclosure_shows_only_what_the_holder_chose(client: TestClient,
                                                               ctx: AppContext) -> None:
    _record, cred, _agent = _issued(client, ctx)
    issuer_jwt = cred["credential"].split("~")[0]
    disclosures = _disclosures(cred["credential"])
    mother = disclosures["mother"][1]["name"]
    only_name = _present(issuer_jwt, [disclosures["name"][0]])
    answer = client.get(f"/api/verify/{only_name}")
    body = answer.json()
    assert body["outcome"] == "valid" and body["certificate"]["name"] == "Amani Banda"
    assert body["certificate"]["disclosed"] == ["name"]
    assert "eventDate" not in body["certificate"] and "mother" not in body["certificate"]
    page = client.get(f"/verify/{only_name}")
    assert 'data-outcome="valid"' in page.text and "Amani Banda" in page.text
    for hidden in (mother, "2026-11-01"):
        assert hidden not in page.text and hidden not in answer.text
    # With no disclosure at all: still genuine, only the registration number is shown.
    bare = client.get(f"/api/verify/{_present(issuer_jwt, [])}").json()
    assert bare["outcome"] == "valid" and "name" not in bare["certificate"]


def test_tampered_foreign_and_unknown_credentials(client: TestClient, ctx: AppContext) -> None:
    _record, cred, _agent = _issued(client, ctx)
    issuer_jwt = cred["credential"].split("~")[0]
    disclosures = _disclosures(cred["credential"])
    salt = json.loads(_unb64(disclosures["name"][0]))[0]
    forged = _b64(json.dumps([salt, "name", "Someone Else"]).encode())
    tampered = _present(issuer_jwt, [forged, disclosures["event_date"][0]])
    body = client.get(f"/api/verify/{tampered}").json()
    assert body["outcome"] == "invalid" and not body["genuine"] and body["certificate"] is None
    page = client.get(f"/verify/{tampered}")
    assert 'data-outcome="invalid"' in page.text and "Someone Else" not in page.text
    # A disclosure repeated, or one of another credential, is refused too.
    twice = _present(issuer_jwt, [disclosures["name"][0], disclosures["name"][0]])
    assert client.get(f"/api/verify/{twice}").json()["outcome"] == "invalid"

    # The same claims signed by a key that is not the server's (same kid): wrong key.
    header = jwt.get_unverified_header(issuer_jwt)
    claims = json.loads(_unb64(issuer_jwt.split(".")[1]))
    stranger = ec.generate_private_key(ec.SECP256R1())
    foreign = jwt.encode(claims, stranger, algorithm="ES256", headers=header)
    wrong_key = _present(foreign, [disclosures["name"][0]])
    assert client.get(f"/api/verify/{wrong_key}").json()["outcome"] == "invalid"
    # Claims altered in the signed part (signature kept): invalid.
    altered = issuer_jwt.split(".")
    altered[1] = _b64(json.dumps({**claims, "registration_number": "2026B000000"}).encode())
    assert client.get(f"/api/verify/{_present('.'.join(altered), [])}").json()["outcome"] \
        == "invalid"

    with ctx.db.sessionmaker() as session:
        ctx.certificate_keys.ensure(session)
        never, _kid = ctx.certificate_keys.sign({**claims, "jti": "ZZZZZZZZZZZZ"}, "dc+sd-jwt")
    body = client.get(f"/api/verify/{_present(never, [disclosures['name'][0]])}").json()
    assert body["outcome"] == "unknown" and body["genuine"] and not body["current"]
    assert body["certificate"] is None
    garbage = client.get("/api/verify/not-a-jws~abc~")
    assert garbage.status_code == 400 and issue_code(garbage) == "CRT-400-003"


def test_revoked_and_superseded_credentials(client: TestClient, ctx: AppContext) -> None:
    record, cred, agent = _issued(client, ctx)
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    second = client.post(f"/api/records/{record['id']}/credentials",
                         headers=bearer(agent)).json()
    refused = client.post(f"/api/credentials/{cred['id']}/revoke", json={"reason": "x"},
                          headers=bearer(agent))
    assert refused.status_code == 403
    revoked = client.post(f"/api/credentials/{cred['id']}/revoke", json={"reason": "Phone lost"},
                          headers=bearer(registrar))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    body = client.get(f"/api/verify/{cred['credential']}").json()
    assert body["outcome"] == "revoked" and body["genuine"] and not body["current"]
    assert client.get(f"/api/verify/{second['credential']}").json()["outcome"] == "valid"
    again = client.post(f"/api/credentials/{cred['id']}/revoke", json={"reason": "x"},
                        headers=bearer(registrar))
    assert again.status_code == 409 and issue_code(again) == "CRT-409-002"

    corrected = birth_bundle(given="Amani", family="Banda-Phiri")
    assert act(client, registrar, record["id"], "request-correction", reason="Family name",
               bundle=corrected).status_code == 200
    assert act(client, registrar, record["id"], "approve-correction").status_code == 200
    body = wait_for(lambda: (found := client.get(f"/api/verify/{second['credential']}").json())
                    ["outcome"] == "superseded" and found, timeout=3)
    assert not body["current"] and body["certificate"]["name"] == "Amani Banda"
    page = client.get(f"/verify/{second['credential']}")
    assert 'data-outcome="superseded"' in page.text and "corrected" in page.text
    assert client.get(f"/api/verify/{cred['credential']}").json()["outcome"] == "revoked"
    fresh = client.post(f"/api/records/{record['id']}/credentials", headers=bearer(agent)).json()
    assert _disclosures(fresh["credential"])["name"][1] == "Amani Banda-Phiri"
    history = client.get(f"/api/records/{record['id']}", headers=bearer(registrar)).json()
    revocation = [h for h in history["history"] if h["action"] == "credential-revoked"]
    assert revocation and revocation[0]["reason"] == "Phone lost"


def test_credentials_need_a_registered_record_and_staff(client: TestClient,
                                                        ctx: AppContext) -> None:
    agent = user_token(ctx, REGISTRATION_AGENT)
    draft = declare(client, agent, birth_bundle(given="Nia", family="Tembo"))
    refused = client.post(f"/api/records/{draft['id']}/credentials", headers=bearer(agent))
    assert refused.status_code == 409 and issue_code(refused) == "CRT-409-001"
    missing = client.get("/api/credentials/ZZZZZZZZZZZZ", headers=bearer(agent))
    assert missing.status_code == 404 and issue_code(missing) == "CRT-404-002"
    assert client.post(f"/api/records/{draft['id']}/credentials").status_code == 401


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_verify_certificate_command_reads_credentials(client: TestClient, ctx: AppContext,
                                                      tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from crvshub.cli import app

    _record, cred, _agent = _issued(client, ctx)
    keys = tmp_path / "jwks.json"
    keys.write_text(client.get("/.well-known/jwks.json").text)
    held = tmp_path / "credential.sd-jwt"
    held.write_text(cred["credential"])
    runner = CliRunner()
    for argument in (str(held), cred["credential"]):
        result = runner.invoke(app, ["verify-certificate", argument, "--jwks", str(keys)])
        assert result.exit_code == 0, result.output
        out = json.loads(result.output)
        assert out["valid"] and out["certificate"]["credentialId"] == cred["id"]
        assert out["certificate"]["name"] == "Amani Banda"
    issuer_jwt = cred["credential"].split("~")[0]
    salt = json.loads(_unb64(_disclosures(cred["credential"])["name"][0]))[0]
    forged = _b64(json.dumps([salt, "name", "Someone Else"]).encode())
    result = runner.invoke(app, ["verify-certificate", _present(issuer_jwt, [forged]),
                                 "--jwks", str(keys)])
    assert result.exit_code == 1 and "altered" in json.loads(result.output)["reason"]
    claims = json.loads(_unb64(issuer_jwt.split(".")[1]))
    stranger = ec.generate_private_key(ec.SECP256R1())
    foreign = jwt.encode(claims, stranger, algorithm="ES256",
                         headers=jwt.get_unverified_header(issuer_jwt))
    result = runner.invoke(app, ["verify-certificate", _present(foreign, []), "--jwks", str(keys)])
    assert result.exit_code == 1 and not json.loads(result.output)["valid"]


def test_a_status_changed_by_another_process_shows_within_a_second(client: TestClient,
                                                                   ctx: AppContext) -> None:
    from sqlalchemy import text

    from crvshub.db import utcnow

    _record, cred, _agent = _issued(client, ctx)
    assert client.get(f"/api/verify/{cred['credential']}").json()["outcome"] == "valid"
    # Another API process revokes it: this one hears of it only through the status feed.
    with ctx.db.transaction() as session:
        session.execute(text("UPDATE certificate_credentials SET status = 'revoked', "
                             "status_at = :at WHERE id = :id"), {"at": utcnow(), "id": cred["id"]})
    body = wait_for(lambda: (found := client.get(f"/api/verify/{cred['credential']}").json())
                    ["outcome"] == "revoked" and found, timeout=3)
    assert body["genuine"] and not body["current"]
