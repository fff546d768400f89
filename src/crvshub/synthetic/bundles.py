"""Turn a generated event into the FHIR document bundle CRVS Hub stores for a record.

The shape is the one hospitals send to `POST /notification` (Composition, Task, Patients,
RelatedPerson informant, Encounter), so generated records read like notified ones.
"""

from __future__ import annotations

import uuid
from typing import Any

from crvshub.synthetic.ids import uuid5_text
from crvshub.synthetic.population import Event, Person

SECTIONS = "http://opencrvs.org/specs/sections"
ID_TYPE = "http://opencrvs.org/specs/identifier-type"
EXT = "http://opencrvs.org/specs/extension/"
_NS = uuid.UUID("5d0f2b8e-7f0b-4a7e-9a59-0d1c2f3a4b5c")


def _urn(event: Event, part: str) -> str:
    return f"urn:uuid:{uuid5_text(_NS, f'{event.key}/{part}')}"


def _patient(person: Person, with_id: bool = True) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient", "active": True,
        "name": [{"use": "en", "given": person.given.split(" "), "family": person.family}],
        "gender": person.gender, "birthDate": person.birth_date.isoformat(),
    }
    if with_id and person.national_id:
        resource["identifier"] = [{"type": {"coding": [{"system": ID_TYPE, "code": "NATIONAL_ID"}]},
                                   "value": person.national_id}]
    return resource


def _section(code: str, title: str, reference: str) -> dict[str, Any]:
    return {"title": title, "code": {"coding": [{"system": SECTIONS, "code": code}], "text": title},
            "entry": [{"reference": reference}]}


def _people(event: Event) -> list[tuple[str, str, dict[str, Any]]]:
    """Return (section code, title, resource) of each person of the event."""
    if event.event == "birth":
        found = [("child-details", "Child details", _patient(event.subject, with_id=False))]
        if event.mother:
            found.append(("mother-details", "Mother's details", _patient(event.mother)))
        if event.father:
            found.append(("father-details", "Father's details", _patient(event.father)))
        return found
    deceased = _patient(event.subject)
    deceased["deceasedBoolean"] = True
    deceased["deceasedDateTime"] = event.event_date.isoformat()
    return [("deceased-details", "Deceased details", deceased)]


def bundle(event: Event) -> dict[str, Any]:
    """Return the record bundle of a generated event (Composition first, Task second)."""
    comp_url, task_url = _urn(event, "composition"), _urn(event, "task")
    people = _people(event)
    sections, entries = [], []
    for code, title, resource in people:
        url = _urn(event, code)
        sections.append(_section(code, title, url))
        entries.append({"fullUrl": url, "resource": resource})
    subject_url = entries[0]["fullUrl"]
    informant_of = _urn(event, "mother-details") if event.mother else subject_url
    informant_url, encounter_url = _urn(event, "informant"), _urn(event, "encounter")
    kind = event.event
    sections.append(_section("informant-details", "Informant's details", informant_url))
    sections.append(_section(f"{kind}-encounter", f"{kind.title()} encounter", encounter_url))
    encounter: dict[str, Any] = {"resourceType": "Encounter", "status": "finished"}
    if event.place.facility_id:
        encounter["location"] = [{"location": {"reference": f"Location/{event.place.facility_id}"}}]
    entries += [
        {"fullUrl": informant_url, "resource": {
            "resourceType": "RelatedPerson",
            "relationship": {"coding": [{"code": "MOTHER" if event.mother else "SPOUSE"}]},
            "patient": {"reference": informant_of}}},
        {"fullUrl": encounter_url, "resource": encounter},
    ]
    composition = {
        "resourceType": "Composition", "status": "final",
        "type": {"coding": [{"system": "http://opencrvs.org/doc-types",
                             "code": f"{kind}-notification"}]},
        "title": f"{kind.title()} Notification", "section": sections,
        "subject": {"reference": subject_url},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": event.key},
    }
    task = {
        "resourceType": "Task", "status": "draft", "intent": "unknown", "identifier": [],
        "code": {"coding": [{"system": "http://opencrvs.org/specs/types", "code": kind.upper()}]},
        "focus": {"reference": comp_url},
        "extension": [
            {"url": EXT + "contact-person-phone-number", "valueString": event.contact_number},
            {"url": EXT + "regLastOffice",
             "valueReference": {"reference": f"Location/{event.place.office_id}"}},
        ],
    }
    return {"resourceType": "Bundle", "type": "document",
            "entry": [{"fullUrl": comp_url, "resource": composition},
                      {"fullUrl": task_url, "resource": task}, *entries]}
