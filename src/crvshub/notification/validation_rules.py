"""Business-rule checks of a well-formed notification (422s): event, Task, references, places."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from crvshub.errors import IssueCollector
from crvshub.location.domain import LocationType
from crvshub.notification import domain
from crvshub.notification.errors import (
    FocusMismatch,
    ImplausibleDate,
    NoPerson,
    OfficeAreaMismatch,
    TaskNotDraft,
    UnknownEventType,
    UnknownOffice,
    UnknownSection,
    UnresolvedReference,
)
from crvshub.notification.places import Places, StoredPlace
from crvshub.notification.validation import Entry, ParsedBundle, first_code, raise_issues
from crvshub.notification.validation_places import (
    EventPlace,
    address_location_ids,
    check_addresses,
    check_event_place,
)

LOCATION_PREFIX = "Location/"


@dataclass(frozen=True)
class CheckedNotification:
    """A notification that passed every check, with what the checks resolved."""

    parsed: ParsedBundle
    event: str
    office: StoredPlace
    place: EventPlace
    sections: dict[str, list[Entry]]


def check_rules(
    places: Places, parsed: ParsedBundle, *, home_country: str, today: date
) -> CheckedNotification:
    """Check every business rule; raise a 422 listing every problem."""
    issues = IssueCollector()
    references = [
        found for entry in parsed.entries for found in iter_references(entry.resource, entry.path)
    ]
    # Every stored id the bundle names, resolved in one query before the checks read them.
    places.prefetch([
        *(ref.removeprefix(LOCATION_PREFIX) for ref, _ in references
          if ref.startswith(LOCATION_PREFIX) and ref not in parsed.by_url),
        *address_location_ids(parsed, home_country),
    ])
    event = _event_type(parsed, issues)
    _check_task(parsed, issues)
    sections = _sections(parsed, issues)
    _check_references(places, parsed, references, issues)
    office = _office(places, parsed, issues)
    if not parsed.of_type("Patient"):
        issues.add(NoPerson, "Add at least one Patient (the child, the deceased or a parent)",
                   "Bundle.entry")
    place = check_event_place(places, parsed, sections, event or "birth", issues)
    check_addresses(places, parsed, issues, home_country=home_country)
    _check_dates(parsed, issues, today)
    raise_issues(issues)
    assert event is not None
    assert office is not None
    assert place is not None
    return CheckedNotification(parsed, event, office, place, sections)


def _event_type(parsed: ParsedBundle, issues: IssueCollector) -> str | None:
    comp = parsed.composition
    code = first_code(comp.resource.get("type")) or ""
    event = domain.COMPOSITION_TYPES.get(code)
    if event is None:
        issues.add(UnknownEventType, f"Composition type {code!r} is not accepted; use "
                   "birth-notification or death-notification", f"{comp.path}.type.coding[0].code")
        return None
    task_code = first_code(parsed.task.resource.get("code"))
    if task_code is not None and domain.TASK_CODES.get(task_code) != event:
        issues.add(UnknownEventType, f"Task.code {task_code!r} does not match the Composition "
                   f"type {code!r}", f"{parsed.task.path}.code.coding[0].code")
    return event


def _check_task(parsed: ParsedBundle, issues: IssueCollector) -> None:
    task = parsed.task
    status = task.resource.get("status")
    if status != "draft":
        issues.add(TaskNotDraft, f"Task.status is {status!r}; a notification must be 'draft'",
                   f"{task.path}.status")
    focus = task.resource["focus"]["reference"]
    if focus != parsed.composition.full_url:
        issues.add(FocusMismatch, f"Task.focus.reference {focus!r} must equal the Composition "
                   f"fullUrl {parsed.composition.full_url!r}", f"{task.path}.focus.reference")


def _sections(parsed: ParsedBundle, issues: IssueCollector) -> dict[str, list[Entry]]:
    found: dict[str, list[Entry]] = {}
    comp = parsed.composition
    for i, section in enumerate(comp.resource.get("section", [])):
        code = first_code(section.get("code")) or ""
        if code not in domain.SECTION_CODES:
            issues.add(UnknownSection, f"Section code {code!r} is not used in notifications; use "
                       + ", ".join(sorted(domain.SECTION_CODES)),
                       f"{comp.path}.section[{i}].code.coding[0].code")
            continue
        for ref in section.get("entry", []):
            target = parsed.by_url.get(ref["reference"])
            if target is not None:
                found.setdefault(code, []).append(target)
    return found


def iter_references(value: Any, path: str) -> list[tuple[str, str]]:
    """Return every (reference, FHIRPath of its Reference element) inside a value."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str):
            found.append((ref, path))
        for key, item in value.items():
            if isinstance(item, dict | list):
                found.extend(iter_references(item, f"{path}.{key}"))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(iter_references(item, f"{path}[{i}]"))
    return found


def _check_references(
    places: Places, parsed: ParsedBundle, references: list[tuple[str, str]],
    issues: IssueCollector,
) -> None:
    for ref, where in references:
        if ref in parsed.by_url:
            continue
        if ref.startswith(LOCATION_PREFIX) and lookup(places, ref) is not None:
            continue
        issues.add(UnresolvedReference, f"Reference {shorten(ref)!r} matches no entry fullUrl "
                   "in the bundle and no stored Location", where)


def shorten(text: str, limit: int = 100) -> str:
    """Return a text cut to `limit` characters, so that echoing input keeps answers small."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lookup(places: Places, reference: str) -> StoredPlace | None:
    """Return the stored location a `Location/<id>` reference names."""
    location_id = reference.removeprefix(LOCATION_PREFIX)
    if not location_id or len(location_id) > 64:
        return None
    return places.get(location_id)


def extension(resource: dict[str, Any], url: str) -> tuple[int, dict[str, Any]] | None:
    """Return (index, extension) of the first extension with this url."""
    for i, ext in enumerate(resource.get("extension", [])):
        if isinstance(ext, dict) and ext.get("url") == url:
            return i, ext
    return None


def _reference_of(ext: dict[str, Any]) -> str:
    value = ext.get("valueReference")
    ref = value.get("reference") if isinstance(value, dict) else None
    return ref if isinstance(ref, str) else ""


def _office(places: Places, parsed: ParsedBundle, issues: IssueCollector) -> StoredPlace | None:
    task = parsed.task
    found = extension(task.resource, domain.REG_LAST_OFFICE)
    if found is None:
        issues.add(UnknownOffice, "Add the regLastOffice extension: valueReference "
                   "Location/<id of the CRVS office whose workqueue receives the record>",
                   f"{task.path}.extension")
        return None
    index, ext = found
    where = f"{task.path}.extension[{index}].valueReference"
    ref = _reference_of(ext)
    office = lookup(places, ref) if ref.startswith(LOCATION_PREFIX) else None
    if office is None or office.type != LocationType.CRVS_OFFICE:
        issues.add(UnknownOffice, f"regLastOffice {ref!r} is not a stored CRVS_OFFICE; list "
                   "offices with GET /location?type=CRVS_OFFICE", where)
        return None
    _check_office_area(parsed, office, issues)
    return office


def _check_office_area(parsed: ParsedBundle, office: StoredPlace, issues: IssueCollector) -> None:
    found = extension(parsed.task.resource, domain.REG_LAST_LOCATION)
    if found is None:
        return
    index, ext = found
    ref = _reference_of(ext)
    if ref.removeprefix(LOCATION_PREFIX) != office.part_of_id:
        issues.add(OfficeAreaMismatch, f"regLastLocation {ref!r} must be "
                   f"Location/{office.part_of_id}, the area of office {office.name!r} "
                   "(or leave the extension out)",
                   f"{parsed.task.path}.extension[{index}].valueReference")


def _check_dates(parsed: ParsedBundle, issues: IssueCollector, today: date) -> None:
    for entry in parsed.of_type("Patient"):
        res = entry.resource
        born = domain.parse_fhir_date(res.get("birthDate") or "")
        died = domain.parse_fhir_date(res.get("deceasedDateTime") or "")
        if born and born > today:
            issues.add(ImplausibleDate, f"birthDate {born} is in the future",
                       f"{entry.path}.birthDate")
        if died and died > today:
            issues.add(ImplausibleDate, f"deceasedDateTime {died} is in the future",
                       f"{entry.path}.deceasedDateTime")
        if born and died and died < born:
            issues.add(ImplausibleDate, "deceasedDateTime is before birthDate",
                       f"{entry.path}.deceasedDateTime")
