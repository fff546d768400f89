"""Staff declarations: create a record from a bundle, edit declaration data before registration."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from crvshub.db import utcnow
from crvshub.errors import Forbidden, IssueCollector
from crvshub.location import service as location_service
from crvshub.record import declaration_input, domain, fhir_mapping
from crvshub.record.actions import replace_declaration
from crvshub.record.creation import NewRecord, create_record
from crvshub.record.domain import Action
from crvshub.record.errors import InvalidDeclaration, PreconditionRequired
from crvshub.record.models import Record
from crvshub.record.service import Actor, Change, apply, check_access, load


def _check_locations(session: Session, bundle: dict[str, Any]) -> None:
    issues = IssueCollector()
    for index, resource in enumerate(fhir_mapping.resources(bundle)):
        if resource.get("resourceType") != "Encounter":
            continue
        for pos, item in enumerate(resource.get("location", [])):
            ref = str((item.get("location") or {}).get("reference", ""))
            if (
                ref.startswith("Location/")
                and location_service.get(session, ref.removeprefix("Location/")) is None
            ):
                issues.add(
                    InvalidDeclaration,
                    f"Unknown location {ref}",
                    f"Bundle.entry[{index}].resource.location[{pos}].location.reference",
                )
    if issues:
        raise InvalidDeclaration(issues=issues.issues)


def create(session: Session, payload: Any, actor: Actor, *, incomplete: bool) -> Record:
    """Create a record from a staff declaration: in progress if incomplete, else declared."""
    event = declaration_input.check(payload)
    office_id = actor.office_id
    if not domain.may_perform(actor.scopes, Action.DECLARE) or office_id is None:
        raise Forbidden("Declaring needs a staff user with the declare, validate or register scope")
    _check_locations(session, payload)
    complete = not incomplete and declaration_input.has_subject(payload, event)
    status = domain.creation_status(complete=complete)
    doc_type = declaration_input.doc_type_of(payload, event)
    now = utcnow()

    def build(record_id: str, tracking_id: str) -> dict[str, Any]:
        bundle = declaration_input.assign_ids(payload, record_id)
        declaration_input.stamp_identity(
            bundle, event=event, tracking_id=tracking_id, office_id=office_id, doc_type=doc_type
        )
        bundle.setdefault("meta", {})["lastUpdated"] = now.isoformat()
        fhir_mapping.set_status(bundle, status, reason=None, at=now)
        return bundle

    new = NewRecord(
        event=event, status=status, action=Action.DECLARE if complete else Action.NOTIFY,
        office_id=office_id, composition_type=doc_type, source="staff",
    )
    return create_record(session, new, build, actor, now=now)


def edit(
    session: Session, record_id: str, payload: Any, actor: Actor, expected_version: int | None
) -> Record:
    """Replace the declaration data of a record that is not yet registered."""
    record = load(session, record_id, lock=True)
    check_access(record, actor)
    if expected_version is None and record.assigned_user_id != actor.id:
        raise PreconditionRequired()
    event = declaration_input.check(payload)
    if event.value != record.event:
        raise InvalidDeclaration(
            f"This record is a {record.event}; the bundle is a {event.value}", expression="Bundle"
        )
    _check_locations(session, payload)
    edited = copy.deepcopy(payload)

    def change(row: Record, bundle: dict[str, Any]) -> None:
        replacement = replace_declaration(row, bundle, edited)
        bundle.clear()
        bundle.update(replacement)

    return apply(
        session,
        record,
        actor,
        Change(Action.UPDATE, expected_version=expected_version),
        edit=change,
    )
