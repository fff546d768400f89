"""FHIR R4 read API of registration records: who may read what, resources, search."""
