"""Our records in the standard's shape: the DCI CRVS person record (no database).

The shape is the one of the standard's CRVS sample messages (`CRVS_Person`: `identifier[]`
with `identifier_type`/`identifier_value`, `name{surname, given_name, second_name}`, `sex`,
`birth_date`, `birth_place`, `death_date`, `death_place`, `address[]`,
`parent1_identifier`, `parent2_identifier`), read from the record's stored FHIR bundle.
Only values the record has are written: an unknown death date is left out, not "".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crvshub.dci import domain
from crvshub.record.search_results import identifiers, person
from crvshub.record.service import Record

Json = dict[str, Any]
PlaceName = Callable[[str | None], str | None]
CONTEXT = {
    "@vocab": "https://schema.spdci.org/common/v1",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "schema": "http://schema.org/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
}
SEX = {"male": "male", "female": "female", "other": "other", "unknown": "unknown"}
NATIONAL = ("NATIONAL_ID", "NID", "UIN")


def _identifier(kind: str, value: str) -> Json:
    return {"@type": "Identifier", "identifier_type": kind, "identifier_value": value}


def _name(resource: Json | None) -> Json | None:
    raw = (resource or {}).get("name")
    first = next((n for n in raw if isinstance(n, dict)), None) if isinstance(raw, list) else None
    if first is None:
        return None
    given = [g.strip() for g in first.get("given", []) if isinstance(g, str) and g.strip()]
    family = first.get("family")
    family = " ".join(family) if isinstance(family, list) else family
    name: Json = {"@type": "Name"}
    if isinstance(family, str) and family.strip():
        name["surname"] = family.strip()
    if given:
        name["given_name"] = given[0]
    if len(given) > 1:
        name["second_name"] = " ".join(given[1:])
    for part, key in (("prefix", "prefix"), ("suffix", "suffix")):
        values = first.get(part)
        if isinstance(values, list) and values and isinstance(values[0], str):
            name[key] = " ".join(str(v) for v in values)
    return name


def _national_id(resource: Json | None) -> str | None:
    for found in identifiers(resource):
        if found["type"] in NATIONAL and found["id"]:
            return str(found["id"])
    return None


def _place(location_id: str | None, place_name: PlaceName) -> Json | None:
    if not location_id:
        return None
    place: Json = {"@type": "Place", "@id": location_id}
    name = place_name(location_id)
    if name:
        place["name"] = name
    return place


def _address(resource: Json | None) -> list[Json]:
    raw = (resource or {}).get("address")
    found: list[Json] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        lines = [str(x) for x in item.get("line", []) if isinstance(x, str) and x.strip()]
        address: Json = {"@type": "Address"}
        if lines:
            address["address_line1"] = " ".join(lines[:2])
        if len(lines) > 2:
            address["address_line2"] = " ".join(lines[2:])
        for source, key in (("city", "locality"), ("district", "sub_region_code"),
                            ("state", "region_code"), ("postalCode", "postal_code"),
                            ("country", "country_code")):
            if isinstance(item.get(source), str) and item[source]:
                address[key] = item[source]
        if len(address) > 1:
            found.append(address)
    return found


def _event(record: Record, subject: Json | None, place_name: PlaceName) -> Json:
    found: Json = {}
    birth = record.event_date if record.event == "birth" else (subject or {}).get("birthDate")
    if birth:
        found["birth_date"] = domain.as_json(birth)
    if record.event == "death" and record.event_date:
        found["death_date"] = record.event_date.isoformat()
    place = _place(record.event_location_id, place_name)
    if place:
        found["birth_place" if record.event == "birth" else "death_place"] = place
    return found


def person_record(record: Record, place_name: PlaceName) -> Json:
    """Return the CRVS person record of a birth (the child) or death (the deceased)."""
    role = "child" if record.event == "birth" else "deceased"
    subject = person(record, role)
    result: Json = {"@context": CONTEXT, "@type": "CRVS_Person",
                    "@id": f"crvshub:record:{record.id}"}
    ids: list[Json] = []
    national = _national_id(subject)
    if national:
        ids.append(_identifier("UIN", national))
    if record.registration_number:
        ids.append(_identifier("BRN" if record.event == "birth" else "DRN",
                               record.registration_number))
    result["identifier"] = ids
    name = _name(subject)
    if name is not None:
        result["name"] = name
    gender = (subject or {}).get("gender") or record.subject_gender
    if isinstance(gender, str) and gender in SEX:
        result["sex"] = SEX[gender]
    result.update(_event(record, subject, place_name))
    address = _address(subject)
    if address:
        result["address"] = address
    if record.event == "birth":
        for key, parent in (("parent1_identifier", "mother"), ("parent2_identifier", "father")):
            value = _national_id(person(record, parent))
            if value:
                result[key] = _identifier("UIN", value)
    return result
