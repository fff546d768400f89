"""All SQL of the certificate feature."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from crvshub.certificate.models import Certificate, CertificateCheck, CertificateKey, Credential


def get(session: Session, certificate_id: str) -> Certificate | None:
    """Return a certificate by id."""
    return session.get(Certificate, certificate_id)


def of_record(session: Session, record_id: str) -> Sequence[Certificate]:
    """Return a record's certificates, first print first."""
    return session.scalars(
        select(Certificate).where(Certificate.record_id == record_id)
        .order_by(Certificate.print_number)
    ).all()


def print_count(session: Session, record_id: str) -> int:
    """Return how many certificates a record has had printed."""
    found = session.scalar(
        select(func.count()).select_from(Certificate).where(Certificate.record_id == record_id)
    )
    return int(found or 0)


def add(session: Session,
        row: Certificate | CertificateCheck | CertificateKey | Credential) -> None:
    """Add a row to the session."""
    session.add(row)


def supersede_current(session: Session, record_id: str, reason: str, at: datetime) -> int:
    """Mark every current certificate and credential of a record superseded; return how many."""
    total = 0
    for model in (Certificate, Credential):
        result = session.execute(
            update(model)
            .where(model.record_id == record_id, model.status == "current")
            .values(status="superseded", status_reason=reason, status_at=at)
            .execution_options(synchronize_session=False)
        )
        total += int(getattr(result, "rowcount", 0) or 0)
    return total


def credential(session: Session, credential_id: str) -> Credential | None:
    """Return a credential by id."""
    return session.get(Credential, credential_id)


def credentials_of_record(session: Session, record_id: str) -> Sequence[Credential]:
    """Return a record's credentials, oldest first."""
    return session.scalars(
        select(Credential).where(Credential.record_id == record_id)
        .order_by(Credential.issued_at)
    ).all()


def keys(session: Session) -> Sequence[CertificateKey]:
    """Return every certificate signing key, oldest first."""
    return session.scalars(select(CertificateKey).order_by(CertificateKey.created_at)).all()


def certificate_status(session: Session,
                       certificate_id: str) -> tuple[str, str, datetime | None] | None:
    """Return a certificate's (payload, status, status time) by its primary key, or None."""
    row = session.execute(
        select(Certificate.payload, Certificate.status, Certificate.status_at)
        .where(Certificate.id == certificate_id)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def credential_status(session: Session,
                      credential_id: str) -> tuple[str, str, datetime | None] | None:
    """Return a credential's (issuer JWT, status, status time) by its primary key, or None."""
    row = session.execute(
        select(Credential.issuer_jwt, Credential.status, Credential.status_at)
        .where(Credential.id == credential_id)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def status_changes(session: Session, since: datetime) -> list[tuple[str, str]]:
    """Return (id, status) of every certificate and credential whose status changed since."""
    found: list[tuple[str, str]] = []
    for model in (Certificate, Credential):
        found.extend((row[0], row[1]) for row in session.execute(
            select(model.id, model.status).where(model.status_at >= since)))
    return found


def add_checks(session: Session, rows: list[dict[str, object]]) -> None:
    """Insert logged verification checks in one statement."""
    if rows:
        session.execute(insert(CertificateCheck), rows)
