"""Issue a registered record as an SD-JWT VC for a wallet; download and revoke it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crvshub.certificate import credential, domain, repository
from crvshub.certificate.domain import CertificateStatus
from crvshub.certificate.errors import CredentialNotFound
from crvshub.certificate.keys import CertificateKeys
from crvshub.certificate.models import Credential as Credential  # noqa: PLC0414
from crvshub.certificate.service import check_revocation, mark_revoked, record_facts
from crvshub.db import utcnow
from crvshub.errors import Forbidden
from crvshub.record import service as record_service
from crvshub.record.domain import Action
from crvshub.record.service import Actor, Change
from crvshub.settings import Settings


def _audit(session: Session, record_id: str, actor: Actor, name: str, row: Credential,
           reason: str | None = None) -> None:
    record = record_service.load(session, record_id)
    data = {"credentialId": row.id, "format": credential.CREDENTIAL_TYPE, "keyId": row.key_id}
    record_service.audit(session, record, actor, name, Change(Action.DOWNLOAD, reason, data=data),
                         (record.status, record.version))


def issue(session: Session, settings: Settings, keys: CertificateKeys, record_id: str,
          actor: Actor) -> Credential:
    """Issue a registered record as a signed SD-JWT VC, stored and audited on the record."""
    record = record_service.load(session, record_id, lock=True)
    record_service.check_access(record, actor)
    facts = record_facts(session, record)
    credential_id = domain.new_certificate_id()
    now = utcnow()
    built = credential.build(credential_id, facts, settings.base_url, now)
    keys.ensure(session)
    issuer_jwt, kid = keys.sign(built.claims, credential.CREDENTIAL_TYPE)
    row = Credential(
        id=credential_id, record_id=record.id, office_id=record.office_id, event=record.event,
        registration_number=facts.registration_number, status=CertificateStatus.CURRENT.value,
        issuer_jwt=issuer_jwt, credential=credential.serialize(issuer_jwt, built.disclosures),
        key_id=kid, issued_at=now, issued_by_id=actor.id, issued_by_name=actor.name,
    )
    repository.add(session, row)
    _audit(session, record.id, actor, "credential-issued", row)
    session.flush()
    return row


def for_staff(session: Session, credential_id: str, actor: Actor) -> Credential:
    """Return a credential the actor may see (same office, or a national role)."""
    row = repository.credential(session, credential_id)
    if row is None:
        raise CredentialNotFound(f"No credential with id {credential_id!r}")
    if actor.type != "user":
        raise Forbidden("Credentials are for staff users")
    record_service.check_office(row.office_id, actor)
    return row


def download(session: Session, credential_id: str, actor: Actor) -> Credential:
    """Return a credential to hand to its holder, auditing the download on the record."""
    row = for_staff(session, credential_id, actor)
    _audit(session, row.record_id, actor, "credential-downloaded", row)
    return row


def revoke(session: Session, credential_id: str, actor: Actor, reason: str) -> Credential:
    """Revoke a credential (registrars): /verify then says it is no longer valid."""
    reason = check_revocation(actor, reason, "credential")
    row = for_staff(session, credential_id, actor)
    mark_revoked(row, reason, "credential")
    _audit(session, row.record_id, actor, "credential-revoked", row, reason)
    session.flush()
    return row


def of_record(session: Session, record_id: str, actor: Actor) -> list[Credential]:
    """Return the credentials issued for a record (access checked)."""
    record = record_service.load(session, record_id)
    record_service.check_access(record, actor)
    return list(repository.credentials_of_record(session, record_id))


def summary(row: Credential) -> dict[str, Any]:
    """Return a credential as staff JSON (the SD-JWT itself included)."""
    return {
        "id": row.id, "recordId": row.record_id, "event": row.event,
        "format": credential.CREDENTIAL_TYPE, "registrationNumber": row.registration_number,
        "status": row.status, "statusReason": row.status_reason, "keyId": row.key_id,
        "issuedAt": row.issued_at.isoformat(), "issuedBy": row.issued_by_name,
        "credential": row.credential,
    }
