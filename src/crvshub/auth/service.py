"""Staff users and access tokens: create, log in, issue tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from crvshub.auth import domain, passwords, repository
from crvshub.auth.clients import sha_secret_of
from crvshub.auth.domain import ClientSummary, Principal
from crvshub.auth.errors import (
    InvalidLogin,
    LoginThrottled,
    UnknownOffice,
    UnknownRole,
    UserExists,
)
from crvshub.auth.keys import KeyRing
from crvshub.auth.models import Client, User
from crvshub.auth.ratelimit import retry_after_header
from crvshub.auth.throttle import key_for, throttle_of
from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.location import service as location_service
from crvshub.settings import Settings


def _claims(
    settings: Settings,
    *,
    sub: str,
    scopes: list[str],
    audience: list[str],
    ttl: int,
    kind: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    now = utcnow()
    return {
        "sub": sub,
        "scope": scopes,
        "aud": audience,
        "iss": settings.token_issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        "jti": uuid.uuid4().hex,
        "crvshub:kind": kind,
        **(extra or {}),
    }


def issue_user_token(settings: Settings, keys: KeyRing, user: User) -> tuple[str, int]:
    """Return an access token for a staff user and its lifetime in seconds."""
    ttl = settings.user_token_ttl_seconds
    claims = _claims(
        settings,
        sub=user.id,
        scopes=domain.scopes_for_role(user.role),
        audience=list(domain.BASE_AUDIENCE),
        ttl=ttl,
        kind="user",
    )
    return keys.sign(claims), ttl


def issue_client_token(
    settings: Settings, keys: KeyRing, client: Client, scopes: list[str] | None = None
) -> tuple[str, int]:
    """Return an access token for an integration client and its lifetime in seconds."""
    return issue_token_for_client(
        settings, keys, row_id=client.id, client_id=client.client_id, client_type=client.type,
        scopes=scopes,
    )


def issue_token_for_client(
    settings: Settings, keys: KeyRing, *, row_id: str, client_id: str, client_type: str,
    scopes: list[str] | None = None,
) -> tuple[str, int]:
    """Return a client token (all its scopes, or the subset asked for) and its lifetime."""
    ttl = settings.system_token_ttl_seconds
    granted = client_scopes(settings, client_type)
    claims = _claims(
        settings,
        sub=row_id,
        scopes=granted if scopes is None else [s for s in granted if s in scopes],
        audience=domain.audience_for_client(client_type),
        ttl=ttl,
        kind="client",
        extra={"client_id": client_id},
    )
    return keys.sign(claims), ttl


def client_scopes(settings: Settings, client_type: str) -> list[str]:
    """Return every scope a client type's tokens may carry (`demo` only when opted in)."""
    scopes = domain.scopes_for_client(client_type)
    if settings.demo_scope:
        scopes.append("demo")
    return scopes


def issue_record_token(settings: Settings, keys: KeyRing, *, user_id: str, record_id: str) -> str:
    """Return a token that may only confirm or reject registration of one record."""
    claims = _claims(
        settings,
        sub=user_id,
        scopes=[str(domain.Scope.CONFIRM_REGISTRATION), str(domain.Scope.REJECT_REGISTRATION)],
        audience=[*domain.BASE_AUDIENCE, "opencrvs:notification-api-user"],
        ttl=settings.record_token_ttl_seconds,
        kind="record",
        extra={"recordId": record_id},
    )
    return keys.sign(claims)


def published_keys(session: Session, keys: KeyRing) -> KeyRing:
    """Return the key ring, reloaded first if a rotation may have happened elsewhere."""
    if keys.stale():
        keys.load(session)
    return keys


def principal_view(principal: Principal) -> dict[str, Any]:
    """Describe an authenticated caller as JSON."""
    view: dict[str, Any] = {
        "kind": principal.kind,
        "id": principal.subject,
        "name": principal.name,
        "scope": sorted(principal.scopes),
    }
    if principal.kind == "client":
        view |= {"client_id": principal.client_id, "client_type": principal.client_type}
    else:
        view |= {"role": principal.role, "office_id": principal.office_id}
    if principal.record_id:
        view["record_id"] = principal.record_id
    return view


def login(ctx: AppContext, username: str, password: str, address: str | None) -> User:
    """Authenticate a staff user; a pair that failed repeatedly must wait before trying again.

    Reads run in one short transaction, the password hash outside any, and a failure is
    recorded in its own transaction so that it stays although the request answers an error.
    """
    throttle = throttle_of(ctx)
    key = key_for("user", username, address)
    with ctx.db.transaction() as session:
        counts = throttle.read(session, key)
        wait = throttle.wait(counts, key)
        user = None if wait > 0 else repository.user_by_username(session, username)
    if wait > 0:
        raise LoginThrottled(headers=retry_after_header(wait))
    ok = passwords.verify_password(password, user.password_hash if user else None)
    if user is None or not ok or user.status != "active":
        too_early = throttle.fail(key)
        if too_early > 0:
            raise LoginThrottled(headers=retry_after_header(too_early))
        raise InvalidLogin()
    if throttle.had_failures(counts, key):
        throttle.succeed(key)
    return user


def create_user(
    session: Session,
    *,
    username: str,
    given_names: str,
    family_name: str,
    role: str,
    office: str,
    password: str,
    mobile: str | None = None,
    email: str | None = None,
) -> User:
    """Create a staff user attached to an office (by id or statistical id)."""
    if role not in domain.Role.__members__:
        raise UnknownRole(f"Unknown role {role!r}: use one of {', '.join(domain.Role)}")
    office_row = location_service.office_by_ref(session, office)
    if office_row is None:
        raise UnknownOffice(f"No CRVS office with id or statistical id {office!r}")
    if repository.user_by_username(session, username) is not None:
        raise UserExists(f"The username {username!r} is taken")
    user = User(
        username=username,
        given_names=given_names,
        family_name=family_name,
        role=role,
        office_id=office_row.id,
        password_hash=passwords.hash_password(password),
        mobile=mobile,
        email=email,
        status="active",
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    repository.add(session, user)
    session.flush()
    return user


def client_summary(session: Session, client_row_id: str) -> ClientSummary | None:
    """Return what other features may know of a client, by its row id (the token subject)."""
    client = repository.client_by_id(session, client_row_id)
    if client is None:
        return None
    return ClientSummary(
        id=client.id,
        client_id=client.client_id,
        name=client.name,
        type=client.type,
        status=client.status,
        created_by=client.created_by,
        webhook_permissions=client.webhook_permissions,
    )


def webhook_secret(session: Session, settings: Settings, client: ClientSummary) -> str:
    """Return a client's webhook signing secret (`sha_secret`), decrypted."""
    row = repository.client_by_id(session, client.id)  # already in the session: no query
    if row is None:
        raise LookupError(f"no client {client.id!r}")
    return sha_secret_of(settings, row)


def user_by_id(session: Session, user_id: str) -> User | None:
    """Return a staff user by id, or None."""
    return repository.user_by_id(session, user_id)


def client_by_id(session: Session, client_row_id: str) -> Client | None:
    """Return an integration client by its row id (the token subject), or None."""
    return repository.client_by_id(session, client_row_id)
