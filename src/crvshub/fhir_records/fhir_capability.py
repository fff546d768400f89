"""What the FHIR read API of records supports, declared once for the CapabilityStatement."""

from __future__ import annotations

from crvshub.fhir.capability import ResourceCapability, SearchParam
from crvshub.fhir_records.service import INCLUDES, MAX_COUNT, PARAMETERS, REVINCLUDES

_COMMON = {
    "_id": SearchParam("_id", "token", "Resource id (comma-separated alternatives)"),
    "identifier": SearchParam(
        "identifier", "token",
        "system|value or value: tracking ID, registration number, national ID or any "
        "identifier the sender gave (Task, Patient, Composition, RelatedPerson, Practitioner)"),
    "_lastUpdated": SearchParam(
        "_lastUpdated", "date",
        "With prefixes eq, gt, lt, ge, le: incremental sync. Every resource of a record "
        "carries the record's last change"),
    "_count": SearchParam("_count", "number", f"Page size (default 50, at most {MAX_COUNT})"),
}
_SPECIFIC = {
    "status": SearchParam("status", "token", "The resource's FHIR status"),
    "business-status": SearchParam(
        "business-status", "token",
        "Registration status (http://opencrvs.org/specs/reg-status): IN_PROGRESS, DECLARED, "
        "VALIDATED, WAITING_VALIDATION, REGISTERED, CERTIFIED, ISSUED, REJECTED, ARCHIVED, "
        "CORRECTION_REQUESTED"),
    "patient": SearchParam("patient", "reference", "Patient/<id>"),
    "subject": SearchParam("subject", "reference", "Patient/<id>"),
    "focus": SearchParam("focus", "reference", "Composition/<id>"),
    "encounter": SearchParam("encounter", "reference", "Encounter/<id>"),
}
_DOCUMENTATION = (
    "Read-only, from the registration records. Needs a token: a hospital (HEALTH) reads the "
    "records it sent, national ID and webhook clients registered records within their "
    "sections, record search clients what their searches returned, staff their "
    "jurisdiction (docs/integrations/fhir-records.md). Results are ordered by last change.")


def _capability(kind: str) -> ResourceCapability:
    params = [_COMMON[p] for p in ("_id", "identifier", "_lastUpdated")]
    params += [_SPECIFIC[p] for p in PARAMETERS[kind]]
    params.append(_COMMON["_count"])
    extra: dict[str, object] = {}
    if INCLUDES.get(kind):
        extra["searchInclude"] = list(INCLUDES[kind])
    if REVINCLUDES.get(kind):
        extra["searchRevInclude"] = list(REVINCLUDES[kind])
    if kind == "Composition":
        extra["operation"] = [{
            "name": "document",
            "definition": "http://hl7.org/fhir/OperationDefinition/Composition-document"}]
    return ResourceCapability(
        type=kind,
        interactions=("read", "vread", "history-instance", "search-type"),
        search_params=tuple(params),
        versioning="versioned",
        read_history=True,
        documentation=_DOCUMENTATION,
        extra=extra,
    )


RECORD_RESOURCES = tuple(_capability(kind) for kind in PARAMETERS)
