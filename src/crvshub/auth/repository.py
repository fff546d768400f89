"""SQL for users, clients, keys, failed sign-ins and the management audit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crvshub.auth.models import AdminAudit, AuthFailure, Client, SigningKey, User
from crvshub.db import Base, utcnow


def add(session: Session, row: Base) -> None:
    """Stage a new row."""
    session.add(row)


def published_keys(
    session: Session, *, keep_retired: timedelta = timedelta(days=8)
) -> Sequence[SigningKey]:
    """Return active keys and keys retired recently enough that their tokens may still live."""
    cutoff = utcnow() - keep_retired
    rows = session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
    return [k for k in rows if k.status == "active" or (k.retired_at and k.retired_at > cutoff)]


def signing_keys(session: Session) -> Sequence[SigningKey]:
    """Return every signing key, retired ones included."""
    return session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()


def user_by_username(session: Session, username: str) -> User | None:
    """Return a staff user by username."""
    return session.scalars(select(User).where(User.username == username)).first()


def user_by_id(session: Session, user_id: str) -> User | None:
    """Return a staff user by id."""
    return session.get(User, user_id)


def list_users(session: Session) -> Sequence[User]:
    """Return every staff user, by username."""
    return session.scalars(select(User).order_by(User.username)).all()


def users_of_office(
    session: Session, office_id: str | None, *, text: str | None = None, limit: int = 50,
    offset: int = 0,
) -> tuple[int, Sequence[User]]:
    """Return how many users of one office (every office when None) match and a page of them.

    `text` matches the username, given names or family name (case-insensitive).
    """
    conditions = []
    if office_id is not None:
        conditions.append(User.office_id == office_id)
    if text:
        needle = text.lower()
        conditions.append(
            func.lower(User.username).contains(needle, autoescape=True)
            | func.lower(User.given_names).contains(needle, autoescape=True)
            | func.lower(User.family_name).contains(needle, autoescape=True)
        )
    total = session.scalar(select(func.count()).select_from(User).where(*conditions)) or 0
    rows = session.scalars(
        select(User).where(*conditions).order_by(User.username).limit(limit).offset(offset)
    ).all()
    return int(total), rows


def audit_by_or_for(
    session: Session, actor: str, target_id: str, limit: int
) -> Sequence[AdminAudit]:
    """Return management audit rows done by an actor or to a target, newest first."""
    return session.scalars(
        select(AdminAudit)
        .where((AdminAudit.actor == actor) | (AdminAudit.target_id == target_id))
        .order_by(AdminAudit.at.desc(), AdminAudit.id.desc())
        .limit(limit)
    ).all()


def client_by_id(session: Session, row_id: str) -> Client | None:
    """Return a client by its internal id (the token subject)."""
    return session.get(Client, row_id)


def client_by_client_id(session: Session, client_id: str) -> Client | None:
    """Return a client by its public client_id."""
    return session.scalars(select(Client).where(Client.client_id == client_id)).first()


def list_clients(session: Session) -> Sequence[Client]:
    """Return every client, newest first."""
    return session.scalars(select(Client).order_by(Client.created_at.desc())).all()


def search_clients(
    session: Session, *, client_type: str | None, status: str | None, name: str | None,
    limit: int, offset: int,
) -> tuple[int, Sequence[Client]]:
    """Return how many clients match and one page of them, newest first."""
    conditions = []
    if client_type is not None:
        conditions.append(Client.type == client_type)
    if status is not None:
        conditions.append(Client.status == status)
    if name:
        conditions.append(func.lower(Client.name).contains(name.lower(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(Client).where(*conditions)) or 0
    page = session.scalars(
        select(Client).where(*conditions)
        .order_by(Client.created_at.desc(), Client.id).limit(limit).offset(offset)
    ).all()
    return int(total), page


def client_names(session: Session) -> Sequence[tuple[str, str]]:
    """Return (client_id, name) of every client."""
    rows = session.execute(select(Client.client_id, Client.name)).all()
    return [(row[0], row[1]) for row in rows]


def active_national_id(session: Session) -> Client | None:
    """Return the active NATIONAL_ID client, if there is one."""
    return session.scalars(
        select(Client).where(Client.type == "NATIONAL_ID", Client.status == "active")
    ).first()


def delete_client(session: Session, client: Client) -> None:
    """Delete a client row (the database cascades to its webhook subscriptions)."""
    session.execute(delete(Client).where(Client.id == client.id))


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    ip: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Append one management audit row."""
    session.add(
        AdminAudit(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            ip=ip,
            details=details or {},
            at=utcnow(),
        )
    )


def audit_for(session: Session, target_id: str) -> Sequence[AdminAudit]:
    """Return the management audit of one target, oldest first."""
    return session.scalars(
        select(AdminAudit).where(AdminAudit.target_id == target_id).order_by(AdminAudit.at)
    ).all()


def failure_counts(
    session: Session, subject: str, addresses: Sequence[str]
) -> dict[str, tuple[int, datetime]]:
    """Return the failures and last failure time of a subject, by address (one indexed read)."""
    rows = session.execute(
        select(AuthFailure.address, AuthFailure.failures, AuthFailure.last_failure_at)
        .where(AuthFailure.subject == subject, AuthFailure.address.in_(addresses))
    )
    return {address: (failures, at) for address, failures, at in rows}


def locked_failures(
    session: Session, subject: str, addresses: Sequence[str], epoch: datetime
) -> dict[str, AuthFailure]:
    """Return the failure rows of a subject, created if missing and locked until commit."""
    builder = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    fresh = [{"subject": subject, "address": a, "failures": 0, "last_failure_at": epoch}
             for a in addresses]
    session.execute(builder(AuthFailure).values(fresh).on_conflict_do_nothing())
    rows = session.scalars(
        select(AuthFailure)
        .where(AuthFailure.subject == subject, AuthFailure.address.in_(addresses))
        .with_for_update()
    )
    return {row.address: row for row in rows}


def clear_failures(session: Session, subject: str, address: str) -> None:
    """Forget the failures of a subject from one address."""
    session.execute(
        delete(AuthFailure).where(AuthFailure.subject == subject, AuthFailure.address == address)
    )


def drop_failures_before(session: Session, cutoff: datetime) -> None:
    """Delete failure rows whose last failure is older than the cutoff."""
    session.execute(delete(AuthFailure).where(AuthFailure.last_failure_at < cutoff))
