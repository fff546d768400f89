"""FHIR wire format: OperationOutcome, responses, bundles. No database access here."""
