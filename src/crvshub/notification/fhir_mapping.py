"""FHIR -> CRVS Hub: who is who in a notification and which declaration fields it fills."""

from __future__ import annotations

from typing import Any, Protocol

from crvshub.notification import domain
from crvshub.notification.validation import Entry, ParsedBundle, first_code
from crvshub.notification.validation_rules import extension
from crvshub.record.search_columns import name_parts

JSON = dict[str, Any]
ROLE_SECTIONS = {
    "child": "child-details", "mother": "mother-details", "father": "father-details",
    "deceased": "deceased-details", "spouse": "spouse-details",
}
OBSERVATION_FACTS = {
    domain.OBS_BIRTH_TYPE: "birthType", domain.OBS_WEIGHT: "weightAtBirth",
    domain.OBS_ATTENDANT: "attendantAtBirth", domain.OBS_MANNER: "mannerOfDeath",
    domain.OBS_CAUSE_ESTABLISHED: "causeOfDeathEstablished",
    domain.OBS_CAUSE_METHOD: "causeOfDeathMethod",
}


class Declaration(Protocol):
    """A declaration indexed by section: a checked notification or a stored record's bundle."""

    @property
    def parsed(self) -> ParsedBundle:
        """Return the indexed bundle."""
        ...

    @property
    def event(self) -> str:
        """Return birth or death."""
        ...

    @property
    def sections(self) -> dict[str, list[Entry]]:
        """Return the entries of each Composition section, by section code."""
        ...


def people(checked: Declaration) -> dict[str, JSON]:
    """Return the Patient resource of each role (child, mother, ..., informant)."""
    found: dict[str, JSON] = {}
    for role, code in ROLE_SECTIONS.items():
        patient = _patient(checked, checked.sections.get(code, []))
        if patient is not None:
            found[role] = patient
    informant = _informant_relation(checked)
    if informant is not None:
        patient = _patient(checked, [informant])
        if patient is not None:
            found["informant"] = patient
    return found


def _patient(checked: Declaration, entries: list[Entry]) -> JSON | None:
    for entry in entries:
        if entry.type == "Patient":
            return entry.resource
        if entry.type == "RelatedPerson":
            link = entry.resource.get("patient")
            ref = link.get("reference") if isinstance(link, dict) else None
            target = checked.parsed.by_url.get(ref) if isinstance(ref, str) else None
            if target is not None and target.type == "Patient":
                return target.resource
    return None


def _informant_relation(checked: Declaration) -> Entry | None:
    for entry in checked.sections.get("informant-details", []):
        if entry.type in ("RelatedPerson", "Patient"):
            return entry
    return None


def _phone(patient: JSON) -> str | None:
    for telecom in patient.get("telecom") or []:
        value = telecom.get("value")
        if telecom.get("system") == "phone" and isinstance(value, str) and value:
            return value
    return None


def task_string(checked: Declaration, url: str) -> str | None:
    """Return the valueString of a Task extension, if any."""
    found = extension(checked.parsed.task.resource, url)
    value = found[1].get("valueString") if found else None
    return value if isinstance(value, str) and value.strip() else None


def _person_facts(role: str, patient: JSON) -> set[str]:
    given, family = name_parts(patient)
    present = {
        "name": bool(given and family),
        "gender": patient.get("gender") in ("male", "female", "other"),
        "birthDate": bool(patient.get("birthDate")),
        "deathDate": bool(patient.get("deceasedDateTime")),
        "address": bool(patient.get("address")),
        "nationality": any(
            isinstance(e, dict) and e.get("url") == domain.NATIONALITY
            for e in patient.get("extension") or []
        ),
        "identifier": any(
            isinstance(i, dict) and i.get("value") for i in patient.get("identifier") or []
        ),
        "maritalStatus": bool(patient.get("maritalStatus")),
        "phone": _phone(patient) is not None,
    }
    return {f"{role}.{fact}" for fact, ok in present.items() if ok}


def present_fields(checked: Declaration) -> set[str]:
    """Return the names of the declaration fields this notification fills."""
    fields: set[str] = set()
    for role, patient in people(checked).items():
        fields |= _person_facts(role, patient)
    fields.add("placeOfBirth" if checked.event == "birth" else "placeOfDeath")
    for entry in checked.parsed.of_type("Observation"):
        fact = OBSERVATION_FACTS.get(first_code(entry.resource.get("code")) or "")
        if fact and any(k.startswith("value") for k in entry.resource):
            fields.add(fact)
    informant = _informant_relation(checked)
    if informant is not None and (
        informant.type == "Patient" or first_code(informant.resource.get("relationship"))
    ):
        fields.add("informant.type")
    if task_string(checked, domain.CONTACT_PERSON) and "informant.type" not in fields:
        fields.add("informant.type")
    if task_string(checked, domain.CONTACT_PHONE):
        fields.add("contact.phone")
    if task_string(checked, domain.CONTACT_EMAIL):
        fields.add("contact.email")
    return fields


def missing_fields(checked: Declaration, required: tuple[str, ...]) -> list[str]:
    """Return the required fields this notification leaves empty, in configured order."""
    present = present_fields(checked)
    return [name for name in required if name not in present]
