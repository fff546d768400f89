"""The FHIR resources of a stored record, as Bulk Data NDJSON lines carry them."""

from __future__ import annotations

from typing import Any

import orjson

Resource = dict[str, Any]
# What an export may hold; a patient-level export keeps the resources about people.
EXPORT_TYPES = ("Composition", "Task", "Patient", "RelatedPerson", "Encounter", "Observation",
                "Practitioner", "DocumentReference", "QuestionnaireResponse")
PATIENT_TYPES = ("Patient", "RelatedPerson", "Encounter", "Observation", "Composition", "Task",
                 "DocumentReference")


def _rewrite(value: Any, urls: dict[str, str]) -> None:
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str) and ref in urls:
            value["reference"] = urls[ref]
        for item in value.values():
            if isinstance(item, dict | list):
                _rewrite(item, urls)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                _rewrite(item, urls)


def export_resources(bundle: dict[str, Any], types: frozenset[str]) -> list[Resource]:
    """Return a record's resources of the wanted types, each with an id, references resolved.

    Inside a stored bundle resources point to each other by `urn:uuid:` full URLs; outside
    it they become relative references (`Patient/<id>`), which every FHIR reader resolves.
    """
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    copied: list[Resource] = orjson.loads(orjson.dumps(entries))
    urls: dict[str, str] = {}
    found: list[Resource] = []
    for entry in copied:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            continue
        full = entry.get("fullUrl")
        if not resource.get("id") and isinstance(full, str) and full.startswith("urn:uuid:"):
            resource["id"] = full.removeprefix("urn:uuid:")
        if isinstance(full, str) and resource.get("id"):
            urls[full] = f"{resource['resourceType']}/{resource['id']}"
        found.append(resource)
    out = []
    for resource in found:
        if resource["resourceType"] in types and resource.get("id"):
            _rewrite(resource, urls)
            out.append(resource)
    return out
