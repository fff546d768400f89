"""DCI test helpers: a social-protection client, envelopes, registered records."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.dci.service import digest
from tests.dci import schema
from tests.helpers import bearer, new_client
from tests.notification.helpers import example, fresh_ids
from tests.record.graphql_helpers import birth, notify, register

STANDARD_SAMPLE = schema.STANDARD


def sample(name: str) -> dict[str, Any]:
    """Return one of the standard's vendored sample messages."""
    data: dict[str, Any] = json.loads((STANDARD_SAMPLE / f"{name}.json").read_text())
    return data


# The private key of each test client that registered one, by its token (`post` signs).
KEYS: dict[str, Ed25519PrivateKey] = {}


def public_jwk(key: Ed25519PrivateKey, kid: str = "sp-key-1") -> dict[str, Any]:
    """Return the public JWK of a client's Ed25519 key."""
    jwk: dict[str, Any] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
    jwk["kid"] = kid
    return jwk


def give_key(ctx: AppContext, client_id: str, token: str) -> Ed25519PrivateKey:
    """Register a new public key for a client (as `crvshub dci set-key` does); `post` signs."""
    from crvshub.dci import service as dci_service

    key = Ed25519PrivateKey.generate()
    with ctx.db.transaction() as session:
        dci_service.set_client_key(session, client_id, public_jwk(key))
    KEYS[token] = key
    return key


def sp_client(ctx: AppContext, quota: int = 2000, *, key: bool = True) -> tuple[str, str, str]:
    """Create a RECORD_SEARCH client with a signing key (unless not `key`): (row id,
    client_id, token)."""
    creds, token = new_client(ctx, "RECORD_SEARCH", name=f"SP {uuid.uuid4().hex[:6]}",
                              daily_quota=quota)
    if key:
        give_key(ctx, creds.client.client_id, token)
    return creds.client.id, creds.client.client_id, token


def sign(body: dict[str, Any], key: Ed25519PrivateKey, *, lifetime: int = 300,
         issued: float | None = None) -> dict[str, Any]:
    """Return a message signed as docs/integrations/dci.md says (EdDSA JWS with `digest`)."""
    now = int(issued if issued is not None else time.time())
    claims = {"iat": now, "exp": now + lifetime,
              "digest": digest(body.get("header"), body.get("message"))}
    return {**body, "signature": jwt.encode(claims, key, algorithm="EdDSA")}


def signed_for(token: str, body: Any) -> Any:
    """Return a body signed with the key of the token's client (as given when it has none)."""
    if not isinstance(body, dict) or "signature" in body or token not in KEYS:
        return body
    try:
        return sign(body, KEYS[token])
    except (TypeError, ValueError):  # a fuzzed message JSON cannot encode: sent unsigned
        return body


def now_ts() -> str:
    """Return the current instant in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def header(sender: str, action: str = "search", total: int = 1, **extra: Any) -> dict[str, Any]:
    """Return a `MsgHeader_V1.0.0`."""
    return {"version": "1.0.0", "message_id": str(uuid.uuid4()), "message_ts": now_ts(),
            "action": action, "sender_id": sender, "receiver_id": "crvshub",
            "total_count": total, "is_msg_encrypted": False, **extra}


def item(query_type: str, query: Any, reference: str = "r1", **criteria: Any,
         ) -> dict[str, Any]:
    """Return one `search_request` item."""
    return {"reference_id": reference, "timestamp": now_ts(),
            "search_criteria": {"version": "1.0.0", "reg_type": "ns:org:RegistryType:Civil",
                                "query_type": query_type, "query": query, **criteria},
            "locale": "eng"}


def search_body(sender: str, *items: dict[str, Any], action: str = "search",
                **extra: Any) -> dict[str, Any]:
    """Return a search envelope."""
    return {"header": header(sender, action, len(items), **extra),
            "message": {"transaction_id": f"txn-{uuid.uuid4().hex[:8]}",
                        "search_request": list(items)}}


def post(client: TestClient, token: str, path: str, body: Any) -> Any:
    """POST a DCI envelope, signed with the client's key unless it carries a signature."""
    return client.post(path, json=signed_for(token, body), headers=bearer(token))


def registered_birth(client: TestClient, ctx: AppContext, **kwargs: Any) -> str:
    """Notify and register a birth; return its record id."""
    record_id = notify(client, ctx, birth(**kwargs))
    register(client, ctx, record_id)
    return record_id


def death_bundle(given: str = "Peter", nid: str = "5555444433") -> dict[str, Any]:
    """Return a full death notification with the deceased's name and national ID."""
    bundle = fresh_ids(example("death-full"))
    deceased = next(e["resource"] for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "Patient")
    deceased["name"] = [{"use": "en", "given": [given], "family": "Zulu"}]
    deceased["identifier"][0]["value"] = nid
    return bundle


def registration_number(ctx: AppContext, record_id: str) -> str:
    """Return a record's registration number."""
    from crvshub.record import service as record_service

    with ctx.db.transaction() as session:
        record = record_service.find(session, record_id)
        assert record is not None and record.registration_number
        return record.registration_number


def verify_server_signature(client: TestClient, sent: dict[str, Any],
                            algorithm: str = "EdDSA") -> dict[str, Any]:
    """Check a message of the server as a receiver does: the JWKS key its `kid` names, that
    key's `alg` only, the `digest` claim against the header and message; return the claims."""
    protected = jwt.get_unverified_header(sent["signature"])
    jwk = next(k for k in client.get("/.well-known/jwks.json").json()["keys"]
               if k["kid"] == protected["kid"])
    assert protected["alg"] == jwk["alg"] == algorithm
    claims: dict[str, Any] = jwt.decode(sent["signature"], jwt.PyJWK(jwk).key,
                                        algorithms=[jwk["alg"]])
    assert claims["digest"] == digest(sent["header"], sent["message"])
    return claims
