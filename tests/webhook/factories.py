"""Build records that follow the cross-feature contracts, and emit their events."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.location.models import Location
from crvshub.outbox.service import emit
from crvshub.record.domain import Event, new_tracking_id, tracking_id_system
from crvshub.record.models import Record

SECTIONS = {
    "birth": ("child-details", "mother-details", "father-details", "informant-details"),
    "death": ("deceased-details", "informant-details", "death-encounter"),
}


def _uuid() -> str:
    return str(uuid.uuid4())


def record_bundle(event: str, record_id: str, tracking_id: str, status: str) -> dict[str, Any]:
    """Return a document bundle: Composition, Task, one Patient per section, an Observation."""
    resources: list[dict[str, Any]] = []
    sections = []
    for code in SECTIONS[event]:
        rid = _uuid()
        kind = "Encounter" if code == "death-encounter" else "Patient"
        resource: dict[str, Any] = {"resourceType": kind, "id": rid}
        if kind == "Patient":
            resource["name"] = [{"use": "en", "given": ["Ünïcode"], "family": f"{code}-Name"}]
        resources.append(resource)
        sections.append({"code": {"coding": [{"system": "http://opencrvs.org/doc-sections",
                                              "code": code}]},
                         "entry": [{"reference": f"urn:uuid:{rid}"}]})
    composition = {"resourceType": "Composition", "id": record_id, "section": sections,
                   "title": f"{event} declaration"}
    task = {
        "resourceType": "Task", "id": _uuid(), "status": "ready",
        "focus": {"reference": f"urn:uuid:{record_id}"},
        "identifier": [{"system": tracking_id_system(Event(event)), "value": tracking_id}],
        "businessStatus": {"coding": [{"system": "http://opencrvs.org/specs/reg-status",
                                       "code": status}]},
        "extension": [{"url": "http://opencrvs.org/specs/extension/contact-person-phone-number",
                       "valueString": "+260911111111"}],
    }
    observation = {"resourceType": "Observation", "id": _uuid(), "valueQuantity": {"value": 3}}
    entries = [composition, task, *resources, observation]
    return {"resourceType": "Bundle", "type": "document",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in entries]}


def make_record(ctx: AppContext, event: str = "birth", status: str = "REGISTERED") -> Record:
    """Insert a record row and return it."""
    record_id = _uuid()
    tracking = new_tracking_id(Event(event))
    with ctx.db.transaction() as session:
        office = session.scalars(select(Location).where(Location.type == "CRVS_OFFICE")).first()
        assert office is not None
        now = utcnow()
        record = Record(
            id=record_id, tracking_id=tracking, event=event, status=status,
            office_id=office.id, composition_type=f"{event}-declaration",
            bundle=record_bundle(event, record_id, tracking, status), version=1,
            source="staff", created_at=now, updated_at=now,
            registration_number=f"2026{tracking}" if status == "REGISTERED" else None,
        )
        session.add(record)
    return record


def emit_event(ctx: AppContext, record: Record, topic: str) -> None:
    """Emit a domain event for a record in its own transaction (as the workflow does)."""
    with ctx.db.transaction() as session:
        emit(session, topic, record_id=record.id, data={
            "event": record.event, "tracking_id": record.tracking_id, "status": record.status,
            "registration_number": record.registration_number,
        })


def register_births(ctx: AppContext, count: int, topic: str = "BIRTH_REGISTERED") -> list[str]:
    """Create `count` registered births and emit their events; return the record ids."""
    ids = []
    for _ in range(count):
        record = make_record(ctx)
        emit_event(ctx, record, topic)
        ids.append(record.id)
    return ids
