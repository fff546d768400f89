"""Staff actions on an existing record: review, register, certify, assign, correct, view."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from crvshub.db import utcnow
from crvshub.record import declaration_input, dedup, domain, fhir_mapping, repository
from crvshub.record.domain import Action, Event
from crvshub.record.errors import (
    IllegalTransitionError,
    InvalidDeclaration,
    RegistrationNumberTaken,
)
from crvshub.record.models import Record
from crvshub.record.ports import external_validation
from crvshub.record.service import Actor, Change, apply, check_access, load
from crvshub.settings import Settings


def perform(
    session: Session, settings: Settings, record_id: str, actor: Actor, change: Change
) -> Record:
    """Perform one workflow action on a record, with every check."""
    record = load(session, record_id, lock=True)
    check_access(record, actor)
    if not domain.applies_to(change.action, record.event):
        raise IllegalTransitionError(
            f"Cannot {change.action.value} a {record.event} record: it applies to "
            f"{', '.join(sorted(domain.EVENTS_OF[change.action]))} records only",
            extra={"status": record.status, "action": change.action.value})
    if change.action is Action.REGISTER:
        return register(session, settings, record, actor, change)
    if change.action in (Action.ASSIGN, Action.UNASSIGN):
        apply(session, record, actor, change)
        record.assigned_user_id = actor.id if change.action is Action.ASSIGN else None
        return record
    if change.action is Action.REQUEST_CORRECTION:
        return _request_correction(session, record, actor, change)
    if change.action is Action.APPROVE_CORRECTION:
        return _approve_correction(session, record, actor, change)
    if change.action in (Action.MARK_AS_DUPLICATE, Action.MARK_AS_NOT_DUPLICATE):
        dedup.before_resolution(session, record, change)
        apply(session, record, actor, change)
        dedup.after_resolution(session, record, change)
        return record
    apply(session, record, actor, change)
    if change.action is Action.VALIDATE:  # new records may have arrived since creation
        dedup.check(session, record, actor)
    return record


def read(session: Session, record_id: str, actor: Actor, action: Action) -> Record:
    """Return a record for viewing or downloading, auditing the access."""
    record = load(session, record_id)
    check_access(record, actor)
    apply(session, record, actor, Change(action))
    return record


def correction_request(session: Session, record_id: str, actor: Actor) -> dict[str, Any] | None:
    """Return the pending correction of a record (who asked, why, the corrected bundle), or None."""
    record = load(session, record_id)
    check_access(record, actor)
    if record.status != domain.Status.CORRECTION_REQUESTED:
        return None
    requested = repository.last_action(session, record.id, ["correction-requested"])
    if requested is None:
        return None
    return {
        "at": requested.at.isoformat(),
        "by": requested.actor_name,
        "role": requested.actor_role,
        "reason": requested.reason,
        "comment": requested.comment,
        "bundle": (requested.data or {}).get("bundle"),
        "statusBefore": requested.status_before,
    }


def new_registration_number(session: Session, settings: Settings, record: Record) -> str:
    """Return the registration number of the configured pattern, checked to be unused."""
    number = domain.registration_number(
        settings.registration_number_pattern,
        tracking_id=record.tracking_id,
        today=utcnow().date(),
    )
    check_number_free(session, record, number)
    return number


def check_number_free(session: Session, record: Record, number: str) -> None:
    """Raise 409 when another record already holds this registration number."""
    owner = repository.registration_number_owner(session, number)
    if owner is not None and owner != record.id:
        raise RegistrationNumberTaken(f"Registration number {number!r} is already used")


def set_registered(number: str, identifiers: list[tuple[str, str]] | None = None) -> Any:
    """Return the bundle change that stores a registration number (and more identifiers)."""

    def change(record: Record, bundle: dict[str, Any]) -> None:
        event = Event(record.event)
        fhir_mapping.set_registration_number(bundle, event, number)
        if identifiers:
            fhir_mapping.add_subject_identifiers(bundle, event, identifiers)
        record.registration_number = number
        record.registered_at = utcnow()

    return change


def register(
    session: Session, settings: Settings, record: Record, actor: Actor, change: Change
) -> Record:
    """Register at once, or hand the record to the registration hook and wait."""
    dedup.check_before_registration(session, record, actor)
    if settings.registration_hook_url:
        apply(session, record, actor, change, hook=True)
        external_validation(session).request(session, settings, record, actor)
        return record
    number = new_registration_number(session, settings, record)
    return apply(session, record, actor, change, edit=set_registered(number))


def _request_correction(session: Session, record: Record, actor: Actor, change: Change) -> Record:
    corrected = change.data.get("bundle")
    if corrected is not None:
        event = declaration_input.check(corrected)
        if event.value != record.event:
            raise InvalidDeclaration(
                "The corrected bundle is for another event", expression="Bundle"
            )
    return apply(session, record, actor, change)


def _approve_correction(session: Session, record: Record, actor: Actor, change: Change) -> Record:
    requested = repository.last_action(session, record.id, ["correction-requested"])
    corrected = (requested.data or {}).get("bundle") if requested else None
    if corrected is None:
        return apply(session, record, actor, change)

    def edit(row: Record, bundle: dict[str, Any]) -> None:
        replacement = replace_declaration(row, bundle, corrected)
        bundle.clear()
        bundle.update(replacement)

    return apply(session, record, actor, change, edit=edit)


def replace_declaration(
    record: Record, current: dict[str, Any], edited: dict[str, Any]
) -> dict[str, Any]:
    """Return new declaration data merged with the record's identity and identifiers."""
    event = Event(record.event)
    normalised = declaration_input.assign_ids(edited, record.id)
    merged = fhir_mapping.merge_declaration(current, normalised)
    # Identifiers given by registration (BRN, national ID) survive an edit that omits them.
    old_subject = fhir_mapping.subject(current, event) or {}
    new_subject = fhir_mapping.subject(merged, event) or {}
    present = {fhir_mapping.identifier_code(i) for i in new_subject.get("identifier", [])}
    kept = [
        (code, str(i.get("value")))
        for i in old_subject.get("identifier", [])
        if (code := fhir_mapping.identifier_code(i)) and code not in present and i.get("value")
    ]
    fhir_mapping.add_subject_identifiers(merged, event, kept)
    return merged
