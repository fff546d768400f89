"""Re-encrypt the auth secrets stored at rest after the encryption key changed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from crvshub.auth import repository
from crvshub.auth.clients import _SHA_CONTEXT
from crvshub.auth.keys import _KEY_CONTEXT

# Takes a stored value and its context; returns it encrypted with the new key, or None if it
# already is.
Rewrap = Callable[[bytes, bytes], bytes | None]


def reencrypt_secrets(session: Session, rewrap: Rewrap) -> int:
    """Re-encrypt signing keys and client webhook secrets; return how many values changed."""
    changed = 0
    for key in repository.signing_keys(session):
        new = rewrap(key.private_pem_enc, _KEY_CONTEXT)
        if new is not None:
            key.private_pem_enc = new
            changed += 1
    for client in repository.list_clients(session):
        new = rewrap(client.sha_secret_enc, _SHA_CONTEXT)
        if new is not None:
            client.sha_secret_enc = new
            changed += 1
    return changed
