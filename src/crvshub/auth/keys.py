"""RSA signing keys for access tokens: generated on first start, persisted, rotatable."""

from __future__ import annotations

import base64
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.orm import Session

from crvshub.auth import crypto, repository
from crvshub.auth.models import SigningKey
from crvshub.db import utcnow
from crvshub.errors import TokenInvalid
from crvshub.settings import SettingsError

_KEY_CONTEXT = b"crvshub:signing-key"
# A token naming an unknown key triggers a reload at most this often, so garbage kids cannot
# turn every request into a database read.
UNKNOWN_KID_RELOAD_SECONDS = 1.0
# Verified tokens remembered per process, so that a client's next requests skip the RSA check
# (about a tenth of the CPU of a notification). Bounded; the oldest entries go first.
VERIFIED_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class _Verified:
    kid: str
    issuer: str
    audience: str
    claims: dict[str, Any]
    expires: float
    not_before: float


@dataclass(frozen=True)
class LoadedKey:
    """A signing key ready for use."""

    kid: str
    status: str
    public_pem: str
    private_key: Any
    public_key: Any


def _b64u(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def generate_key(session: Session, encryption_key: bytes) -> SigningKey:
    """Create a new active RSA-2048 key and store it, encrypted."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    key = SigningKey(
        kid=uuid.uuid4().hex[:16],
        private_pem_enc=crypto.encrypt(private_pem, encryption_key, context=_KEY_CONTEXT),
        public_pem=public_pem,
        status="active",
        created_at=utcnow(),
    )
    repository.add(session, key)
    return key


class KeyRing:
    """The published keys of this server, cached and reloaded when an unknown kid appears."""

    def __init__(self, encryption_key: bytes, *, reload_interval: float = 30.0) -> None:
        self._encryption_key = encryption_key
        self._keys: dict[str, LoadedKey] = {}
        self._lock = threading.Lock()
        self._loaded_at = 0.0
        self._reload_interval = reload_interval
        self._verified: dict[str, _Verified] = {}

    def load(self, session: Session) -> None:
        """Load the active and retired keys from the database."""
        rows = repository.published_keys(session)
        keys = {}
        for row in rows:
            try:
                pem = crypto.decrypt(row.private_pem_enc, self._encryption_key,
                                     context=_KEY_CONTEXT)
            except InvalidTag:
                raise SettingsError(
                    "CRVSHUB_ENCRYPTION_KEY (or CRVSHUB_SECRET_KEY) does not decrypt the stored "
                    "signing keys; if it changed, run `crvshub keys reencrypt` with the old one"
                ) from None
            private = serialization.load_pem_private_key(pem, password=None)
            keys[row.kid] = LoadedKey(
                row.kid, row.status, row.public_pem, private, private.public_key()
            )
        with self._lock:
            self._keys = keys
            self._loaded_at = time.monotonic()

    def ensure(self, session: Session) -> None:
        """Load the keys, generating the first one if there is none."""
        self.load(session)
        if not self.active():
            generate_key(session, self._encryption_key)
            session.flush()
            self.load(session)

    def needs_reload(self, token: str) -> bool:
        """Tell whether the keys are stale or the token names a key rotated in elsewhere."""
        if self.stale():
            return True
        known = self._verified.get(token)
        if known is not None and known.kid in self._keys:
            return False
        try:
            kid = str(jwt.get_unverified_header(token).get("kid", ""))
        except jwt.PyJWTError:
            return False
        recently = time.monotonic() - self._loaded_at < UNKNOWN_KID_RELOAD_SECONDS
        return bool(kid) and kid not in self._keys and not recently

    def refresh_for(self, session: Session, token: str) -> None:
        """Reload the keys if `needs_reload` says so."""
        if self.needs_reload(token):
            self.load(session)

    def stale(self) -> bool:
        """Tell whether the cache is older than the reload interval."""
        return time.monotonic() - self._loaded_at > self._reload_interval

    def active(self) -> LoadedKey | None:
        """Return the newest active key."""
        actives = [k for k in self._keys.values() if k.status == "active"]
        return actives[-1] if actives else None

    def published(self) -> list[LoadedKey]:
        """Return every key a verifier should accept."""
        return list(self._keys.values())

    def sign(self, claims: dict[str, Any]) -> str:
        """Sign claims as an RS256 JWT with the active key."""
        key = self.active()
        if key is None:
            raise RuntimeError("no active signing key: run `crvshub migrate` and start the server")
        return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid})

    def verify(self, token: str, *, issuer: str, audience: str) -> dict[str, Any]:
        """Verify a JWT signed by any published key and return its claims."""
        known = self._verified.get(token)
        if known is not None:
            now = time.time()
            if (known.kid in self._keys and known.issuer == issuer and known.audience == audience
                    and known.not_before <= now < known.expires):
                return dict(known.claims)
        claims, kid = self._verify_signature(token, issuer=issuer, audience=audience)
        self._remember(token, _Verified(
            kid, issuer, audience, dict(claims), float(claims["exp"]),
            float(claims["nbf"]) if isinstance(claims.get("nbf"), int | float) else 0.0,
        ))
        return claims

    def _remember(self, token: str, verified: _Verified) -> None:
        with self._lock:
            while len(self._verified) >= VERIFIED_CACHE_SIZE:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = verified

    def _verify_signature(
        self, token: str, *, issuer: str, audience: str
    ) -> tuple[dict[str, Any], str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenInvalid("The access token is not a well-formed JWT") from None
        key = self._keys.get(str(header.get("kid", "")))
        if key is None and len(self._keys) == 1 and "kid" not in header:
            key = next(iter(self._keys.values()))
        if key is None:
            raise TokenInvalid("The access token was signed by an unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public_key,
                algorithms=["RS256"],
                issuer=issuer,
                audience=audience,
                options={"require": ["exp", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenInvalid("The access token has expired: request a new one") from None
        except jwt.PyJWTError as exc:
            raise TokenInvalid(f"The access token is invalid: {exc}") from None
        return claims, key.kid

    def jwks(self) -> dict[str, Any]:
        """Return the JWKS document of every published key."""
        keys = []
        for key in self.published():
            numbers = key.public_key.public_numbers()
            keys.append(
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": key.kid,
                    "n": _b64u(numbers.n),
                    "e": _b64u(numbers.e),
                }
            )
        return {"keys": keys}


def rotate(session: Session, encryption_key: bytes) -> SigningKey:
    """Retire the active key(s) and create a new one; retired keys stay published."""
    for key in repository.published_keys(session):
        if key.status == "active":
            key.status = "retired"
            key.retired_at = utcnow()
    return generate_key(session, encryption_key)
