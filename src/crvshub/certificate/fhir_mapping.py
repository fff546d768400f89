"""The facts a certificate states, read from a record's stored FHIR bundle."""

from __future__ import annotations

from typing import Any

from crvshub.certificate.domain import Facts, Person
from crvshub.record import fhir_mapping as record_bundle
from crvshub.record.domain import Event

NATIONALITY_URL = "http://hl7.org/fhir/StructureDefinition/patient-nationality"


def person_name(patient: dict[str, Any] | None) -> str:
    """Return `Given Middle Family` of a Patient's first name ("" when it has none)."""
    if not patient:
        return ""
    names = patient.get("name")
    first = names[0] if isinstance(names, list) and names and isinstance(names[0], dict) else {}
    given = first.get("given")
    family = first.get("family")
    found: list[Any] = list(given) if isinstance(given, list) else []
    found.extend(family if isinstance(family, list) else [family])
    parts = [p for p in found if isinstance(p, str) and p.strip()]
    return " ".join(p.strip() for p in parts)


def nationality(patient: dict[str, Any] | None) -> str | None:
    """Return the nationality code of a Patient (the HL7 patient-nationality extension)."""
    for ext in (patient or {}).get("extension", []) or []:
        if not isinstance(ext, dict) or ext.get("url") != NATIONALITY_URL:
            continue
        for inner in ext.get("extension", []) or []:
            codings = (inner.get("valueCodeableConcept") or {}).get("coding") or []
            for coding in codings:
                if isinstance(coding, dict) and coding.get("code"):
                    return str(coding["code"])
    return None


def _person(patient: dict[str, Any] | None) -> Person | None:
    name = person_name(patient)
    if not name:
        return None
    birth = (patient or {}).get("birthDate")
    return Person(name, birth if isinstance(birth, str) else None, nationality(patient))


def facts(
    bundle: dict[str, Any],
    *,
    event: str,
    registration_number: str,
    tracking_id: str,
    event_date: str | None,
    event_place: str | None,
    office: str | None,
    registrar: str | None,
    registered_at: str | None,
    gender: str | None,
) -> Facts:
    """Return what a certificate of this record states."""
    kind = Event(event)
    subject = record_bundle.subject(bundle, kind)
    parents = (record_bundle.section_resource(bundle, "mother-details"),
               record_bundle.section_resource(bundle, "father-details"))
    return Facts(
        event=event, registration_number=registration_number, tracking_id=tracking_id,
        subject=_person(subject) or Person(""), gender=gender, event_date=event_date,
        event_place=event_place, mother=_person(parents[0]), father=_person(parents[1]),
        office=office, registrar=registrar, registered_at=registered_at,
    )
