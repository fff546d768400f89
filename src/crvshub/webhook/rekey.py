"""Re-encrypt subscription secrets stored at rest after the encryption key changed."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from crvshub.webhook import domain, repository


def reencrypt_secrets(session: Session, rewrap: Callable[[bytes, bytes], bytes | None]) -> int:
    """Re-encrypt every subscription's signing secret; return how many values changed."""
    changed = 0
    for subscription in repository.subscriptions(session):
        new = rewrap(subscription.secret_enc, domain.SECRET_CONTEXT)
        if new is not None:
            subscription.secret_enc = new
            changed += 1
    return changed
