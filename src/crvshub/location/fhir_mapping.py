"""Render locations as FHIR Location resources and read FHIR Locations back (the wire edge)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from crvshub.errors import IssueCollector
from crvshub.location.domain import (
    INTERNAL_ID_SYSTEM,
    JURISDICTION_TYPE_SYSTEM,
    JURISDICTION_TYPES,
    LOCATION_TYPE_SYSTEM,
    ROOT_REFERENCE,
    STATISTICAL_CODE_SYSTEM,
    LocationInput,
    LocationType,
    LocationView,
    normalise_jurisdiction,
    parse_reference,
)
from crvshub.location.errors import InvalidLocationPayload
from crvshub.location.payloads import MAX_NAME, STATISTICAL_ID, STATUSES

GEOJSON_EXTENSION = "http://hl7.org/fhir/StructureDefinition/location-boundary-geojson"
STATISTICS_EXTENSIONS = {
    "male_population": "http://opencrvs.org/specs/id/statistics-male-populations",
    "female_population": "http://opencrvs.org/specs/id/statistics-female-populations",
    "population": "http://opencrvs.org/specs/id/statistics-total-populations",
    "crude_birth_rate": "http://opencrvs.org/specs/id/statistics-crude-birth-rates",
}
PHYSICAL_TYPES = {
    "jdn": {"code": "jdn", "display": "Jurisdiction"},
    "bu": {"code": "bu", "display": "Building"},
}

Lookup = Callable[[str], LocationView | None]


def id_system(location_type: str) -> str:
    """Return the identifier system used for a location type's statistical id."""
    if location_type == LocationType.ADMIN_STRUCTURE:
        return STATISTICAL_CODE_SYSTEM
    return INTERNAL_ID_SYSTEM


def identifiers(view: LocationView) -> list[dict[str, str]]:
    """Return the identifiers of a location, as OpenCRVS writes them."""
    found = [{"system": id_system(view.type), "value": view.identifier_value}]
    if view.type == LocationType.ADMIN_STRUCTURE and view.jurisdiction_type:
        found.append({"system": JURISDICTION_TYPE_SYSTEM, "value": view.jurisdiction_type})
    return found


def _statistics_extensions(stats: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    years = sorted(stats)
    return [
        {
            "url": url,
            "valueString": json.dumps(
                [{year: stats[year][field]} for year in years if field in stats[year]],
                separators=(",", ":"),
            ),
        }
        for field, url in STATISTICS_EXTENSIONS.items()
    ]


def _address(view: LocationView, lookup: Lookup) -> dict[str, Any]:
    address: dict[str, Any] = {"line": []}
    for ancestor_id in view.ancestor_ids:
        ancestor = lookup(ancestor_id)
        if ancestor is None:
            continue
        if ancestor.jurisdiction_type == "DISTRICT":
            address["district"] = ancestor.name
        elif ancestor.jurisdiction_type == "STATE":
            address["state"] = ancestor.name
    address["country"] = view.country
    return address


def to_resource(view: LocationView, lookup: Lookup) -> dict[str, Any]:
    """Return the FHIR Location resource of a location (one shape for both APIs)."""
    admin = view.type == LocationType.ADMIN_STRUCTURE
    resource: dict[str, Any] = {
        "resourceType": "Location",
        "id": view.id,
        "meta": {"versionId": str(view.version), "lastUpdated": view.updated_at.isoformat()},
        "identifier": identifiers(view),
        "name": view.name,
        "alias": list(view.alias),
    }
    if view.description is not None:
        resource["description"] = view.description
    resource["status"] = view.status
    resource["mode"] = "instance"
    resource["partOf"] = {
        "reference": f"Location/{view.part_of_id}" if view.part_of_id else ROOT_REFERENCE
    }
    resource["type"] = {"coding": [{"system": LOCATION_TYPE_SYSTEM, "code": view.type}]}
    resource["physicalType"] = {"coding": [PHYSICAL_TYPES["jdn" if admin else "bu"]]}
    if admin:
        extensions = []
        if view.extra.get("geojson"):
            extensions.append(
                {
                    "url": GEOJSON_EXTENSION,
                    "valueAttachment": {
                        "contentType": "application/geo+json",
                        "data": view.extra["geojson"],
                    },
                }
            )
        resource["extension"] = extensions + _statistics_extensions(view.statistics)
        resource["address"] = {"country": view.country}
    else:
        resource["telecom"] = list(view.extra.get("telecom", []))
        resource["address"] = _address(view, lookup)
    return resource


def _statistics_from(extensions: list[Any], issues: IssueCollector) -> dict[str, dict[str, Any]]:
    by_url = {url: field for field, url in STATISTICS_EXTENSIONS.items()}
    stats: dict[str, dict[str, Any]] = {}
    for index, ext in enumerate(extensions):
        field = by_url.get(str(ext.get("url"))) if isinstance(ext, dict) else None
        if field is None:
            continue
        try:
            for item in json.loads(ext.get("valueString") or "[]"):
                for year, value in item.items():
                    stats.setdefault(str(int(year)), {})[field] = value
        except (ValueError, TypeError, AttributeError):
            issues.add(
                InvalidLocationPayload,
                "statistics extensions hold a JSON array of {year: number} objects",
                f"Location.extension[{index}].valueString",
            )
    return stats


def _geojson_from(extensions: list[Any]) -> dict[str, Any]:
    for ext in extensions:
        if isinstance(ext, dict) and ext.get("url") == GEOJSON_EXTENSION:
            data = (ext.get("valueAttachment") or {}).get("data")
            if isinstance(data, str):
                return {"geojson": data}
    return {}


def _type_from(body: dict[str, Any], issues: IssueCollector) -> str | None:
    for coding in (body.get("type") or {}).get("coding") or []:
        if isinstance(coding, dict) and coding.get("code") in tuple(LocationType):
            return str(coding["code"])
    issues.add(
        InvalidLocationPayload,
        f"type.coding needs a code ADMIN_STRUCTURE, CRVS_OFFICE or HEALTH_FACILITY "
        f"(system {LOCATION_TYPE_SYSTEM})",
        "Location.type",
    )
    return None


def _identifiers_from(
    body: dict[str, Any], location_type: str | None, issues: IssueCollector
) -> tuple[str | None, str | None]:
    sid, jurisdiction = None, None
    for item in body.get("identifier") or []:
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            continue
        if item.get("system") in (STATISTICAL_CODE_SYSTEM, INTERNAL_ID_SYSTEM):
            value = item["value"]
            prefix = f"{location_type}_"
            sid = value[len(prefix) :] if location_type and value.startswith(prefix) else value
        elif item.get("system") == JURISDICTION_TYPE_SYSTEM:
            jurisdiction = normalise_jurisdiction(item["value"])
    if not sid or not STATISTICAL_ID.match(sid):
        issues.add(
            InvalidLocationPayload,
            f"identifier needs a statistical id (system {STATISTICAL_CODE_SYSTEM} or "
            f"{INTERNAL_ID_SYSTEM}, value <TYPE>_<id>, letters, digits, '_', '.', '-')",
            "Location.identifier",
        )
    if jurisdiction is not None and jurisdiction not in JURISDICTION_TYPES:
        issues.add(InvalidLocationPayload, "unknown jurisdiction type", "Location.identifier")
    return sid, jurisdiction


def _part_of_from(body: dict[str, Any], issues: IssueCollector) -> str | None:
    reference = (body.get("partOf") or {}).get("reference")
    if reference is None or reference == ROOT_REFERENCE:
        return None
    if not isinstance(reference, str) or not reference.startswith("Location/"):
        issues.add(
            InvalidLocationPayload,
            "partOf.reference must be Location/<id>",
            "Location.partOf.reference",
        )
        return None
    return parse_reference(reference)


def from_resource(body: Any) -> LocationInput:
    """Return the location described by a FHIR Location resource; 400 naming every problem."""
    issues = IssueCollector()
    if not isinstance(body, dict) or body.get("resourceType") != "Location":
        raise InvalidLocationPayload(
            "the body must be a FHIR Location resource", expression="Location.resourceType"
        )
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        issues.add(
            InvalidLocationPayload, "name is required (1 to 255 characters)", "Location.name"
        )
    alias = body.get("alias") or []
    if not isinstance(alias, list) or not all(isinstance(a, str) for a in alias):
        issues.add(InvalidLocationPayload, "alias must be a list of strings", "Location.alias")
    status = body.get("status", "active")
    if status not in STATUSES:
        issues.add(InvalidLocationPayload, "status must be active or inactive", "Location.status")
    location_type = _type_from(body, issues)
    sid, jurisdiction = _identifiers_from(body, location_type, issues)
    part_of = _part_of_from(body, issues)
    extensions = body.get("extension") or []
    stats = _statistics_from(extensions if isinstance(extensions, list) else [], issues)
    if issues or location_type is None or sid is None:
        raise InvalidLocationPayload(issues=issues.issues)
    description = body.get("description")
    return LocationInput(
        type=location_type,
        statistical_id=sid,
        name=str(name).strip(),
        alias=list(alias) or [str(name).strip()],
        part_of=part_of,
        status=str(status),
        description=description if isinstance(description, str) else None,
        jurisdiction_type=jurisdiction,
        statistics=stats,
        extra={
            **_geojson_from(extensions if isinstance(extensions, list) else []),
            **({"telecom": body["telecom"]} if isinstance(body.get("telecom"), list) else {}),
        },
    )
