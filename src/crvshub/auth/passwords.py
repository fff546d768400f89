"""Staff password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# A hash of a random password, verified against when the user does not exist, so an unknown
# username costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("crvshub-no-such-user-dummy-password")


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """Check a password against its hash (or a dummy hash when there is no user)."""
    try:
        return bool(_hasher.verify(stored or _DUMMY_HASH, password)) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
