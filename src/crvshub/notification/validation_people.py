"""Datatype checks of the resources inside a notification (Patient, Encounter, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crvshub.errors import IssueCollector
from crvshub.notification import domain
from crvshub.notification.errors import InvalidValue

JSON = dict[str, Any]


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_names(resource: JSON, path: str, issues: IssueCollector) -> None:
    names = resource.get("name")
    if names is None:
        return
    if not isinstance(names, list):
        issues.add(InvalidValue, "name must be a list of HumanName", f"{path}.name")
        return
    for i, name in enumerate(names):
        where = f"{path}.name[{i}]"
        if not isinstance(name, dict):
            issues.add(InvalidValue, "Each name must be an object", where)
            continue
        family = name.get("family")
        if family is not None and not isinstance(family, str) and not _is_str_list(family):
            issues.add(InvalidValue, "family must be a string (or a list of strings)",
                       f"{where}.family")
        given = name.get("given")
        if given is not None and not _is_str_list(given):
            issues.add(InvalidValue, "given must be a list of strings", f"{where}.given")


def check_address(address: Any, where: str, issues: IssueCollector) -> None:
    """Check the datatypes of one Address."""
    if not isinstance(address, dict):
        issues.add(InvalidValue, "An address must be an object", where)
        return
    line = address.get("line")
    if line is not None and not _is_str_list(line):
        issues.add(InvalidValue, "address.line must be a list of strings", f"{where}.line")
    for key in ("district", "state", "country", "city", "postalCode", "type", "text"):
        value = address.get(key)
        if value is not None and not isinstance(value, str):
            issues.add(InvalidValue, f"address.{key} must be a string", f"{where}.{key}")


def _check_addresses(resource: JSON, path: str, issues: IssueCollector) -> None:
    addresses = resource.get("address")
    if addresses is None:
        return
    if not isinstance(addresses, list):
        issues.add(InvalidValue, "address must be a list", f"{path}.address")
        return
    for i, address in enumerate(addresses):
        check_address(address, f"{path}.address[{i}]", issues)


def _check_identifiers(resource: JSON, path: str, issues: IssueCollector) -> None:
    identifiers = resource.get("identifier")
    if identifiers is None:
        return
    if not isinstance(identifiers, list):
        issues.add(InvalidValue, "identifier must be a list", f"{path}.identifier")
        return
    for i, ident in enumerate(identifiers):
        where = f"{path}.identifier[{i}]"
        if not isinstance(ident, dict):
            issues.add(InvalidValue, "Each identifier must be an object", where)
            continue
        kind = ident.get("type")
        if kind is not None and not isinstance(kind, str | dict):
            issues.add(InvalidValue, "identifier.type must be a code or a CodeableConcept",
                       f"{where}.type")
        value = ident.get("value")
        if value is not None and not isinstance(value, str):
            issues.add(InvalidValue, "identifier.value must be a string", f"{where}.value")


def _check_dates(resource: JSON, path: str, issues: IssueCollector) -> None:
    birth = resource.get("birthDate")
    if birth is not None and (not isinstance(birth, str) or not domain.is_fhir_date(birth)):
        issues.add(InvalidValue, "birthDate must be a date: YYYY-MM-DD", f"{path}.birthDate")
    death = resource.get("deceasedDateTime")
    if death is not None and (not isinstance(death, str) or not domain.is_fhir_datetime(death)):
        issues.add(InvalidValue, "deceasedDateTime must be a date or date-time",
                   f"{path}.deceasedDateTime")
    for key in ("deceasedBoolean", "multipleBirthBoolean", "active"):
        if key in resource and not isinstance(resource[key], bool):
            issues.add(InvalidValue, f"{key} must be true or false", f"{path}.{key}")


def _check_patient(resource: JSON, path: str, issues: IssueCollector) -> None:
    _check_names(resource, path, issues)
    gender = resource.get("gender")
    if gender is not None and (not isinstance(gender, str) or gender not in domain.GENDERS):
        issues.add(InvalidValue, "gender must be male, female, other or unknown",
                   f"{path}.gender")
    _check_dates(resource, path, issues)
    _check_addresses(resource, path, issues)
    _check_identifiers(resource, path, issues)
    telecom = resource.get("telecom")
    if telecom is not None and not (
        isinstance(telecom, list) and all(isinstance(t, dict) for t in telecom)
    ):
        issues.add(InvalidValue, "telecom must be a list of ContactPoint", f"{path}.telecom")


def _check_encounter(resource: JSON, path: str, issues: IssueCollector) -> None:
    locations = resource.get("location")
    if locations is None:
        return
    if not isinstance(locations, list) or not all(
        isinstance(item, dict) and isinstance(item.get("location", {}), dict)
        for item in locations
    ):
        issues.add(InvalidValue, "Encounter.location must be a list of {location: Reference}",
                   f"{path}.location")


def _check_related_person(resource: JSON, path: str, issues: IssueCollector) -> None:
    _check_patient(resource, path, issues)  # the same name, gender, date and address types
    link = resource.get("patient")
    if link is not None and not (isinstance(link, dict) and isinstance(link.get("reference"), str)):
        issues.add(InvalidValue, "RelatedPerson.patient must be a Reference to a Patient entry",
                   f"{path}.patient")
    relationship = resource.get("relationship")
    if relationship is not None and not (isinstance(relationship, dict) or (
            isinstance(relationship, list) and all(isinstance(r, dict) for r in relationship))):
        issues.add(InvalidValue, "RelatedPerson.relationship must be a CodeableConcept "
                   "(or, as FHIR R4 writes it, a list of them)",
                   f"{path}.relationship")


def _check_location(resource: JSON, path: str, issues: IssueCollector) -> None:
    if "address" in resource:
        check_address(resource["address"], f"{path}.address", issues)


def _check_list_fields(resource: JSON, path: str, issues: IssueCollector) -> None:
    for key in ("extension", "category", "item"):
        value = resource.get(key)
        if value is not None and not isinstance(value, list):
            issues.add(InvalidValue, f"{key} must be a list", f"{path}.{key}")


_CHECKS: dict[str, Callable[[JSON, str, IssueCollector], None]] = {
    "Patient": _check_patient,
    "Encounter": _check_encounter,
    "RelatedPerson": _check_related_person,
    "Location": _check_location,
}


def check_resource(resource: JSON, path: str, issues: IssueCollector) -> None:
    """Check the datatypes of one resource, adding a problem per bad element."""
    _check_list_fields(resource, path, issues)
    check = _CHECKS.get(str(resource.get("resourceType")))
    if check:
        check(resource, path, issues)
