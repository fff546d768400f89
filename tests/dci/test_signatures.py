"""Callers' signatures: a client with a registered key must sign; bad signatures refused."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.dci.service import digest
from tests.dci import schema
from tests.dci.helpers import item, post, search_body, sp_client
from tests.helpers import NATLSYSADMIN, bearer, user_token

SYNC = "/registry/sync/search"


def _public_jwk(key: Ed25519PrivateKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
    jwk["kid"] = "sp-key-1"
    return jwk


def _signed(body: dict[str, Any], key: Ed25519PrivateKey, *, lifetime: int = 300,
            issued: float | None = None) -> dict[str, Any]:
    now = int(issued if issued is not None else time.time())
    claims = {"iat": now, "exp": now + lifetime,
              "digest": digest(body["header"], body["message"])}
    return {**body, "signature": jwt.encode(claims, key, algorithm="EdDSA")}


def test_a_client_with_a_key_must_sign_and_bad_signatures_are_refused(
        client: TestClient, ctx: AppContext) -> None:
    _, sender, token = sp_client(ctx)
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

    body = search_body(sender, item("idtype-value", {"type": "BRN", "value": "x"}))
    cases = [
        (body, "err.signature.missing"),
        (_signed(body, Ed25519PrivateKey.generate()), "err.signature.invalid"),
        ({**_signed(body, key), "message": {**body["message"], "transaction_id": "changed"}},
         "err.signature.invalid"),
        (_signed(body, key, issued=time.time() - 7200), "err.signature.invalid"),
        ({**body, "signature": "Signature: namespace=\"dci\""}, "err.signature.invalid"),
    ]
    for sent, code in cases:
        answer = post(client, token, SYNC, sent)
        assert answer.status_code == 401, answer.text
        schema.error(answer.json())
        assert answer.json()["errors"][0]["code"] == code
    good = _signed(body, key)
    schema.request(SYNC, good)
    answer = post(client, token, SYNC, good)
    assert answer.status_code == 200, answer.text
    removed = client.delete(f"/registry/clients/{sender}/signing-key", headers=admin)
    assert removed.json() == {"client_id": sender, "removed": True}
    assert post(client, token, SYNC, body).status_code == 200


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
        _, sender, token = sp_client(ctx)
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
        assert post(client, token, SYNC, body).status_code == 200
        missing = CliRunner().invoke(cli.app, ["dci", "set-key", "no-such-client", str(path)])
        assert missing.exit_code == 1
    finally:
        get_settings.cache_clear()
