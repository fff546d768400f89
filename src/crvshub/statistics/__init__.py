"""Vital statistics, completeness and timeliness, bulk export (FHIR $export, CSV)."""
