"""All SQL of the certificate feature."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crvshub.certificate.models import Certificate, CertificateCheck, CertificateKey


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


def add(session: Session, row: Certificate | CertificateCheck | CertificateKey) -> None:
    """Add a row to the session."""
    session.add(row)


def supersede_current(session: Session, record_id: str, reason: str, at: datetime) -> int:
    """Mark every current certificate of a record superseded; return how many."""
    result = session.execute(
        update(Certificate)
        .where(Certificate.record_id == record_id, Certificate.status == "current")
        .values(status="superseded", status_reason=reason, status_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def keys(session: Session) -> Sequence[CertificateKey]:
    """Return every certificate signing key, oldest first."""
    return session.scalars(select(CertificateKey).order_by(CertificateKey.created_at)).all()
