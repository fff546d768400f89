"""Secret hashing and encryption at rest: HMAC-SHA256 for client secrets, AES-GCM for the rest."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class UnknownKey(Exception):
    """A stored value was encrypted with none of the keys given."""


CLIENT_SECRET_PREFIX = "crvshub_cs_"
SHA_SECRET_PREFIX = "crvshub_whsec_"


def new_secret(prefix: str) -> str:
    """Return a new high-entropy secret (256 bits) with a prefix secret scanners recognise."""
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str, pepper: bytes) -> str:
    """Return the keyed hash stored for a client secret."""
    return hmac.new(pepper, secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, stored_hash: str, pepper: bytes) -> bool:
    """Compare a presented secret with a stored hash in constant time."""
    return hmac.compare_digest(hash_secret(secret, pepper), stored_hash)


def encrypt(plaintext: bytes, key: bytes, *, context: bytes = b"") -> bytes:
    """Encrypt with AES-256-GCM: nonce || ciphertext+tag, bound to a context string."""
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def decrypt(blob: bytes, key: bytes, *, context: bytes = b"") -> bytes:
    """Decrypt a value produced by `encrypt`."""
    return AESGCM(key).decrypt(blob[:12], blob[12:], context)


def reencrypt(
    blob: bytes, old_keys: Sequence[bytes], new_key: bytes, *, context: bytes = b""
) -> bytes | None:
    """Return the value encrypted with `new_key`, or None when it already is; raise UnknownKey."""
    try:
        decrypt(blob, new_key, context=context)
        return None
    except InvalidTag:
        pass
    for key in old_keys:
        try:
            plaintext = decrypt(blob, key, context=context)
        except InvalidTag:
            continue
        return encrypt(plaintext, new_key, context=context)
    raise UnknownKey("the value was encrypted with none of the keys given")
