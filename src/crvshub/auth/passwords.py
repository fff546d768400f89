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


MIN_ADMIN_PASSWORD_CHARS = 12
_COMMON_PASSWORDS = frozenset({
    "password", "password1", "password123", "test", "admin", "administrator", "changeme",
    "letmein", "qwerty", "qwertyuiop", "123456789012", "opencrvs", "crvshub", "welcome1",
})


def password_problem(password: str, username: str) -> str | None:
    """Say why a password is too weak for an administrator, or return None."""
    if len(password) < MIN_ADMIN_PASSWORD_CHARS:
        return f"the password must have at least {MIN_ADMIN_PASSWORD_CHARS} characters"
    lowered = password.lower()
    if lowered in _COMMON_PASSWORDS or username.lower() in lowered or len(set(password)) < 6:
        return "the password is too easy to guess (common, repetitive or contains the username)"
    return None
