"""The FHIR resources of a stored record, as Bulk Data NDJSON lines carry them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from crvshub.fhir.ids import entry_id
from crvshub.fhir_records.domain import conform, instant

Resource = dict[str, Any]
# What an export may hold; a patient-level export keeps the resources about people.
EXPORT_TYPES = ("Composition", "Task", "Patient", "RelatedPerson", "Encounter", "Observation",
                "Practitioner", "DocumentReference", "QuestionnaireResponse")
PATIENT_TYPES = ("Patient", "RelatedPerson", "Encounter", "Observation", "Composition", "Task",
                 "DocumentReference")


def export_lines(record_id: str, event: str, updated_at: datetime, bundle: dict[str, Any],
                 types: frozenset[str]) -> list[tuple[str, bytes]]:
    """Return (type, NDJSON line) of a record's resources of the wanted types.

    Inside a stored bundle resources point to each other by `urn:uuid:` full URLs; outside
    it they become relative references (`Patient/<id>`), which every FHIR reader resolves.
    Each resource has the id and the R4 shape the FHIR read API serves it with
    (`fhir.ids.entry_id`, `fhir_records.domain.conform`), and `meta.lastUpdated`, the
    record's last change. The bundle is one this call may change (freshly read).
    """
    last_updated = instant(updated_at)
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    swaps: list[tuple[bytes, bytes]] = []
    found: list[Resource] = []
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            continue
        full = entry.get("fullUrl")
        resource["id"] = entry_id(record_id, entry)
        resource["meta"] = {**(resource.get("meta") or {}), "lastUpdated": last_updated}
        conform(resource, event)
        if isinstance(full, str):
            # orjson writes no spaces, so a reference is always exactly these bytes.
            swaps.append((orjson.dumps({"reference": full})[1:-1],
                          orjson.dumps({"reference": f"{resource['resourceType']}/"
                                                     f"{resource['id']}"})[1:-1]))
        found.append(resource)
    wanted = [r for r in found if r["resourceType"] in types]
    if not wanted:
        return []
    # One pass per reference over the record's lines joined (orjson escapes newlines inside
    # strings, so b"\n" only separates resources), rather than one per resource.
    blob = b"\n".join(orjson.dumps(r) for r in wanted)
    for old, new in swaps:
        blob = blob.replace(old, new)
    return [(r["resourceType"], line + b"\n")
            for r, line in zip(wanted, blob.split(b"\n"), strict=True)]
