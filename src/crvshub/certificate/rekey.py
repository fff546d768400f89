"""Re-encrypt the certificate signing keys after the encryption key changed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from crvshub.certificate import repository
from crvshub.certificate.keys import _KEY_CONTEXT

Rewrap = Callable[[bytes, bytes], bytes | None]


def reencrypt_secrets(session: Session, rewrap: Rewrap) -> int:
    """Re-encrypt every certificate key; return how many changed."""
    changed = 0
    for key in repository.keys(session):
        new = rewrap(key.private_pem_enc, _KEY_CONTEXT)
        if new is not None:
            key.private_pem_enc = new
            changed += 1
    return changed
