"""Check and normalise a declaration bundle sent by staff (create or edit)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from crvshub.errors import IssueCollector
from crvshub.record.domain import SUBJECT_SECTION, Event, tracking_id_system
from crvshub.record.errors import InvalidDeclaration

ALLOWED_RESOURCES = frozenset(
    {
        "Patient",
        "RelatedPerson",
        "Encounter",
        "Observation",
        "QuestionnaireResponse",
        "DocumentReference",
        "Location",  # a home or other address as the place of the event (as notifications)
    }
)
EVENT_CODES = {"BIRTH": Event.BIRTH, "DEATH": Event.DEATH}
REG_LAST_OFFICE = "http://opencrvs.org/specs/extension/regLastOffice"
DOC_TYPES = "http://opencrvs.org/doc-types"


def _entry_resource(bundle: dict[str, Any], index: int) -> dict[str, Any] | None:
    entries = bundle.get("entry")
    if not isinstance(entries, list) or len(entries) <= index:
        return None
    entry = entries[index]
    if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
        return None
    resource: dict[str, Any] = entry["resource"]
    return resource


def _event_of(the_task: dict[str, Any], issues: IssueCollector) -> Event | None:
    codings = (
        the_task.get("code", {}).get("coding", []) if isinstance(the_task.get("code"), dict) else []
    )
    for coding in codings if isinstance(codings, list) else []:
        if isinstance(coding, dict) and coding.get("code") in EVENT_CODES:
            return EVENT_CODES[str(coding["code"])]
    issues.add(
        InvalidDeclaration, "Task.code must be BIRTH or DEATH", "Bundle.entry[1].resource.code"
    )
    return None


def _check_entries(bundle: dict[str, Any], issues: IssueCollector) -> None:
    for index, entry in enumerate(bundle.get("entry", [])[2:], start=2):
        where = f"Bundle.entry[{index}]"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            issues.add(InvalidDeclaration, "Each entry needs a resource", where)
        elif resource.get("resourceType") not in ALLOWED_RESOURCES:
            issues.add(
                InvalidDeclaration,
                f"Resource type {resource.get('resourceType')!r} is not allowed in a declaration",
                f"{where}.resource.resourceType",
            )


def check(bundle: Any) -> Event:
    """Validate a declaration bundle; return its event or raise with every problem found."""
    issues = IssueCollector()
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InvalidDeclaration("The body must be a FHIR Bundle", expression="Bundle")
    if bundle.get("type") != "document":
        issues.add(InvalidDeclaration, "Bundle.type must be 'document'", "Bundle.type")
    comp, the_task = _entry_resource(bundle, 0), _entry_resource(bundle, 1)
    if comp is None or comp.get("resourceType") != "Composition":
        issues.add(InvalidDeclaration, "entry[0] must be a Composition", "Bundle.entry[0]")
    event = None
    if the_task is None or the_task.get("resourceType") != "Task":
        issues.add(InvalidDeclaration, "entry[1] must be a Task", "Bundle.entry[1]")
    else:
        event = _event_of(the_task, issues)
    _check_entries(bundle, issues)
    if comp is not None and not isinstance(comp.get("section", []), list):
        issues.add(
            InvalidDeclaration,
            "Composition.section must be a list",
            "Bundle.entry[0].resource.section",
        )
    if issues or event is None:
        raise InvalidDeclaration(issues=issues.issues)
    return event


def has_subject(bundle: dict[str, Any], event: Event) -> bool:
    """Tell whether the Composition has the child or deceased section (a complete minimum)."""
    wanted = SUBJECT_SECTION[event]
    for section in bundle["entry"][0]["resource"].get("section", []):
        codings = section.get("code", {}).get("coding", []) if isinstance(section, dict) else []
        if any(isinstance(c, dict) and c.get("code") == wanted for c in codings):
            return bool(section.get("entry"))
    return False


def _rewrite(value: Any, mapping: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                mapping.get(v, v)
                if k == "reference" and isinstance(v, str)
                else _rewrite(v, mapping)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(v, mapping) for v in value]
    return value


def assign_ids(bundle: dict[str, Any], composition_id: str) -> dict[str, Any]:
    """Give every resource an id and a `urn:uuid:<id>` fullUrl, rewriting in-bundle references."""
    result = copy.deepcopy(bundle)
    mapping: dict[str, str] = {}
    for index, entry in enumerate(result["entry"]):
        resource = entry["resource"]
        new_id = composition_id if index == 0 else str(resource.get("id") or uuid.uuid4())
        if index > 0 and not _is_uuid(new_id):
            new_id = str(uuid.uuid4())
        new_url = f"urn:uuid:{new_id}"
        for old in (entry.get("fullUrl"), f"{resource.get('resourceType')}/{resource.get('id')}"):
            if isinstance(old, str) and old:
                mapping[old] = new_url
        resource["id"] = new_id
        entry["fullUrl"] = new_url
    result["entry"] = _rewrite(result["entry"], mapping)
    return result


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def stamp_identity(
    bundle: dict[str, Any], *, event: Event, tracking_id: str, office_id: str, doc_type: str
) -> None:
    """Write the tracking ID, document type, Task focus and owning office into the bundle."""
    comp, the_task = bundle["entry"][0]["resource"], bundle["entry"][1]["resource"]
    comp["identifier"] = {"system": "urn:ietf:rfc:3986", "value": tracking_id}
    if not comp.get("type"):
        comp["type"] = {"coding": [{"system": DOC_TYPES, "code": doc_type}]}
    the_task["focus"] = {"reference": bundle["entry"][0]["fullUrl"]}
    the_task["identifier"] = [
        i
        for i in the_task.get("identifier", [])
        if isinstance(i, dict) and i.get("system") != tracking_id_system(event)
    ] + [{"system": tracking_id_system(event), "value": tracking_id}]
    extensions = [
        e
        for e in the_task.get("extension", [])
        if isinstance(e, dict) and e.get("url") != REG_LAST_OFFICE
    ]
    extensions.append(
        {"url": REG_LAST_OFFICE, "valueReference": {"reference": f"Location/{office_id}"}}
    )
    the_task["extension"] = extensions


def doc_type_of(bundle: dict[str, Any], event: Event) -> str:
    """Return the Composition type code, defaulting to `<event>-declaration`."""
    comp = bundle["entry"][0]["resource"]
    for coding in (comp.get("type") or {}).get("coding", []):
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            return str(coding["code"])[:64]
    return f"{event.value}-declaration"
