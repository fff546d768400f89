"""Managing integration clients: register, change, deactivate, refresh, delete; all audited."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crvshub.auth import crypto, domain, repository
from crvshub.auth.clients import IssuedCredentials, create_client, sha_secret_of
from crvshub.auth.cutoff import forget_now_and_after_commit
from crvshub.auth.domain import Principal
from crvshub.auth.errors import (
    ClientNameTaken,
    ClientNotFound,
    ClientStillReferenced,
    InvalidClientSettings,
    NationalIdClientExists,
)
from crvshub.auth.models import AdminAudit, Client
from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.errors import Issue
from crvshub.record import service as record_service

NAME_MAX = 255


@dataclass(frozen=True)
class Actor:
    """Who performs a management action: `user:<username>` or `cli:<account>`, and from where."""

    ref: str
    ip: str | None = None


def actor_of(session: Session, principal: Principal, ip: str | None) -> Actor:
    """Return the actor of a management action by an authenticated caller."""
    user = repository.user_by_id(session, principal.subject)
    who = f"user:{user.username}" if user else f"{principal.kind}:{principal.subject}"
    return Actor(who, ip)


@dataclass(frozen=True)
class ClientChanges:
    """Fields a registration or an update may set; None means "leave as is"."""

    name: str | None = None
    daily_quota: int | None = None
    webhook_permissions: list[dict[str, Any]] | None = None
    integrating_system_type: str | None = None
    compat_mode: str | None = None


def client_view(client: Client) -> dict[str, Any]:
    """Return the public description of a client (never a secret)."""
    return {
        "id": client.id,
        "client_id": client.client_id,
        "name": client.name,
        "type": client.type,
        "integrating_system_type": client.integrating_system_type,
        "status": client.status,
        "scope": domain.scopes_for_client(client.type),
        "webhook_permissions": client.webhook_permissions,
        "daily_quota": client.daily_quota,
        "compat_mode": client.compat_mode,
        "created_by": client.created_by,
        "created_at": client.created_at.isoformat(),
        "updated_at": client.updated_at.isoformat(),
        "secret_rotated_at": client.secret_rotated_at.isoformat(),
    }


def audit_view(row: AdminAudit) -> dict[str, Any]:
    """Return one management audit row as JSON."""
    return {
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "ip": row.ip,
        "details": row.details,
    }


def _audit(session: Session, actor: Actor, action: str, client: Client, **details: Any) -> None:
    repository.audit(
        session,
        actor=actor.ref,
        action=f"client.{action}",
        target_type="client",
        target_id=client.client_id,
        ip=actor.ip,
        details={"name": client.name, "type": client.type, **details},
    )


def _check_changes(client_type: str, changes: ClientChanges) -> list[Issue]:
    """Return every problem with the requested fields at once."""
    issues: list[Issue] = []

    def bad(where: str, message: str) -> None:
        issues.append(Issue(InvalidClientSettings.code, message, where, "value"))

    if changes.name is not None and (not changes.name.strip() or len(changes.name) > NAME_MAX):
        bad("name", f"must be 1 to {NAME_MAX} characters, not blank")
    if changes.daily_quota is not None and not 0 <= changes.daily_quota <= domain.MAX_DAILY_QUOTA:
        bad("daily_quota", f"must be between 0 and {domain.MAX_DAILY_QUOTA}")
    if changes.webhook_permissions is not None:
        if client_type != domain.ClientType.WEBHOOK and changes.webhook_permissions:
            bad("webhook_permissions", "only WEBHOOK clients have webhook permissions")
        for where, message in domain.check_webhook_permissions(changes.webhook_permissions):
            bad(where, message)
    system_type = changes.integrating_system_type
    if system_type is not None:
        if client_type != domain.ClientType.NATIONAL_ID:
            bad("integrating_system_type", "applies to NATIONAL_ID clients only")
        elif system_type not in domain.IntegratingSystemType.__members__:
            bad("integrating_system_type", "must be MOSIP, OSIA or OTHER")
    if changes.compat_mode is not None and changes.compat_mode not in set(domain.CompatMode):
        bad("compat_mode", f"must be one of {', '.join(domain.CompatMode)}")
    return issues


def _ensure_unique_name(session: Session, name: str, own_client_id: str | None = None) -> None:
    key = domain.client_name_key(name)
    for client_id, other in repository.client_names(session):
        if client_id != own_client_id and domain.client_name_key(other) == key:
            raise ClientNameTaken(f"The name {name!r} is already used by client {client_id}")


@contextmanager
def _national_id_guard(session: Session) -> Iterator[None]:
    """Turn the database's one-active-NATIONAL_ID rule into a clear 409."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError as exc:
        if "national_id" in str(exc.orig).lower() or "clients.type" in str(exc.orig):
            raise NationalIdClientExists() from None
        raise


def register(session: Session, ctx: AppContext, actor: Actor, client_type: str,
             changes: ClientChanges) -> IssuedCredentials:
    """Register a client and return its credentials, shown this once."""
    if client_type not in domain.ClientType.__members__:
        raise InvalidClientSettings(
            f"type must be one of {', '.join(domain.ClientType)}", expression="type"
        )
    issues = _check_changes(client_type, changes)
    if changes.name is None:
        issues.append(Issue(InvalidClientSettings.code, "name is required", "name", "required"))
    if issues:
        raise InvalidClientSettings(issues=issues)
    assert changes.name is not None
    name = changes.name.strip()
    _ensure_unique_name(session, name)
    if client_type == domain.ClientType.NATIONAL_ID and repository.active_national_id(session):
        raise NationalIdClientExists()
    with _national_id_guard(session):
        creds = create_client(
            session, ctx.settings, name=name, client_type=client_type, created_by=actor.ref,
            webhook_permissions=_permissions_for(client_type, changes.webhook_permissions),
            daily_quota=(
                domain.DEFAULT_DAILY_QUOTA if changes.daily_quota is None else changes.daily_quota
            ),
            integrating_system_type=_system_type_for(client_type, changes),
            compat_mode=changes.compat_mode or domain.CompatMode.CRVSHUB.value,
        )
    _audit(session, actor, "create", creds.client)
    return creds


def _permissions_for(client_type: str, given: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    if client_type != domain.ClientType.WEBHOOK:
        return []
    return domain.normalise_webhook_permissions(given or [])


def _system_type_for(client_type: str, changes: ClientChanges) -> str | None:
    if client_type != domain.ClientType.NATIONAL_ID:
        return None
    return changes.integrating_system_type or domain.IntegratingSystemType.OTHER.value


def get(session: Session, client_id: str) -> Client:
    """Return a client by its public client_id, or raise ClientNotFound."""
    client = repository.client_by_client_id(session, client_id)
    if client is None:
        raise ClientNotFound(f"No integration client with client_id {client_id!r}")
    return client


def list_all(session: Session) -> list[Client]:
    """Return every client, newest first."""
    return list(repository.list_clients(session))


def search(session: Session, *, client_type: str | None = None, status: str | None = None,
           name: str | None = None, count: int = 10, skip: int = 0) -> tuple[int, list[Client]]:
    """Return how many clients match the filters and the page asked for, newest first."""
    total, page = repository.search_clients(
        session, client_type=client_type, status=status, name=name, limit=count, offset=skip
    )
    return total, list(page)


def update(session: Session, actor: Actor, client_id: str, changes: ClientChanges) -> Client:
    """Change a client's name, daily quota, webhook permissions or integrating system type."""
    client = get(session, client_id)
    issues = _check_changes(client.type, changes)
    if issues:
        raise InvalidClientSettings(issues=issues)
    changed: dict[str, Any] = {}
    if changes.name is not None and changes.name.strip() != client.name:
        _ensure_unique_name(session, changes.name.strip(), client.client_id)
        changed["name"] = client.name = changes.name.strip()
    if changes.daily_quota is not None and changes.daily_quota != client.daily_quota:
        changed["daily_quota"] = client.daily_quota = changes.daily_quota
    if changes.webhook_permissions is not None:
        permissions = _permissions_for(client.type, changes.webhook_permissions)
        if permissions != client.webhook_permissions:
            changed["webhook_permissions"] = client.webhook_permissions = permissions
    if changes.integrating_system_type not in (None, client.integrating_system_type):
        changed["integrating_system_type"] = changes.integrating_system_type
        client.integrating_system_type = changes.integrating_system_type
    if changes.compat_mode not in (None, client.compat_mode):
        changed["compat_mode"] = client.compat_mode = changes.compat_mode
    if changed:
        client.updated_at = utcnow()
        _audit(session, actor, "update", client, changed=changed)
    session.flush()
    return client


def deactivate(session: Session, ctx: AppContext, actor: Actor, client_id: str) -> Client:
    """Deactivate a client: no new tokens, and its current tokens stop working at once."""
    client = get(session, client_id)
    if client.status != domain.ClientStatus.DEACTIVATED:
        client.status = domain.ClientStatus.DEACTIVATED.value
        client.updated_at = utcnow()
        _audit(session, actor, "deactivate", client)
        session.flush()
    forget_now_and_after_commit(session, ctx, "client", client.id)
    return client


def reactivate(session: Session, ctx: AppContext, actor: Actor, client_id: str) -> Client:
    """Reactivate a client; it must request new tokens."""
    client = get(session, client_id)
    if client.status != domain.ClientStatus.ACTIVE:
        if client.type == domain.ClientType.NATIONAL_ID and repository.active_national_id(session):
            raise NationalIdClientExists()
        with _national_id_guard(session):
            client.status = domain.ClientStatus.ACTIVE.value
            client.updated_at = utcnow()
        _audit(session, actor, "reactivate", client)
    forget_now_and_after_commit(session, ctx, "client", client.id)
    return client


def refresh_secret(session: Session, ctx: AppContext, actor: Actor,
                   client_id: str) -> IssuedCredentials:
    """Replace a client's secret; the old secret and tokens issued with it stop working."""
    client = get(session, client_id)
    secret = crypto.new_secret(crypto.CLIENT_SECRET_PREFIX)
    client.secret_hash = crypto.hash_secret(secret, ctx.settings.derived_key("client-secret"))
    client.secret_rotated_at = client.updated_at = utcnow()
    _audit(session, actor, "refresh-secret", client)
    session.flush()
    forget_now_and_after_commit(session, ctx, "client", client.id)
    return IssuedCredentials(client, secret, sha_secret_of(ctx.settings, client))


def reveal_sha_secret(session: Session, ctx: AppContext, actor: Actor, client_id: str) -> str:
    """Return a client's webhook signing secret, recording who looked at it."""
    client = get(session, client_id)
    _audit(session, actor, "reveal-sha-secret", client)
    return sha_secret_of(ctx.settings, client)


def delete(session: Session, ctx: AppContext, actor: Actor, client_id: str) -> dict[str, Any]:
    """Delete a client and its webhook subscriptions; return what it was."""
    client = get(session, client_id)
    snapshot = client_view(client)
    detached = record_service.detach_client(session, client.id)
    _audit(session, actor, "delete", client, snapshot=snapshot, records_detached=detached)
    try:
        with session.begin_nested():
            repository.delete_client(session, client)
    except IntegrityError:
        raise ClientStillReferenced(
            f"Client {client_id} is still referenced by other data: deactivate it instead"
        ) from None
    session.expunge(client)
    forget_now_and_after_commit(session, ctx, "client", snapshot["id"])
    return snapshot


def audit_trail(session: Session, client_id: str) -> list[AdminAudit]:
    """Return the management audit of a client (also after it was deleted), oldest first."""
    rows = list(repository.audit_for(session, client_id))
    if not rows:
        get(session, client_id)
    return rows
