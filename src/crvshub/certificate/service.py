"""Print, list, download and revoke certificates; supersede them on correction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from crvshub.certificate import domain, fhir_mapping, pdf, repository, templates
from crvshub.certificate.domain import CertificateStatus, Collector
from crvshub.certificate.errors import (
    AlreadyRevoked,
    CertificateNotFound,
    CollectorInvalid,
    NotRegistered,
    ReprintReasonRequired,
)
from crvshub.certificate.keys import CertificateKeys
from crvshub.certificate.models import Certificate as Certificate  # noqa: PLC0414
from crvshub.certificate.models import Credential
from crvshub.certificate.verification import Verification as Verification  # noqa: PLC0414
from crvshub.db import utcnow
from crvshub.errors import Forbidden
from crvshub.location import service as location_service
from crvshub.outbox.service import DomainEvent
from crvshub.record import actions as record_actions
from crvshub.record import service as record_service
from crvshub.record.domain import Action, Event, Status
from crvshub.record.search_columns import search_columns
from crvshub.record.service import Actor, Change
from crvshub.settings import Settings

# Who may revoke a certificate (registrars).
REVOKE_SCOPE = "register"
PRINT_SCOPE = "certify"
REGISTERED_AUDITS = ["registered", "registration-confirmed"]


@dataclass(frozen=True)
class PrintRequest:
    """What the registrar or agent says when printing a certificate."""

    collector: str
    collector_name: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    fee: Decimal | None = None
    receipt: str | None = None
    reprint_reason: str | None = None
    paper: str = "A4"


def _collector(request: PrintRequest) -> dict[str, Any]:
    try:
        who = Collector(request.collector)
    except ValueError:
        allowed = ", ".join(c.value for c in Collector)
        raise CollectorInvalid(f"collector must be one of {allowed}",
                               expression="collector") from None
    if who is Collector.OTHER and not (request.collector_name or "").strip():
        raise CollectorInvalid("Name the person who collected the certificate",
                               expression="collectorName")
    if who is Collector.OTHER and not (request.id_type and (request.id_number or "").strip()):
        raise CollectorInvalid("Give the type and number of the collector's ID document",
                               expression="idNumber")
    if request.id_type and request.id_type not in domain.ID_DOCUMENT_TYPES:
        raise CollectorInvalid(
            f"idType must be one of {', '.join(domain.ID_DOCUMENT_TYPES)}", expression="idType")
    found = {"type": who.value, "name": (request.collector_name or "").strip() or None,
             "idType": request.id_type or None, "idNumber": (request.id_number or "").strip()
             or None}
    return {k: v for k, v in found.items() if v is not None}


def record_facts(session: Session, record: record_service.Record) -> domain.Facts:
    """Return what a certificate of a registered record states (its facts at this moment)."""
    if not record.registration_number:
        raise NotRegistered("Only a registered record has a certificate")
    event = Event(record.event)
    columns = search_columns(record.bundle, event)
    find = location_service.lookup(session)
    place = find(columns["event_location_id"]) if columns["event_location_id"] else None
    office = find(record.office_id)
    registered = record_service.last_action(session, record.id, REGISTERED_AUDITS)
    registrar = registered.actor_name if registered and registered.actor_type == "user" else None
    event_date = columns["event_date"]
    return fhir_mapping.facts(
        record.bundle, event=record.event, registration_number=record.registration_number,
        tracking_id=record.tracking_id,
        event_date=event_date.isoformat() if event_date else None,
        event_place=place.name if place else None, office=office.name if office else None,
        registrar=registrar,
        registered_at=record.registered_at.isoformat() if record.registered_at else None,
        gender=columns["subject_gender"],
    )


def print_certificate(
    session: Session,
    settings: Settings,
    keys: CertificateKeys,
    record_id: str,
    actor: Actor,
    request: PrintRequest,
) -> Certificate:
    """Print a certificate: sign its payload, store it, certify the record, audit it all."""
    if request.paper not in domain.PAPER_SIZES:
        raise CollectorInvalid(f"paper must be one of {', '.join(domain.PAPER_SIZES)}",
                               expression="paper")
    collector = _collector(request)
    record = record_service.load(session, record_id, lock=True)
    record_service.check_access(record, actor)
    previous = repository.print_count(session, record.id)
    reprint = domain.is_reprint(previous)
    reason = (request.reprint_reason or "").strip() or None
    if reprint and reason is None:
        raise ReprintReasonRequired(
            f"This record already has {previous} certificate(s): give the reason for a reprint",
            expression="reprintReason")
    certificate_id = domain.new_certificate_id()
    audit_data: dict[str, Any] = {
        "certificateId": certificate_id, "printNumber": previous + 1, "reprint": reprint,
        "collector": collector,
    }
    if request.fee is not None:
        audit_data["fee"] = str(request.fee)
    if request.receipt:
        audit_data["receipt"] = request.receipt
    change = Change(Action.CERTIFY, reason if reprint else None, None, audit_data)
    record_actions.perform(session, settings, record.id, actor, change)
    facts = record_facts(session, record)
    issued_on = utcnow().date().isoformat()
    keys.ensure(session)
    token, kid = keys.sign(domain.claims(certificate_id, facts, issued_on))
    template = templates.load(settings.country_dir, record.event)
    row = Certificate(
        id=certificate_id, record_id=record.id, office_id=record.office_id, event=record.event,
        registration_number=facts.registration_number, print_number=previous + 1,
        status=CertificateStatus.CURRENT.value, facts=facts.as_json(), collector=collector,
        fee=request.fee, receipt=request.receipt or None, reprint_reason=reason if reprint
        else None, template=template.name, paper=request.paper,
        language=template.languages[0], payload=token, key_id=kid, printed_at=utcnow(),
        printed_by_id=actor.id, printed_by_name=actor.name,
    )
    repository.add(session, row)
    session.flush()
    return row


def qr_text(settings: Settings, certificate: Certificate) -> str:
    """Return what the QR code holds: the verification URL ending with the signed payload."""
    return f"{settings.base_url}{domain.VERIFY_PATH}{certificate.payload}"


def render_pdf(settings: Settings, certificate: Certificate) -> bytes:
    """Return the PDF of a stored certificate (the same document every time)."""
    template = templates.load(settings.country_dir, certificate.event)
    printed = pdf.Printed(
        facts=certificate.facts, certificate_id=certificate.id,
        issued_on=certificate.printed_at.date().isoformat(),
        print_number=certificate.print_number, qr_text=qr_text(settings, certificate),
        verify_url=f"{settings.base_url}/verify",
    )
    return pdf.render(template, printed, certificate.paper)


def _load(session: Session, certificate_id: str) -> Certificate:
    row = repository.get(session, certificate_id)
    if row is None:
        raise CertificateNotFound(f"No certificate with id {certificate_id!r}")
    return row


def for_staff(session: Session, certificate_id: str, actor: Actor) -> Certificate:
    """Return a certificate the actor may see (same office, or a national role)."""
    row = _load(session, certificate_id)
    if actor.type != "user":
        raise Forbidden("Certificates are for staff users")
    record_service.check_office(row.office_id, actor)
    return row


def download(session: Session, settings: Settings, certificate_id: str,
             actor: Actor) -> tuple[Certificate, bytes]:
    """Return a certificate's PDF for staff, auditing the download on the record."""
    row = for_staff(session, certificate_id, actor)
    document = render_pdf(settings, row)
    record = record_service.load(session, row.record_id)
    record_service.audit(session, record, actor, "certificate-downloaded",
                         Change(Action.DOWNLOAD, data={"certificateId": row.id}),
                         (record.status, record.version))
    return row, document


def of_record(session: Session, record_id: str, actor: Actor) -> list[Certificate]:
    """Return the certificates printed for a record (access checked)."""
    record = record_service.load(session, record_id)
    record_service.check_access(record, actor)
    return list(repository.of_record(session, record_id))


def check_revocation(actor: Actor, reason: str, noun: str) -> str:
    """Refuse a revocation by someone without the scope or without a reason; return the reason."""
    if REVOKE_SCOPE not in actor.scopes:
        raise Forbidden(f"Revoking a {noun} needs the scope {REVOKE_SCOPE}")
    if not reason.strip():
        raise ReprintReasonRequired(f"Revoking a {noun} needs a reason", expression="reason")
    return reason.strip()


def mark_revoked(row: Certificate | Credential, reason: str, noun: str) -> None:
    """Mark a current certificate or credential revoked, with why and when."""
    if row.status != CertificateStatus.CURRENT:
        raise AlreadyRevoked(f"The {noun} is already {row.status}")
    row.status = CertificateStatus.REVOKED.value
    row.status_reason = reason
    row.status_at = utcnow()


def revoke(session: Session, certificate_id: str, actor: Actor, reason: str) -> Certificate:
    """Revoke a certificate (registrars): /verify then says it is no longer valid."""
    reason = check_revocation(actor, reason, "certificate")
    row = for_staff(session, certificate_id, actor)
    mark_revoked(row, reason, "certificate")
    record = record_service.load(session, row.record_id)
    record_service.audit(session, record, actor, "certificate-revoked",
                         Change(Action.VIEW, reason.strip(), data={"certificateId": row.id}),
                         (record.status, record.version))
    session.flush()
    return row


def supersede_on_correction(session: Session, event: DomainEvent) -> None:
    """Event listener: a corrected record's earlier certificates no longer state its facts."""
    if not event.topic.endswith("_CORRECTED") or not event.record_id:
        return
    repository.supersede_current(session, event.record_id, "The record was corrected", utcnow())


def summary(row: Certificate) -> dict[str, Any]:
    """Return a certificate as staff JSON."""
    return {
        "id": row.id, "recordId": row.record_id, "event": row.event,
        "registrationNumber": row.registration_number, "printNumber": row.print_number,
        "reprint": row.print_number > 1, "status": row.status, "statusReason": row.status_reason,
        "collector": row.collector, "fee": str(row.fee) if row.fee is not None else None,
        "receipt": row.receipt, "reprintReason": row.reprint_reason, "paper": row.paper,
        "template": row.template, "printedAt": row.printed_at.isoformat(),
        "printedBy": row.printed_by_name, "payload": row.payload,
        "pdf": f"/api/certificates/{row.id}/pdf",
    }


def issue_record(session: Session, settings: Settings, record_id: str, actor: Actor) -> None:
    """Mark a certified record issued (the certificate was handed over)."""
    record_actions.perform(session, settings, record_id, actor, Change(Action.ISSUE))


__all__ = ["Certificate", "PrintRequest", "Status", "Verification"]
