"""Place-of-event and address checks: facilities, home births and location hierarchies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crvshub.errors import IssueCollector
from crvshub.location.domain import LocationType
from crvshub.notification import domain
from crvshub.notification.errors import (
    AddressHierarchy,
    InvalidEventPlace,
    NoEventPlace,
    UnknownCountry,
)
from crvshub.notification.places import Places

# Address fields holding location ids, lowest level first (OpenCRVS line[10..12] convention).
HIERARCHY_LINES = (12, 11, 10)


@dataclass(frozen=True)
class EventPlace:
    """Where the event happened: a stored facility, or an in-bundle place (home, address)."""

    kind: str
    location_id: str | None = None
    full_url: str | None = None


def _encounter(parsed: Any, sections: dict[str, list[Any]], event: str) -> Any | None:
    for entry in sections.get(domain.ENCOUNTER_SECTION[event], []):
        if entry.type == "Encounter":
            return entry
    encounters = parsed.of_type("Encounter")
    return encounters[0] if encounters else None


def check_event_place(
    places: Places, parsed: Any, sections: dict[str, list[Any]], event: str,
    issues: IssueCollector,
) -> EventPlace | None:
    """Check the place of the event named by the Encounter and return it."""
    encounter = _encounter(parsed, sections, event)
    if encounter is None:
        issues.add(NoEventPlace, f"Add an Encounter (section {domain.ENCOUNTER_SECTION[event]}) "
                   "whose location is the place of the event", "Bundle.entry")
        return None
    where = f"{encounter.path}.location[0].location.reference"
    items = encounter.resource.get("location") or [{}]
    target = items[0].get("location") or {}
    ref = target.get("reference")
    if not isinstance(ref, str) or not ref:
        issues.add(NoEventPlace, "Encounter.location[0].location.reference must name the place: "
                   "Location/<health facility id> or an in-bundle Location", where)
        return None
    if ref in parsed.by_url:
        return _in_bundle_place(parsed.by_url[ref], where, issues)
    if not ref.startswith("Location/"):
        return None  # reported as an unresolved reference
    location_id = ref.removeprefix("Location/")
    stored = places.get(location_id)
    if stored is None:
        return None  # reported as an unresolved reference
    if stored.type != LocationType.HEALTH_FACILITY:
        issues.add(InvalidEventPlace, f"{ref} is a {stored.type}, not a HEALTH_FACILITY; for a "
                   "home or other place send an in-bundle Location with its address", where)
        return None
    return EventPlace("HEALTH_FACILITY", location_id=stored.id)


def _in_bundle_place(entry: Any, where: str, issues: IssueCollector) -> EventPlace | None:
    if entry.type != "Location":
        issues.add(InvalidEventPlace, f"The place of the event must be a Location, not a "
                   f"{entry.type}", where)
        return None
    resource = entry.resource
    kind = _location_type_code(resource)
    if isinstance(resource.get("address"), dict) or kind in domain.HOME_PLACE_TYPES:
        return EventPlace(kind or "OTHER", full_url=entry.full_url)
    issues.add(InvalidEventPlace, "An in-bundle place of event needs an address or the type "
               "PRIVATE_HOME or OTHER", f"{entry.path}")
    return None


def _location_type_code(resource: dict[str, Any]) -> str | None:
    kind = resource.get("type")
    concepts = kind if isinstance(kind, list) else [kind]
    for concept in concepts:
        if isinstance(concept, dict):
            coding = concept.get("coding")
            if isinstance(coding, list) and coding and isinstance(coding[0], dict):
                code = coding[0].get("code")
                if isinstance(code, str):
                    return code
    return None


def check_addresses(
    places: Places, parsed: Any, issues: IssueCollector, *, home_country: str
) -> None:
    """Check every address's country and, at home, its location hierarchy."""
    for address, where in _addresses(parsed):
        check_address(places, address, where, issues, home_country=home_country)
    for entry in parsed.of_type("Patient"):
        _check_nationality(entry.resource, entry.path, issues, home_country)


def address_location_ids(parsed: Any, home_country: str) -> list[str]:
    """Return the area ids that `check_addresses` will look up."""
    found: list[str] = []
    for address, where in _addresses(parsed):
        if address.get("country") == home_country:
            found.extend(location_id for location_id, _ in _hierarchy(address, where))
    return found


def _addresses(parsed: Any) -> list[tuple[dict[str, Any], str]]:
    found: list[tuple[dict[str, Any], str]] = []
    for entry in parsed.entries:
        resource = entry.resource
        if entry.type == "Patient":
            found.extend((address, f"{entry.path}.address[{i}]")
                         for i, address in enumerate(resource.get("address") or []))
        elif entry.type == "Location" and isinstance(resource.get("address"), dict):
            found.append((resource["address"], f"{entry.path}.address"))
    return found


def check_address(
    places: Places, address: dict[str, Any], where: str, issues: IssueCollector,
    *, home_country: str,
) -> None:
    """Check one address: a known country, and at home a chain of areas up to the state."""
    country = address.get("country")
    if country is None:
        return
    if not domain.is_known_country(country, home_country):
        issues.add(UnknownCountry, f"Country {country!r} is not an ISO 3166 alpha-3 code",
                   f"{where}.country")
        return
    if country != home_country:
        return
    chain = _hierarchy(address, where)
    for position, (location_id, path) in enumerate(chain):
        _check_link(places, location_id, path, chain[position + 1:], issues)


def _hierarchy(address: dict[str, Any], where: str) -> list[tuple[str, str]]:
    line = address.get("line") or []
    chain = [(line[i], f"{where}.line[{i}]") for i in HIERARCHY_LINES if i < len(line) and line[i]]
    for key in ("district", "state"):
        if address.get(key):
            chain.append((address[key], f"{where}.{key}"))
    return chain


def _check_link(
    places: Places, location_id: str, path: str, above: list[tuple[str, str]],
    issues: IssueCollector,
) -> None:
    area = places.get(location_id)
    if area is None or area.type != LocationType.ADMIN_STRUCTURE:
        issues.add(AddressHierarchy, f"{location_id!r} is not a stored administrative area; "
                   "look ids up with GET /location?type=ADMIN_STRUCTURE", path)
        return
    if above:
        parent_id, _ = above[0]
        if area.part_of_id != parent_id:
            issues.add(AddressHierarchy, f"{area.name} ({location_id}) is not part of "
                       f"{parent_id!r}; it is part of {area.part_of_id!r}", path)
    elif area.part_of_id is not None:
        issues.add(AddressHierarchy, f"The address stops at {area.name}; add the area it is "
                   f"part of ({area.part_of_id}) as the next level (district or state)", path)


def _check_nationality(
    resource: dict[str, Any], path: str, issues: IssueCollector, home_country: str
) -> None:
    for i, ext in enumerate(resource.get("extension") or []):
        if not isinstance(ext, dict) or ext.get("url") != domain.NATIONALITY:
            continue
        for sub in ext.get("extension") or []:
            if not isinstance(sub, dict) or sub.get("url") != "code":
                continue
            concept = sub.get("valueCodeableConcept")
            coding = concept.get("coding") if isinstance(concept, dict) else None
            first = coding[0] if isinstance(coding, list) and coding else None
            code = first.get("code") if isinstance(first, dict) else None
            if isinstance(code, str) and not domain.is_known_country(code, home_country):
                issues.add(UnknownCountry, f"Nationality {code!r} is not an ISO 3166 alpha-3 "
                           "code", f"{path}.extension[{i}]")
