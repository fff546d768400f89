"""Secrets at rest: keyed hashes, constant-time comparison, AES-GCM encryption."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from crvshub.auth import crypto
from crvshub.auth.passwords import hash_password, verify_password


def test_secret_has_prefix_and_entropy() -> None:
    a, b = crypto.new_secret("crvshub_cs_"), crypto.new_secret("crvshub_cs_")
    assert a.startswith("crvshub_cs_") and a != b and len(a) > 40


def test_hash_is_keyed() -> None:
    assert crypto.hash_secret("s", b"k" * 32) != crypto.hash_secret("s", b"j" * 32)
    stored = crypto.hash_secret("s", b"k" * 32)
    assert crypto.secret_matches("s", stored, b"k" * 32)
    assert not crypto.secret_matches("t", stored, b"k" * 32)


def test_encryption_round_trip_and_context_binding() -> None:
    key = b"x" * 32
    blob = crypto.encrypt(b"hello", key, context=b"a")
    assert b"hello" not in blob
    assert crypto.decrypt(blob, key, context=b"a") == b"hello"
    with pytest.raises(InvalidTag):
        crypto.decrypt(blob, key, context=b"b")


def test_argon2id_passwords() -> None:
    stored = hash_password("pw")
    assert stored.startswith("$argon2id$")
    assert verify_password("pw", stored)
    assert not verify_password("other", stored)
    assert not verify_password("pw", None)
