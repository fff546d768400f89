"""Callers' signatures: a client with a registered key must sign; bad signatures refused."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.dci import schema
from tests.dci.helpers import (
    item,
    post,
    public_jwk,
    search_body,
    sign,
    sp_client,
    verify_server_signature,
)
from tests.helpers import NATLSYSADMIN, bearer, user_token

SYNC = "/registry/sync/search"


def _public_jwk(key: Ed25519PrivateKey) -> dict[str, Any]:
    return public_jwk(key)


def _signed(body: dict[str, Any], key: Ed25519PrivateKey, *, lifetime: int = 300,
            issued: float | None = None) -> dict[str, Any]:
    return sign(body, key, lifetime=lifetime, issued=issued)


def test_every_client_must_sign_and_bad_signatures_are_refused(
        client: TestClient, ctx: AppContext) -> None:
    _, sender, token = sp_client(ctx, key=False)
    body = search_body(sender, item("idtype-value", {"type": "BRN", "value": "x"}))
    for sent, code in ((body, "err.signature.missing"),
                       (_signed(body, Ed25519PrivateKey.generate()), "err.signature.invalid")):
        answer = client.post(SYNC, json=sent, headers=bearer(token))
        assert answer.status_code == 401, "no key registered: nothing is accepted"
        assert answer.json()["errors"][0]["code"] == code
    key = Ed25519PrivateKey.generate()
    admin = bearer(user_token(ctx, NATLSYSADMIN))
    private = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key))
    refused = client.put(f"/registry/clients/{sender}/signing-key", json=private,
                         headers=admin)
    assert refused.status_code == 400, "a private key is refused"
    put = client.put(f"/registry/clients/{sender}/signing-key", json=_public_jwk(key),
                     headers=admin)
    assert put.status_code == 200, put.text
    assert put.json() == {"client_id": sender, "kid": "sp-key-1"}
    assert client.put(f"/registry/clients/{sender}/signing-key", json=_public_jwk(key),
                      headers=bearer(token)).status_code == 403

    cases = [
        (body, "err.signature.missing"),
        (_signed(body, Ed25519PrivateKey.generate()), "err.signature.invalid"),
        ({**_signed(body, key), "message": {**body["message"], "transaction_id": "changed"}},
         "err.signature.invalid"),
        (_signed(body, key, issued=time.time() - 7200), "err.signature.invalid"),
        ({**body, "signature": "Signature: namespace=\"dci\""}, "err.signature.invalid"),
    ]
    for sent, code in cases:
        answer = client.post(SYNC, json=sent, headers=bearer(token))
        assert answer.status_code == 401, answer.text
        schema.error(answer.json())
        assert answer.json()["errors"][0]["code"] == code
    good = _signed(body, key)
    schema.request(SYNC, good)
    answer = client.post(SYNC, json=good, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    removed = client.delete(f"/registry/clients/{sender}/signing-key", headers=admin)
    assert removed.json() == {"client_id": sender, "removed": True}
    for sent in (body, good):
        answer = client.post(SYNC, json=sent, headers=bearer(token))
        assert answer.status_code == 401, "a client whose key was removed is refused"


def test_the_cli_registers_and_removes_a_key(client: TestClient, ctx: AppContext,
                                             settings: Any, monkeypatch: Any,
                                             tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from crvshub import cli
    from crvshub.settings import get_settings

    monkeypatch.setenv("CRVSHUB_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CRVSHUB_ENVIRONMENT", "test")
    monkeypatch.setenv("CRVSHUB_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    try:
        _, sender, token = sp_client(ctx, key=False)
        key = Ed25519PrivateKey.generate()
        path = tmp_path / "sp.jwk.json"
        path.write_text(json.dumps(_public_jwk(key)))
        if not any(group.name == "dci" for group in cli.app.registered_groups):
            cli.register_feature_commands()
        result = CliRunner().invoke(cli.app, ["dci", "set-key", sender, str(path)])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == {"client_id": sender, "kid": "sp-key-1"}
        body = search_body(sender, item("idtype-value", {"type": "BRN", "value": "x"}))
        assert post(client, token, SYNC, body).json()["errors"][0]["code"] == \
            "err.signature.missing"
        assert post(client, token, SYNC, _signed(body, key)).status_code == 200
        result = CliRunner().invoke(cli.app, ["dci", "remove-key", sender])
        assert result.exit_code == 0, result.output
        assert post(client, token, SYNC, _signed(body, key)).status_code == 401
        missing = CliRunner().invoke(cli.app, ["dci", "set-key", "no-such-client", str(path)])
        assert missing.exit_code == 1
    finally:
        get_settings.cache_clear()


def test_unsigned_messages_pass_only_with_the_demo_opt_in(settings: Any) -> None:
    from crvshub.app import create_app
    from tests.helpers import new_client

    for allowed in (False, True):
        chosen = settings.model_copy(update={"dci_allow_unsigned": allowed})
        assert any("CRVSHUB_DCI_ALLOW_UNSIGNED" in line
                   for line in chosen.insecure_opt_ins()) is allowed
        app = create_app(chosen, start_worker=False)
        with TestClient(app) as served:
            creds, token = new_client(app.state.ctx, "RECORD_SEARCH", name=f"demo {allowed}")
            body = search_body(creds.client.client_id,
                               item("idtype-value", {"type": "BRN", "value": "x"}))
            answer = served.post(SYNC, json=body, headers=bearer(token))
            assert answer.status_code == (200 if allowed else 401), answer.text
            # A signature still has to verify: with no key it cannot.
            forged = _signed(body, Ed25519PrivateKey.generate())
            assert served.post(SYNC, json=forged, headers=bearer(token)).status_code == 401


def _brn_search(client: TestClient, token: str, sender: str) -> dict[str, Any]:
    body = search_body(sender, item("idtype-value", {"type": "BRN", "value": "x"}))
    answer = post(client, token, SYNC, body)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def test_answers_are_signed_with_a_rotatable_ed25519_key(client: TestClient,
                                                        ctx: AppContext) -> None:
    from crvshub.auth import keys

    _, sender, token = sp_client(ctx)
    before = _brn_search(client, token, sender)
    verify_server_signature(client, before, "EdDSA")
    published = client.get("/.well-known/jwks.json").json()["keys"]
    okp = [k for k in published if k["kty"] == "OKP"]
    assert len(okp) == 1 and okp[0]["crv"] == "Ed25519" and "d" not in okp[0]
    assert any(k["alg"] == "RS256" for k in published), "the token key stays published"
    # The message key signs messages only: a token it signed is refused.
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = ctx.keys.sign(claims, keys.MESSAGE_ALGORITHM)
    assert client.get("/api/auth/me", headers=bearer(forged)).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200

    with ctx.db.transaction() as session:
        keys.rotate(session, ctx.settings.derived_key("encryption"))
        ctx.keys.load(session)
    after = _brn_search(client, token, sender)
    kid = jwt.get_unverified_header
    assert kid(after["signature"])["kid"] != kid(before["signature"])["kid"]
    # During the rotation both keys are published: what the old key signed still verifies.
    verify_server_signature(client, before, "EdDSA")
    verify_server_signature(client, after, "EdDSA")


def test_rs256_signatures_on_request(settings: Any) -> None:
    from crvshub.app import create_app

    chosen = settings.model_copy(update={"dci_signing_algorithm": "RS256"})
    app = create_app(chosen, start_worker=False)
    with TestClient(app) as served:
        _, sender, token = sp_client(app.state.ctx)
        answer = _brn_search(served, token, sender)
        verify_server_signature(served, answer, "RS256")


def test_a_key_removed_by_another_process_stops_working_within_the_cache_time(
        client: TestClient, ctx: AppContext, monkeypatch: Any) -> None:
    from crvshub.dci import repository, signing

    row_id, sender, token = sp_client(ctx)
    body = search_body(sender, item("idtype-value", {"type": "BRN", "value": "x"}))
    assert post(client, token, SYNC, body).status_code == 200
    with ctx.db.transaction() as session:  # as `crvshub dci remove-key` does, elsewhere
        assert repository.remove_client_key(session, row_id)
    assert post(client, token, SYNC, body).status_code == 200, "the key is remembered"
    monkeypatch.setattr(signing, "KEY_CACHE_SECONDS", 0.0)  # the cache time has passed
    refused = post(client, token, SYNC, body)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["code"] == "err.signature.invalid"
