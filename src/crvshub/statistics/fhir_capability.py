"""The FHIR Bulk Data operations CRVS Hub serves, declared once for the CapabilityStatement."""

from __future__ import annotations

from crvshub.fhir.capability import Operation

BULK_DATA = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition"
EXPORT_OPERATIONS = (
    Operation("export", f"{BULK_DATA}/export", documentation=(
        "FHIR Bulk Data system export (Prefer: respond-async; _type, _since, _outputFormat "
        "application/fhir+ndjson); for statistics clients and performance staff")),
    Operation("patient-export", f"{BULK_DATA}/patient-export", resource="Patient",
              documentation="Patient-level Bulk Data export, same parameters"),
)
