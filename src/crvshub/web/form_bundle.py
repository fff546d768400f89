"""Declaration form values <-> the FHIR document bundle the record API stores.

`values_of` reads a stored bundle (a hospital's notification, a saved draft) into the form's
flat values; `write` writes submitted values into a copy of that bundle, touching only the
fields whose value changed, so that what a form does not show (a hospital's extra
identifiers, address parts, other observations) is kept as it was.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from crvshub.notification import domain as nd
from crvshub.notification.completeness import index
from crvshub.notification.fhir_mapping import OBSERVATION_FACTS, ROLE_SECTIONS, people
from crvshub.notification.validation import first_code

JSON = dict[str, Any]
SECTIONS = "http://opencrvs.org/specs/sections"
ID_TYPES = "http://opencrvs.org/specs/identifier-type"
MARITAL = "http://hl7.org/fhir/StructureDefinition/marital-status"
LOCATION_TYPES = "http://opencrvs.org/specs/location-type"
RELATIONSHIPS = "http://hl7.org/fhir/ValueSet/relatedperson-relationshiptype"
FACT_CODES = {fact: code for code, fact in OBSERVATION_FACTS.items()}
CODED = {"mannerOfDeath": "http://opencrvs.org/specs/manner-of-death",
         "causeOfDeathEstablished": "http://opencrvs.org/specs/cause-of-death-established",
         "causeOfDeathMethod": "http://opencrvs.org/specs/cause-of-death-method"}
# The informant may be one of the people of the declaration rather than a person of their own.
FAMILY = {"birth": {"MOTHER": "mother", "FATHER": "father"}, "death": {"SPOUSE": "spouse"}}
ENCOUNTER_SECTION = {"birth": "birth-encounter", "death": "death-encounter"}
TASK_CODES = {"birth": "BIRTH", "death": "DEATH"}


def new_url() -> str:
    """Return a fresh in-bundle reference."""
    return f"urn:uuid:{uuid.uuid4()}"


def empty_bundle(event: str) -> JSON:
    """Return a declaration bundle with only its Composition and Task."""
    return {"resourceType": "Bundle", "type": "document", "entry": [
        {"fullUrl": new_url(), "resource": {
            "resourceType": "Composition", "status": "preliminary",
            "type": {"coding": [{"system": "http://opencrvs.org/doc-types",
                                 "code": f"{event}-declaration"}]},
            "title": f"{event.capitalize()} declaration", "section": []}},
        {"fullUrl": new_url(), "resource": {
            "resourceType": "Task", "status": "draft", "intent": "unknown",
            "code": {"coding": [{"system": "http://opencrvs.org/specs/types",
                                 "code": TASK_CODES[event]}]}, "extension": []}},
    ]}


# ---- reading -------------------------------------------------------------------------------


def _address_values(prefix: str, address: JSON | None) -> dict[str, str]:
    if not isinstance(address, dict):
        return {}
    lines = [str(p) for p in address.get("line") or [] if str(p).strip()
             and str(p) not in ("URBAN", "RURAL")]
    return {f"{prefix}.addressDistrict": str(address.get("district") or ""),
            f"{prefix}.addressLine": " ".join(lines), f"{prefix}.addressCity":
            str(address.get("city") or "")}


def _person_values(role: str, patient: JSON) -> dict[str, str]:
    name = (patient.get("name") or [{}])[0] or {}
    family = name.get("family")
    found = {
        "given": " ".join(str(g) for g in name.get("given") or []),
        "family": " ".join(family) if isinstance(family, list) else str(family or ""),
        "gender": str(patient.get("gender") or ""),
        "birthDate": str(patient.get("birthDate") or ""),
        "deathDate": str(patient.get("deceasedDateTime") or "")[:10],
        "maritalStatus": first_code(patient.get("maritalStatus")) or "",
    }
    for item in patient.get("identifier") or []:
        if isinstance(item, dict) and first_code(item.get("type")) == "NATIONAL_ID":
            found["nationalId"] = str(item.get("value") or "")
    for telecom in patient.get("telecom") or []:
        if isinstance(telecom, dict) and telecom.get("system") == "phone":
            found["phone"] = str(telecom.get("value") or "")
    for ext in patient.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == nd.NATIONALITY:
            inner = [first_code(e.get("valueCodeableConcept")) for e in ext.get("extension") or []
                     if isinstance(e, dict)]
            found["nationality"] = next((c for c in inner if c), "") or \
                first_code(ext.get("valueCodeableConcept")) or ""
    values = {f"{role}.{k}": v for k, v in found.items()}
    addresses = [a for a in patient.get("address") or [] if isinstance(a, dict)]
    values.update(_address_values(role, addresses[0] if addresses else None))
    return values


def _observation_value(resource: JSON) -> str:
    if isinstance(resource.get("valueQuantity"), dict):
        return str(resource["valueQuantity"].get("value", ""))
    if "valueCodeableConcept" in resource:
        return first_code(resource["valueCodeableConcept"]) or ""
    for key in ("valueString", "valueBoolean", "valueInteger"):
        if key in resource:
            value = resource[key]
            return str(value).lower() if isinstance(value, bool) else str(value)
    return ""


def _place_values(bundle: JSON, event: str) -> dict[str, str]:
    stored = index(bundle, event)
    for entry in stored.parsed.of_type("Encounter"):
        for item in entry.resource.get("location") or []:
            ref = str(((item or {}).get("location") or {}).get("reference") or "")
            inside = stored.parsed.by_url.get(ref)
            if inside is not None and inside.type == "Location":
                kind = first_code(inside.resource.get("type")) or "OTHER"
                return {"place.type": kind if kind in nd.HOME_PLACE_TYPES else "OTHER",
                        **_address_values("place", inside.resource.get("address"))}
            if ref.startswith("Location/"):
                return {"place.type": "HEALTH_FACILITY",
                        "place.facility": ref.removeprefix("Location/")}
    return {}


def _task_string(bundle: JSON, url: str) -> str:
    task = bundle["entry"][1]["resource"]
    for ext in task.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == url and ext.get("valueString"):
            return str(ext["valueString"])
    return ""


def values_of(bundle: JSON, event: str) -> dict[str, str]:
    """Return the form values a stored declaration bundle fills."""
    values: dict[str, str] = {}
    if len(bundle.get("entry") or []) < 2:
        return values
    stored = index(bundle, event)
    found = people(stored)
    for role, patient in found.items():
        if role == "informant" and any(found.get(r) is patient for r in FAMILY[event].values()):
            continue  # the informant is the mother (or ...): their facts are read there
        values.update(_person_values(role, patient))
    values.update(_place_values(bundle, event))
    for entry in stored.parsed.of_type("Observation"):
        fact = OBSERVATION_FACTS.get(first_code(entry.resource.get("code")) or "")
        if fact:
            values[fact] = _observation_value(entry.resource)
    relation = next((e for e in stored.sections.get("informant-details", [])
                     if e.type == "RelatedPerson"), None)
    kind = first_code(relation.resource.get("relationship")) if relation else None
    values["informant.type"] = kind or _task_string(bundle, nd.CONTACT_PERSON)
    values["contact.phone"] = _task_string(bundle, nd.CONTACT_PHONE)
    values["contact.email"] = _task_string(bundle, nd.CONTACT_EMAIL)
    return {k: v for k, v in values.items() if v}


# ---- writing -------------------------------------------------------------------------------

# A district id -> (its state id, its country code), or None when it is no district.
District = dict[str, tuple[str, str]]


def _entries(bundle: JSON) -> list[JSON]:
    entries: list[JSON] = bundle["entry"]
    return entries


def _by_url(bundle: JSON, url: str) -> JSON | None:
    for entry in _entries(bundle):
        if entry.get("fullUrl") == url:
            resource: JSON = entry["resource"]
            return resource
    return None


def _url_of(bundle: JSON, resource: JSON) -> str:
    for entry in _entries(bundle):
        if entry.get("resource") is resource:
            return str(entry["fullUrl"])
    raise KeyError("resource not in bundle")


def _add(bundle: JSON, resource: JSON) -> str:
    url = new_url()
    _entries(bundle).append({"fullUrl": url, "resource": resource})
    return url


def _section(bundle: JSON, code: str) -> JSON:
    comp = bundle["entry"][0]["resource"]
    for section in comp.setdefault("section", []):
        if isinstance(section, dict) and first_code(section.get("code")) == code:
            section.setdefault("entry", [])
            return section
    section = {"title": code.replace("-", " ").capitalize(),
               "code": {"coding": [{"system": SECTIONS, "code": code}]}, "entry": []}
    comp["section"].append(section)
    return section


def _section_patient(bundle: JSON, code: str) -> JSON | None:
    for ref in _section(bundle, code)["entry"]:
        found = _by_url(bundle, str((ref or {}).get("reference")))
        if found and found.get("resourceType") == "RelatedPerson":
            found = _by_url(bundle, str((found.get("patient") or {}).get("reference")))
        if found and found.get("resourceType") == "Patient":
            return found
    return None


def _patient(bundle: JSON, role: str) -> JSON:
    """Return the Patient of a role (not the informant), adding it when absent."""
    code = ROLE_SECTIONS[role]
    found = _section_patient(bundle, code)
    if found is not None:
        return found
    patient: JSON = {"resourceType": "Patient", "active": True}
    url = _add(bundle, patient)
    _section(bundle, code)["entry"].append({"reference": url})
    if role in ("child", "deceased"):
        bundle["entry"][0]["resource"]["subject"] = {"reference": url}
    return patient


def _set(resource: JSON, key: str, value: Any) -> None:
    if value in (None, "", []):
        resource.pop(key, None)
    else:
        resource[key] = value


def _set_name(patient: JSON, part: str, value: str) -> None:
    names = patient.get("name") if isinstance(patient.get("name"), list) else None
    if not names or not isinstance(names[0], dict):
        names = [{"use": "en"}]
        patient["name"] = names
    _set(names[0], part, value.split() if part == "given" else value.strip())


def _replace(items: list[Any], keep: Any, new: Any | None) -> list[Any]:
    return [i for i in items if keep(i)] + ([new] if new is not None else [])


def _set_fact(patient: JSON, fact: str, value: str) -> None:
    new: JSON | None
    if fact in ("given", "family"):
        _set_name(patient, fact, value)
    elif fact in ("gender", "birthDate"):
        _set(patient, fact, value)
    elif fact == "deathDate":
        _set(patient, "deceasedDateTime", value)
        _set(patient, "deceasedBoolean", True if value else None)
    elif fact == "maritalStatus":
        _set(patient, fact, {"coding": [{"system": MARITAL, "code": value}]} if value else None)
    elif fact == "nationalId":
        new = {"use": "official", "type": {"coding": [{"system": ID_TYPES, "code":
               "NATIONAL_ID"}]}, "value": value} if value else None
        _set(patient, "identifier", _replace(
            patient.get("identifier") or [], lambda i: not isinstance(i, dict)
            or first_code(i.get("type")) != "NATIONAL_ID", new))
    elif fact == "nationality":
        new = {"url": nd.NATIONALITY, "extension": [{"url": "code", "valueCodeableConcept": {
            "coding": [{"system": "urn:iso:std:iso:3166", "code": value}]}}]} if value else None
        _set(patient, "extension", _replace(
            patient.get("extension") or [], lambda e: not isinstance(e, dict)
            or e.get("url") != nd.NATIONALITY, new))
    elif fact == "phone":
        new = {"use": "mobile", "system": "phone", "value": value} if value else None
        _set(patient, "telecom", _replace(
            patient.get("telecom") or [], lambda t: not isinstance(t, dict)
            or t.get("system") != "phone", new))


def _address(values: dict[str, str], prefix: str, districts: District) -> JSON | None:
    district = values.get(f"{prefix}.addressDistrict", "")
    line = values.get(f"{prefix}.addressLine", "").strip()
    city = values.get(f"{prefix}.addressCity", "").strip()
    if not (district or line or city):
        return None
    state, country = districts.get(district, ("", ""))
    address: JSON = {"type": "PRIMARY_ADDRESS"} if prefix != "place" else {}
    for key, value in (("line", [line] if line else []), ("city", city),
                       ("district", district), ("state", state), ("country", country)):
        if value:
            address[key] = value
    return address


ADDRESS_FACTS = ("addressDistrict", "addressLine", "addressCity")


def _write_person(patient: JSON, role: str, changed: dict[str, str], values: dict[str, str],
                  districts: District) -> None:
    for name, value in changed.items():
        fact = name.removeprefix(f"{role}.")
        if fact not in ADDRESS_FACTS:
            _set_fact(patient, fact, value)
    if any(name.removeprefix(f"{role}.") in ADDRESS_FACTS for name in changed):
        address = _address(values, role, districts)
        others = [a for a in patient.get("address") or [] if isinstance(a, dict)][1:]
        _set(patient, "address", ([address] if address else []) + others)


def _encounter(bundle: JSON, event: str) -> tuple[JSON, str]:
    section = _section(bundle, ENCOUNTER_SECTION[event])
    for ref in section["entry"]:
        found = _by_url(bundle, str((ref or {}).get("reference")))
        if found and found.get("resourceType") == "Encounter":
            return found, str(ref["reference"])
    encounter: JSON = {"resourceType": "Encounter", "status": "finished"}
    url = _add(bundle, encounter)
    section["entry"].append({"reference": url})
    return encounter, url


def _write_place(bundle: JSON, event: str, values: dict[str, str], districts: District) -> None:
    encounter, _url = _encounter(bundle, event)
    kind = values.get("place.type", "")
    current = [str(((i or {}).get("location") or {}).get("reference") or "")
               for i in encounter.get("location") or []]
    home = next((r for r in (_by_url(bundle, u) for u in current)
                 if r and r.get("resourceType") == "Location"), None)
    if kind == "HEALTH_FACILITY" and values.get("place.facility"):
        encounter["location"] = [{"location": {"reference":
                                               f"Location/{values['place.facility']}"}}]
    elif kind in nd.HOME_PLACE_TYPES:
        if home is None:
            home = {"resourceType": "Location"}
            url = _add(bundle, home)
        else:
            url = _url_of(bundle, home)
        home.update({"name": "Private home" if kind == "PRIVATE_HOME" else "Other address",
                     "type": {"coding": [{"system": LOCATION_TYPES, "code": kind}]}})
        _set(home, "address", _address(values, "place", districts))
        encounter["location"] = [{"location": {"reference": url}}]
    else:
        encounter.pop("location", None)


def _observation(fact: str, value: str) -> JSON:
    resource: JSON = {"resourceType": "Observation", "status": "final",
                      "code": {"coding": [{"system": "http://loinc.org",
                                           "code": FACT_CODES[fact]}]}}
    if fact == "weightAtBirth":
        resource["valueQuantity"] = {"value": float(value), "unit": "kg",
                                     "system": "http://unitsofmeasure.org", "code": "kg"}
    elif fact == "birthType":
        resource["valueQuantity"] = {"value": value}
    elif fact in CODED:
        resource["valueCodeableConcept"] = {"coding": [{"system": CODED[fact], "code": value}]}
    else:
        resource["valueString"] = value
    return resource


def _write_observation(bundle: JSON, event: str, fact: str, value: str) -> None:
    code = FACT_CODES[fact]
    bundle["entry"] = [e for e in _entries(bundle) if not (
        e["resource"].get("resourceType") == "Observation"
        and first_code(e["resource"].get("code")) == code)]
    if value:
        _encounter_resource, url = _encounter(bundle, event)
        observation = _observation(fact, value)
        observation["context"] = {"reference": url}
        _add(bundle, observation)


def _set_task_string(bundle: JSON, url: str, value: str) -> None:
    task = bundle["entry"][1]["resource"]
    new = {"url": url, "valueString": value} if value else None
    task["extension"] = _replace(task.get("extension") or [], lambda e: not isinstance(e, dict)
                                 or e.get("url") != url, new)


def _informant(bundle: JSON, event: str, kind: str) -> JSON | None:
    """Point the informant section at the right person; return the informant's own Patient."""
    _set_task_string(bundle, nd.CONTACT_PERSON, kind)
    section = _section(bundle, "informant-details")
    relation = next((r for r in (_by_url(bundle, str((ref or {}).get("reference")))
                                 for ref in section["entry"])
                     if r and r.get("resourceType") == "RelatedPerson"), None)
    if not kind:
        section["entry"] = []
        return None
    if relation is None:
        relation = {"resourceType": "RelatedPerson"}
        section["entry"] = [{"reference": _add(bundle, relation)}]
    relation["relationship"] = {"coding": [{"system": RELATIONSHIPS, "code": kind}]}
    family = FAMILY[event].get(kind)
    if family is not None:
        relation["patient"] = {"reference": _url_of(bundle, _patient(bundle, family))}
        return None
    current = _by_url(bundle, str((relation.get("patient") or {}).get("reference")))
    taken = {id(_section_patient(bundle, ROLE_SECTIONS[r])) for r in FAMILY[event].values()}
    if current is None or id(current) in taken:
        current = {"resourceType": "Patient", "active": True}
        relation["patient"] = {"reference": _add(bundle, current)}
    return current


def write(bundle: JSON, event: str, values: dict[str, str], before: dict[str, str],
          districts: District) -> JSON:
    """Return a copy of a bundle with the form values that differ from `before` written in."""
    result = copy.deepcopy(bundle)
    names = set(values) | set(before)
    changed = {n: values.get(n, "") for n in sorted(names)
               if values.get(n, "") != before.get(n, "")}
    roles = {n.split(".", 1)[0] for n in changed if "." in n} - {"place", "contact"}
    kind = values.get("informant.type", "")
    own = None
    if "informant.type" in changed or any(n.startswith("informant.") for n in changed):
        own = _informant(result, event, kind)
    for role in sorted(roles - {"informant"}):
        mine = {n: v for n, v in changed.items() if n.startswith(f"{role}.")}
        _write_person(_patient(result, role), role, mine, values, districts)
    if own is not None:
        mine = {n: values.get(n, "") for n in names
                if n.startswith("informant.") and n != "informant.type"}
        _write_person(own, "informant", mine, values, districts)
    if any(n.startswith("place.") for n in changed):
        _write_place(result, event, values, districts)
    for fact in FACT_CODES:
        if fact in changed:
            _write_observation(result, event, fact, changed[fact])
    for name, url in (("contact.phone", nd.CONTACT_PHONE), ("contact.email", nd.CONTACT_EMAIL)):
        if name in changed:
            _set_task_string(result, url, changed[name])
    return result
