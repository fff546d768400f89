"""Callers' message signatures: keys registered per client, checked on every message.

Every client registers a public key (a JWK: RSA, EC P-256 or Ed25519) and signs every
message (only `CRVSHUB_DCI_ALLOW_UNSIGNED`, a local-demo opt-in, lets clients without a key
send unsigned ones): the `signature` is a compact JWS (RS256, ES256 or EdDSA) whose claims carry
`digest` = the SHA-256 of `{header, message}` as sorted compact JSON (`service.digest`),
and `exp` (at most an hour after `iat`). The same scheme as the server's own signatures.

A process remembers each client's parsed key for `KEY_CACHE_SECONDS`, so that a search does
not read and parse it on every message; registering or removing a key through this process
takes effect at once, through another process (the CLI, another server) within that time.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy.orm import Session

from crvshub.db import utcnow
from crvshub.dci import repository
from crvshub.dci.errors import EnvelopeInvalid, SignatureInvalid, SignatureMissing
from crvshub.dci.models import DciClientKey

ALGORITHMS = {"RSA": "RS256", "EC": "ES256", "OKP": "EdDSA"}
MAX_LIFETIME = 3600
KEY_CACHE_SECONDS = 5.0
KEY_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class _ClientKey:
    algorithm: str
    public: Any  # the key object ready for verification


_cache: dict[str, tuple[float, _ClientKey | None]] = {}
_cache_lock = threading.Lock()


def forget_cached(client_row_id: str | None = None) -> None:
    """Drop the remembered key of a client (of every client when None)."""
    with _cache_lock:
        if client_row_id is None:
            _cache.clear()
        else:
            _cache.pop(client_row_id, None)


def _client_key(session: Session, client_row_id: str) -> _ClientKey | None:
    now = time.monotonic()
    cached = _cache.get(client_row_id)
    if cached is not None and now - cached[0] < KEY_CACHE_SECONDS:
        return cached[1]
    row = repository.client_key(session, client_row_id)
    found = None
    if row is not None:
        algorithm = ALGORITHMS[str(row.jwk.get("kty"))]
        found = _ClientKey(algorithm, jwt.PyJWK(row.jwk, algorithm).key)
    with _cache_lock:
        while len(_cache) >= KEY_CACHE_SIZE:
            del _cache[next(iter(_cache))]
        _cache[client_row_id] = (now, found)
    return found


def parse_jwk(jwk: Any) -> tuple[dict[str, Any], str]:
    """Return a public JWK and its kid, or raise EnvelopeInvalid (private keys refused)."""
    if isinstance(jwk, str):
        try:
            jwk = json.loads(jwk)
        except ValueError:
            raise EnvelopeInvalid("The key must be a JWK (JSON)") from None
    if not isinstance(jwk, dict) or jwk.get("kty") not in ALGORITHMS:
        raise EnvelopeInvalid("The key must be a public JWK of kty RSA, EC (P-256) or OKP "
                              "(Ed25519)")
    if "d" in jwk:
        raise EnvelopeInvalid("That is a private key: register the public part only")
    try:
        jwt.PyJWK(jwk, ALGORITHMS[str(jwk["kty"])])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise EnvelopeInvalid(f"The key is not a usable JWK: {exc}") from None
    kid = str(jwk.get("kid") or "")[:128] or "default"
    return dict(jwk), kid


def register_key(session: Session, client_row_id: str, jwk: Any) -> str:
    """Register (or replace) a client's public signing key; return its kid."""
    public, kid = parse_jwk(jwk)
    repository.set_client_key(session, DciClientKey(client_id=client_row_id, kid=kid,
                                                    jwk=public, created_at=utcnow()))
    forget_cached(client_row_id)
    return kid


def remove_key(session: Session, client_row_id: str) -> bool:
    """Forget a client's signing key (its messages are refused until it registers another)."""
    removed = repository.remove_client_key(session, client_row_id)
    forget_cached(client_row_id)
    return removed


def verify(session: Session, client_row_id: str, signature: Any, expected_digest: str, *,
           allow_unsigned: bool = False) -> None:
    """Check a message's signature against the client's registered key.

    A client without a key is refused (`err.signature.missing`), unless `allow_unsigned`
    (`CRVSHUB_DCI_ALLOW_UNSIGNED`) and the message is unsigned.
    """
    key = _client_key(session, client_row_id)
    unsigned = not isinstance(signature, str) or not signature.strip()
    if key is None:
        if allow_unsigned and unsigned:
            return
        if not unsigned:
            raise SignatureInvalid("Your client has no signing key registered to check this "
                                   "signature with: register its public key first")
        raise SignatureMissing("Your client has no signing key registered: register its "
                               "public key (crvshub dci set-key) and sign every message "
                               "(see docs/integrations/dci.md)")
    if unsigned:
        raise SignatureMissing("Sign every message with your registered key "
                               "(see docs/integrations/dci.md)")
    try:
        claims = jwt.decode(signature.strip(), key.public, algorithms=[key.algorithm],
                            options={"require": ["exp", "digest"]})
    except jwt.ExpiredSignatureError:
        raise SignatureInvalid("The signature has expired") from None
    except jwt.PyJWTError as exc:
        raise SignatureInvalid(f"The signature does not verify with your key: {exc}") from None
    issued = claims.get("iat")
    if isinstance(issued, int | float) and claims["exp"] - issued > MAX_LIFETIME:
        raise SignatureInvalid("A signature may live at most an hour (exp - iat)")
    if claims.get("digest") != expected_digest:
        raise SignatureInvalid("The signature does not cover this header and message")
