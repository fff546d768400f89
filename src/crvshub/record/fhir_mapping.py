"""Read and update the stored FHIR document bundle of a record (status, identifiers, subject)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from crvshub.fhir.ids import entry_id
from crvshub.record.domain import (
    IDENTIFIER_TYPE_SYSTEM,
    REG_STATUS_SYSTEM,
    SUBJECT_SECTION,
    Event,
    registration_identifier_type,
    registration_number_system,
)

Resource = dict[str, Any]
CONTACT_PHONE_EXT = "http://opencrvs.org/specs/extension/contact-person-phone-number"


def resources(bundle: dict[str, Any]) -> list[Resource]:
    """Return the resources of a bundle, in entry order."""
    return [e["resource"] for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict)]


def resource_ids(record_id: str, bundle: dict[str, Any]) -> set[str]:
    """Return the ids a bundle's resources are served under by the FHIR read API."""
    return {entry_id(record_id, e) for e in bundle.get("entry", [])
            if isinstance(e.get("resource"), dict)}


def composition(bundle: dict[str, Any]) -> Resource:
    """Return the Composition (entry 0)."""
    first: Resource = bundle["entry"][0]["resource"]
    return first


def task(bundle: dict[str, Any]) -> Resource:
    """Return the Task (entry 1)."""
    second: Resource = bundle["entry"][1]["resource"]
    return second


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def by_reference(bundle: dict[str, Any], reference: str) -> Resource | None:
    """Return the in-bundle resource a `urn:uuid:` reference points to."""
    for entry in _list(bundle.get("entry")):
        if isinstance(entry, dict) and entry.get("fullUrl") == reference \
                and isinstance(entry.get("resource"), dict):
            found: Resource = entry["resource"]
            return found
    return None


def section_resource(bundle: dict[str, Any], code: str) -> Resource | None:
    """Return the first resource of a Composition section, by section code.

    Stored bundles passed validation, which checks their structure but not every element a
    section may carry: anything that is not the expected shape is skipped, never a crash.
    """
    for section in _list(composition(bundle).get("section")):
        codings = _list(_dict(_dict(section).get("code")).get("coding"))
        if any(_dict(c).get("code") == code for c in codings):
            for item in _list(_dict(section).get("entry")):
                found = by_reference(bundle, str(_dict(item).get("reference", "")))
                if found is not None:
                    return found
    return None


def subject(bundle: dict[str, Any], event: Event) -> Resource | None:
    """Return the child (birth) or deceased (death) Patient."""
    return section_resource(bundle, SUBJECT_SECTION[event])


def identifier_code(identifier: dict[str, Any]) -> str | None:
    """Return an identifier's type code, in the coding form or the legacy string form."""
    kind = identifier.get("type")
    if isinstance(kind, str):
        return kind
    if isinstance(kind, dict):
        coding_list = kind.get("coding")
        for coding in coding_list if isinstance(coding_list, list) else []:
            if isinstance(coding, dict) and coding.get("code"):
                return str(coding["code"])
    return None


def set_patient_identifier(patient: Resource, code: str, value: str) -> None:
    """Add or replace a Patient identifier of one type (coding form)."""
    kept = [i for i in patient.get("identifier", []) if identifier_code(i) != code]
    kept.append(
        {"type": {"coding": [{"system": IDENTIFIER_TYPE_SYSTEM, "code": code}]}, "value": value}
    )
    patient["identifier"] = kept


def set_task_identifier(bundle: dict[str, Any], system: str, value: str) -> None:
    """Add or replace a Task identifier of one system."""
    the_task = task(bundle)
    kept = [i for i in the_task.get("identifier", []) if i.get("system") != system]
    kept.append({"system": system, "value": value})
    the_task["identifier"] = kept


def set_status(bundle: dict[str, Any], status: str, *, reason: str | None, at: datetime) -> None:
    """Write the status (and the reason of a rejection) into the Task."""
    the_task = task(bundle)
    the_task["businessStatus"] = {"coding": [{"system": REG_STATUS_SYSTEM, "code": status}]}
    the_task["lastModified"] = at.isoformat()
    if reason:
        the_task["statusReason"] = {"text": reason}
    else:
        the_task.pop("statusReason", None)


def set_registration_number(bundle: dict[str, Any], event: Event, number: str) -> None:
    """Store the registration number on the Task and on the child or deceased Patient."""
    set_task_identifier(bundle, registration_number_system(event), number)
    patient = subject(bundle, event)
    if patient is not None:
        set_patient_identifier(patient, registration_identifier_type(event), number)


def add_subject_identifiers(
    bundle: dict[str, Any], event: Event, identifiers: list[tuple[str, str]]
) -> None:
    """Add identifiers (type code, value) such as NATIONAL_ID to the child or deceased."""
    patient = subject(bundle, event)
    if patient is None:
        return
    for code, value in identifiers:
        set_patient_identifier(patient, code, value)


def merge_declaration(current: dict[str, Any], edited: dict[str, Any]) -> dict[str, Any]:
    """Return the edited bundle with the record's identity kept from the current one.

    The Composition id and identifier, and the whole workflow state of the Task (status,
    identifiers, office) belong to the record, not to the editor: they are carried over.
    """
    merged = copy.deepcopy(edited)
    merged["entry"][0] = copy.deepcopy(merged["entry"][0])
    old_comp, new_comp = composition(current), composition(merged)
    new_comp["id"] = old_comp["id"]
    merged["entry"][0]["fullUrl"] = current["entry"][0]["fullUrl"]
    if "identifier" in old_comp:
        new_comp["identifier"] = old_comp["identifier"]
    old_task, new_task = task(current), task(merged)
    for key in ("id", "identifier", "businessStatus", "statusReason", "lastModified", "focus"):
        if key in old_task:
            new_task[key] = copy.deepcopy(old_task[key])
    merged["entry"][1]["fullUrl"] = current["entry"][1]["fullUrl"]
    kept_ext = [e for e in old_task.get("extension", []) if "regLast" in str(e.get("url"))]
    other_ext = [e for e in new_task.get("extension", []) if "regLast" not in str(e.get("url"))]
    new_task["extension"] = other_ext + kept_ext
    return merged
