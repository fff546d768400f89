"""The denormalised search columns of a record, computed from its saved bundle (pure).

Every path that writes a record (notification, staff declaration, staff action, later DCI
and imports) takes its columns from `search_columns`, so a record's columns never depend on
how it arrived. The bundle keeps every value whole; the columns are search and sort keys cut
to the column sizes below, which the `records` table uses too.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from crvshub.record.domain import Event
from crvshub.record.fhir_mapping import CONTACT_PHONE_EXT, resources, section_resource, subject
from crvshub.record.fhir_mapping import task as task_of
from crvshub.text import normalize

Resource = dict[str, Any]
NAME_MAX = 255  # subject_given, subject_family
NAME_KEY_MAX = 512  # subject_name_norm (indexed: kept well under PostgreSQL's index entry limit)
GENDER_MAX = 16
LOCATION_ID_MAX = 64
CONTACT_MAX = 32
EMAIL_MAX = 255
CONTACT_EMAIL_EXT = "http://opencrvs.org/specs/extension/contact-person-email"
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def search_columns(bundle: dict[str, Any], event: Event) -> dict[str, Any]:
    """Return the record's search columns describing its subject (child or deceased)."""
    patient = subject(bundle, event) or {}
    given, family = name_parts(patient)
    full = " ".join(p for p in (given, family) if p)
    gender = patient.get("gender")
    return {
        "subject_given": _cut(given, NAME_MAX),
        "subject_family": _cut(family, NAME_MAX),
        "subject_name_norm": _cut(normalize(full), NAME_KEY_MAX),
        "subject_gender": _cut(gender if isinstance(gender, str) else None, GENDER_MAX),
        "event_date": _event_date(patient, event),
        "event_location_id": _event_location(bundle, event),
        "contact_number": _cut(_task_string(bundle, CONTACT_PHONE_EXT), CONTACT_MAX),
        "contact_email": _cut(_task_string(bundle, CONTACT_EMAIL_EXT), EMAIL_MAX),
    }


def name_parts(patient: Resource) -> tuple[str | None, str | None]:
    """Return (given names, family name) of a Patient's first name, blanks dropped."""
    names = patient.get("name")
    first = names[0] if isinstance(names, list) and names and isinstance(names[0], dict) else {}
    given = _join(first.get("given"))
    family = first.get("family")
    return given, (_join(family) if isinstance(family, list) else _join([family]))


def _join(parts: Any) -> str | None:
    if not isinstance(parts, list):
        return None
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()) or None


def _cut(value: str | None, limit: int) -> str | None:
    return (value[:limit].rstrip() or None) if value else None


def _event_date(patient: Resource, event: Event) -> date | None:
    raw = patient.get("birthDate") if event is Event.BIRTH else patient.get("deceasedDateTime")
    if not isinstance(raw, str) or not _FULL_DATE.match(raw):
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def _encounter(bundle: dict[str, Any], event: Event) -> Resource | None:
    found = section_resource(bundle, f"{event.value}-encounter")
    if found is not None:
        return found
    return next((r for r in resources(bundle) if r.get("resourceType") == "Encounter"), None)


def _event_location(bundle: dict[str, Any], event: Event) -> str | None:
    items = (_encounter(bundle, event) or {}).get("location")
    for item in items if isinstance(items, list) else []:
        target = item.get("location") if isinstance(item, dict) else None
        ref = target.get("reference") if isinstance(target, dict) else None
        if isinstance(ref, str) and ref.startswith("Location/"):
            location_id = ref.removeprefix("Location/")
            return location_id if 0 < len(location_id) <= LOCATION_ID_MAX else None
    return None


def _task_string(bundle: dict[str, Any], url: str) -> str | None:
    extensions = task_of(bundle).get("extension")
    for ext in extensions if isinstance(extensions, list) else []:
        if isinstance(ext, dict) and ext.get("url") == url:
            value = ext.get("valueString")
            return (value.strip() or None) if isinstance(value, str) else None
    return None
