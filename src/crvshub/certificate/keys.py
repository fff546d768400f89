"""The EC P-256 keys that sign certificate payloads (ES256 compact JWS), published in the JWKS.

Access tokens are signed with RSA keys; a certificate's QR code must stay small, and an RS256
signature alone is 342 characters, so certificates have their own ES256 keys (86 characters
of signature). They are created on first use, stored encrypted like the token keys, and
published beside them in /.well-known/jwks.json; a key is never deleted, so every certificate
ever printed stays verifiable.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from crvshub.auth import crypto
from crvshub.certificate import repository
from crvshub.certificate.domain import PAYLOAD_TYPE
from crvshub.certificate.models import CertificateKey
from crvshub.db import utcnow

_KEY_CONTEXT = b"crvshub:certificate-key"
ALGORITHM = "ES256"
RELOAD_SECONDS = 30.0


class PayloadInvalid(Exception):
    """A payload is not a certificate JWS signed by one of our keys."""


@dataclass(frozen=True)
class _Key:
    kid: str
    status: str
    private_key: Any
    public_key: Any


def _b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(kid: str, public_key: Any) -> dict[str, str]:
    """Return the JWK of an EC P-256 public key."""
    numbers = public_key.public_numbers()
    return {
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": ALGORITHM, "kid": kid,
        "x": _b64u(numbers.x.to_bytes(32, "big")), "y": _b64u(numbers.y.to_bytes(32, "big")),
    }


class CertificateKeys:
    """This process's certificate keys, loaded from the database and reloaded now and then."""

    def __init__(self, encryption_key: bytes) -> None:
        self._encryption_key = encryption_key
        self._keys: dict[str, _Key] = {}
        self._loaded_at = -1e9
        self._lock = threading.Lock()

    def load(self, session: Session) -> None:
        """Read every key from the database."""
        loaded = {}
        for row in repository.keys(session):
            pem = crypto.decrypt(row.private_pem_enc, self._encryption_key, context=_KEY_CONTEXT)
            private = serialization.load_pem_private_key(pem, password=None)
            loaded[row.kid] = _Key(row.kid, row.status, private, private.public_key())
        with self._lock:
            self._keys = loaded
            self._loaded_at = time.monotonic()

    def refresh(self, session: Session, *, kid: str | None = None) -> None:
        """Reload when stale, or when a payload names a key this process has not seen."""
        stale = time.monotonic() - self._loaded_at > RELOAD_SECONDS
        if stale or (kid is not None and kid not in self._keys):
            self.load(session)

    def ensure(self, session: Session) -> None:
        """Load the keys, creating the first one when there is none."""
        self.refresh(session)
        if self._active() is None:
            self.load(session)
        if self._active() is None:
            generate(session, self._encryption_key)
            session.flush()
            self.load(session)

    def _active(self) -> _Key | None:
        actives = [k for k in self._keys.values() if k.status == "active"]
        return actives[-1] if actives else None

    def sign(self, claims: dict[str, Any], typ: str = PAYLOAD_TYPE) -> tuple[str, str]:
        """Return a compact ES256 JWS of the claims and the id of the key that signed it."""
        key = self._active()
        if key is None:
            raise RuntimeError("no certificate key loaded: call ensure() first")
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM,
                           headers={"kid": key.kid, "typ": typ})
        return token, key.kid

    def verify(self, session: Session, token: str, *,
               types: frozenset[str] = frozenset({PAYLOAD_TYPE}),
               required: str = "id") -> dict[str, Any]:
        """Return the claims of a payload signed by one of our keys, or raise PayloadInvalid."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise PayloadInvalid("not a signed certificate payload") from None
        kid = str(header.get("kid", ""))
        if header.get("alg") != ALGORITHM or header.get("typ") not in types:
            raise PayloadInvalid("not a certificate payload")
        self.refresh(session, kid=kid)
        key = self._keys.get(kid)
        if key is None:
            raise PayloadInvalid("signed by a key this server never published")
        try:
            # iat is a claim of the credential, not a validity window: never reject on time.
            found: dict[str, Any] = jwt.decode(token, key.public_key, algorithms=[ALGORITHM],
                                               options={"require": [required],
                                                        "verify_iat": False})
        except jwt.PyJWTError:
            raise PayloadInvalid("the signature does not match the content") from None
        return found

    def jwks(self, session: Session) -> list[dict[str, str]]:
        """Return the JWK of every certificate key (creating none)."""
        self.refresh(session)
        return [public_jwk(k.kid, k.public_key) for k in self._keys.values()]


def generate(session: Session, encryption_key: bytes) -> CertificateKey:
    """Create and store a new active P-256 key."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    row = CertificateKey(
        kid="c" + uuid.uuid4().hex[:5],  # short: it is printed in every QR code
        private_pem_enc=crypto.encrypt(pem, encryption_key, context=_KEY_CONTEXT),
        public_pem=public_pem, status="active", created_at=utcnow(),
    )
    repository.add(session, row)
    return row
