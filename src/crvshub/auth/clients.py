"""Integration clients: create and look up, with secrets hashed or encrypted at rest."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from crvshub.auth import crypto, repository
from crvshub.auth.domain import ClientType
from crvshub.auth.models import Client
from crvshub.db import utcnow
from crvshub.settings import Settings

_SHA_CONTEXT = b"crvshub:sha-secret"


@dataclass(frozen=True)
class IssuedCredentials:
    """Credentials shown once, at creation or refresh."""

    client: Client
    client_secret: str
    sha_secret: str


def sha_secret_of(settings: Settings, client: Client) -> str:
    """Decrypt a client's webhook signing secret."""
    key = settings.derived_key("encryption")
    return crypto.decrypt(client.sha_secret_enc, key, context=_SHA_CONTEXT).decode()


def create_client(
    session: Session, settings: Settings, *, name: str, client_type: str,
    created_by: str | None, webhook_permissions: list[dict[str, Any]] | None = None,
    daily_quota: int = 2000, integrating_system_type: str | None = None,
    compat_mode: str = "crvshub",
) -> IssuedCredentials:
    """Register a client and return its credentials (the secret is never stored in clear)."""
    secret = crypto.new_secret(crypto.CLIENT_SECRET_PREFIX)
    sha_secret = crypto.new_secret(crypto.SHA_SECRET_PREFIX)
    now = utcnow()
    client = Client(
        client_id=str(uuid.uuid4()), name=name, type=str(ClientType(client_type)),
        integrating_system_type=integrating_system_type, status="active",
        secret_hash=crypto.hash_secret(secret, settings.derived_key("client-secret")),
        sha_secret_enc=crypto.encrypt(
            sha_secret.encode(), settings.derived_key("encryption"), context=_SHA_CONTEXT
        ),
        webhook_permissions=webhook_permissions or [], daily_quota=daily_quota,
        compat_mode=compat_mode,
        created_by=created_by, created_at=now, updated_at=now, secret_rotated_at=now,
    )
    repository.add(session, client)
    session.flush()
    return IssuedCredentials(client, secret, sha_secret)


