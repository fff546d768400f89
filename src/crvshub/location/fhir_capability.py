"""What FHIR Location supports, declared once for the CapabilityStatement."""

from __future__ import annotations

from crvshub.fhir.capability import ResourceCapability, SearchParam

LOCATION_SEARCH = (
    SearchParam(
        "name",
        "string",
        "Prefix of the name or an alias; case- and accent-insensitive. "
        "name:exact matches the whole name exactly.",
    ),
    SearchParam(
        "identifier",
        "token",
        "system|value, |value or value, e.g. "
        "http://opencrvs.org/specs/id/internal-id|CRVS_OFFICE_<id>",
    ),
    SearchParam("type", "token", "ADMIN_STRUCTURE, CRVS_OFFICE or HEALTH_FACILITY"),
    SearchParam(
        "partof",
        "reference",
        "Direct children of Location/<id>; partof:below returns the whole subtree",
    ),
    SearchParam("status", "token", "active or inactive"),
    SearchParam("address-country", "string", "Country code (ISO 3166-1 alpha-3)"),
    SearchParam("_id", "token", "Location id"),
    SearchParam("_lastUpdated", "date", "With prefixes eq, gt, lt, ge, le"),
    SearchParam("_count", "number", "Page size (default 50, at most 1000; 0 gives only the total)"),
    SearchParam("_sort", "string", "name, _id, _lastUpdated, status or type; prefix - to reverse"),
)


LOCATION = ResourceCapability(
    type="Location",
    interactions=("read", "vread", "update", "history-instance", "create", "search-type"),
    search_params=LOCATION_SEARCH,
    versioning="versioned",
    read_history=True,
    update_create=False,
    conditional_create=True,
    documentation="Administrative areas, CRVS offices and health facilities. Reads are "
    "public; create and update need the natlsysadmin scope. Conditional create "
    "(If-None-Exist) supports identifier only. Updates accept If-Match.",
)
