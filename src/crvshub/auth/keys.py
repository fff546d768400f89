"""This server's signing keys: generated on first start, persisted, rotatable.

Two kinds, each published in the JWKS with its `alg`: RSA keys sign access tokens (RS256,
what OpenCRVS clients verify) and Ed25519 keys sign DCI messages (EdDSA, the standard's own
example algorithm; a signature costs a quarter of an RS256 one, and every DCI answer, callback
and notify is signed). `crvshub keys rotate` rotates both.
"""

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
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
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
TOKEN_ALGORITHM = "RS256"  # access tokens
MESSAGE_ALGORITHM = "EdDSA"  # DCI answers, callbacks and notifies
ALGORITHMS = (TOKEN_ALGORITHM, MESSAGE_ALGORITHM)


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
    algorithm: str = TOKEN_ALGORITHM


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64u(number: int) -> str:
    return _b64(number.to_bytes((number.bit_length() + 7) // 8, "big"))


def _new_private(algorithm: str) -> Any:
    if algorithm == MESSAGE_ALGORITHM:
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == TOKEN_ALGORITHM:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unknown signing algorithm {algorithm!r}")


def public_jwk(key: LoadedKey) -> dict[str, Any]:
    """Return the public JWK of a key (RSA for RS256, OKP Ed25519 for EdDSA)."""
    if key.algorithm == MESSAGE_ALGORITHM:
        raw = key.public_key.public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": MESSAGE_ALGORITHM,
                "kid": key.kid, "x": _b64(raw)}
    numbers = key.public_key.public_numbers()
    return {"kty": "RSA", "use": "sig", "alg": TOKEN_ALGORITHM, "kid": key.kid,
            "n": _b64u(numbers.n), "e": _b64u(numbers.e)}


def generate_key(session: Session, encryption_key: bytes,
                 algorithm: str = TOKEN_ALGORITHM) -> SigningKey:
    """Create a new active key (RSA-2048 for RS256, Ed25519 for EdDSA) and store it,
    encrypted."""
    private = _new_private(algorithm)
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
        algorithm=algorithm,
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
                row.kid, row.status, row.public_pem, private, private.public_key(),
                row.algorithm or TOKEN_ALGORITHM,
            )
        with self._lock:
            self._keys = keys
            self._loaded_at = time.monotonic()

    def ensure(self, session: Session) -> None:
        """Load the keys, generating the first one of each algorithm if there is none."""
        self.load(session)
        missing = [a for a in ALGORITHMS if self.active(a) is None]
        if missing:
            for algorithm in missing:
                generate_key(session, self._encryption_key, algorithm)
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

    def active(self, algorithm: str = TOKEN_ALGORITHM) -> LoadedKey | None:
        """Return the newest active key of an algorithm (by default the access tokens')."""
        actives = [k for k in self._keys.values()
                   if k.status == "active" and k.algorithm == algorithm]
        return actives[-1] if actives else None

    def published(self) -> list[LoadedKey]:
        """Return every key a verifier should accept."""
        return list(self._keys.values())

    def sign(self, claims: dict[str, Any], algorithm: str = TOKEN_ALGORITHM) -> str:
        """Sign claims as a JWT with the active key of an algorithm (RS256 by default)."""
        key = self.active(algorithm)
        if key is None:
            raise RuntimeError("no active signing key: run `crvshub migrate` and start the server")
        return jwt.encode(claims, key.private_key, algorithm=algorithm, headers={"kid": key.kid})

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
        # Only the RSA keys sign access tokens (the EdDSA keys sign DCI messages).
        tokens = {kid: k for kid, k in self._keys.items() if k.algorithm == TOKEN_ALGORITHM}
        key = tokens.get(str(header.get("kid", "")))
        if key is None and len(tokens) == 1 and "kid" not in header:
            key = next(iter(tokens.values()))
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
        return {"keys": [public_jwk(key) for key in self.published()]}


def rotate(session: Session, encryption_key: bytes) -> SigningKey:
    """Retire the active keys and create a new one of each algorithm; return the new token
    key. Retired keys stay published, so what they signed still verifies."""
    for key in repository.published_keys(session):
        if key.status == "active":
            key.status = "retired"
            key.retired_at = utcnow()
    generate_key(session, encryption_key, MESSAGE_ALGORITHM)
    return generate_key(session, encryption_key, TOKEN_ALGORITHM)
