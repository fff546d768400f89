"""Project found records into OpenCRVS's search result and registration shapes (no database).

`EventSearchSet` (§4.4 of the interop spec) and a subset of `BirthRegistration` /
`DeathRegistration`, read from each record's stored bundle, its search columns and its
status-changing audit actions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from crvshub.record.fhir_mapping import identifier_code, section_resource
from crvshub.record.models import Record, RecordAction

Json = dict[str, Any]
OfficeName = Callable[[str | None], tuple[str | None, list[str]]]
SECTIONS = {"child": "child-details", "deceased": "deceased-details",
            "mother": "mother-details", "father": "father-details",
            "informant": "informant-details", "spouse": "spouse-details"}


def epoch_ms(moment: datetime | None) -> str | None:
    """Return an instant as epoch milliseconds in a string (OpenCRVS `createdAt`)."""
    return None if moment is None else str(int(moment.timestamp() * 1000))


def _join(parts: Any) -> str:
    if isinstance(parts, str):
        return parts.strip()
    if isinstance(parts, list):
        return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return ""


def names(resource: Json | None) -> list[Json]:
    """Return a Patient's names as OpenCRVS `HumanName`s: firstNames, familyName, use."""
    found = []
    raw = (resource or {}).get("name")
    for name in raw if isinstance(raw, list) else []:
        if isinstance(name, dict):
            found.append({"firstNames": _join(name.get("given")),
                          "familyName": _join(name.get("family")) or None,
                          "use": name.get("use") if isinstance(name.get("use"), str) else "en"})
    return found


def person(record: Record, role: str) -> Json | None:
    """Return the Patient of a role (the informant's Patient when it is a RelatedPerson)."""
    found = section_resource(record.bundle, SECTIONS[role])
    if found is not None and found.get("resourceType") == "RelatedPerson":
        link = found.get("patient")
        reference = link.get("reference") if isinstance(link, dict) else None
        for entry in record.bundle.get("entry", []):
            if isinstance(entry, dict) and entry.get("fullUrl") == reference:
                return dict(entry["resource"])
    return found


def identifiers(resource: Json | None) -> list[Json]:
    """Return a Patient's identifiers as OpenCRVS `IdentityType`s: id (the value) and type."""
    raw = (resource or {}).get("identifier")
    return [{"id": i.get("value"), "type": identifier_code(i)}
            for i in (raw if isinstance(raw, list) else [])
            if isinstance(i, dict) and isinstance(i.get("value"), str)]


def first_identifier(resource: Json | None) -> str | None:
    """Return the national ID of a Patient, else its first identifier."""
    found = identifiers(resource)
    national = [str(i["id"]) for i in found if i["type"] == "NATIONAL_ID"]
    either = national or [str(i["id"]) for i in found]
    return either[0] if either else None


def _first(resource: Json | None, part: str) -> str | None:
    found = names(resource)
    return (found[0][part] or None) if found else None


def operation(row: RecordAction, office: OfficeName) -> Json:
    """Return one status change as an OpenCRVS `OperationHistorySearchSet`."""
    given, _, family = row.actor_name.rpartition(" ")
    office_name, alias = office(row.office_id)
    rejected = row.status_after == "REJECTED"
    return {
        "operationType": row.status_after, "operatedOn": row.at.isoformat(),
        "operatorRole": row.actor_role,
        "operatorName": [{"firstNames": given or family, "familyName": family if given else None,
                          "use": "en"}],
        "operatorOfficeName": office_name, "operatorOfficeAlias": alias,
        "notificationFacilityName": None, "notificationFacilityAlias": None,
        "rejectReason": row.reason if rejected else None,
        "rejectComment": row.comment if rejected else None,
    }


def status_changes(actions: Sequence[RecordAction]) -> list[RecordAction]:
    """Return the actions that gave a record a status (creation included), oldest first."""
    return [a for a in actions if a.status_after and (a.status_before != a.status_after)]


def registration(record: Record, assignment: Json | None,
                 duplicates: Sequence[str] = ()) -> Json:
    """Return the `registration` of a search result (`duplicates`: unresolved candidates)."""
    return {
        "status": record.status, "contactNumber": record.contact_number,
        "contactEmail": record.contact_email, "contactRelationship": None,
        "trackingId": record.tracking_id, "registrationNumber": record.registration_number,
        "registeredLocationId": record.office_id, "eventLocationId": record.event_location_id,
        "duplicates": list(duplicates) or None, "assignment": assignment,
        "createdAt": epoch_ms(record.created_at), "modifiedAt": epoch_ms(record.updated_at),
        "dateOfDeclaration": record.created_at.isoformat(),
        "reason": record.status_reason, "comment": None,
    }


def search_hit(record: Record, actions: Sequence[RecordAction], office: OfficeName,
               assignment: Json | None, duplicates: Sequence[str] = ()) -> Json:
    """Return one record as a `BirthEventSearchSet` or `DeathEventSearchSet`."""
    hit: Json = {
        "id": record.id, "type": record.event.capitalize(),
        "registration": registration(record, assignment, duplicates),
        "operationHistories": [operation(a, office) for a in status_changes(actions)],
    }
    day = record.event_date.isoformat() if record.event_date else None
    if record.event == "death":
        deceased = person(record, "deceased")
        return {**hit, "dateOfDeath": day, "deceasedName": names(deceased),
                "deceasedGender": record.subject_gender}
    child, mother, father = (person(record, r) for r in ("child", "mother", "father"))
    return {
        **hit, "dateOfBirth": day, "childName": names(child),
        "childIdentifier": first_identifier(child), "childGender": record.subject_gender,
        "placeOfBirth": record.event_location_id,
        "mothersFirstName": _first(mother, "firstNames"),
        "mothersLastName": _first(mother, "familyName"),
        "fathersFirstName": _first(father, "firstNames"),
        "fathersLastName": _first(father, "familyName"),
        "motherDateOfBirth": (mother or {}).get("birthDate"),
        "fatherDateOfBirth": (father or {}).get("birthDate"),
        "motherIdentifier": first_identifier(mother),
        "fatherIdentifier": first_identifier(father),
    }


def person_details(resource: Json | None, *, death: bool = False) -> Json | None:
    """Return a Patient as an OpenCRVS `Person`: name, birthDate, gender, identifier."""
    if resource is None:
        return None
    found: Json = {"id": resource.get("id"), "name": names(resource),
                   "birthDate": resource.get("birthDate"), "gender": resource.get("gender"),
                   "identifier": identifiers(resource)}
    if death:
        found["deceased"] = {"deceased": True, "deathDate": resource.get("deceasedDateTime")}
    return found


def registration_details(record: Record, actions: Sequence[RecordAction]) -> Json:
    """Return a record as a subset of `BirthRegistration` / `DeathRegistration`."""
    changes = status_changes(actions)
    statuses = [{"type": a.status_after, "timestamp": a.at.isoformat()}
                for a in reversed(changes)] or [{"type": record.status, "timestamp": None}]
    found: Json = {
        "id": record.id, "createdAt": epoch_ms(record.created_at),
        "updatedAt": epoch_ms(record.updated_at),
        "registration": {
            "id": record.id, "trackingId": record.tracking_id,
            "registrationNumber": record.registration_number, "type": record.event.upper(),
            "contactPhoneNumber": record.contact_number, "contactEmail": record.contact_email,
            "status": statuses,
        },
        "eventLocation": {"id": record.event_location_id} if record.event_location_id else None,
        "mother": person_details(person(record, "mother")),
        "father": person_details(person(record, "father")),
        "informant": person_details(person(record, "informant")),
        "spouse": person_details(person(record, "spouse")),
    }
    if record.event == "death":
        return {**found, "deceased": person_details(person(record, "deceased"), death=True)}
    return {**found, "child": person_details(person(record, "child"))}
