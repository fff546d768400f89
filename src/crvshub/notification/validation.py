"""Structural checks of a notification bundle (400s): shape, entry order, datatypes.

Every check records a problem and carries on, so the client sees every mistake at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from crvshub.errors import AppError, IssueCollector
from crvshub.notification import domain
from crvshub.notification.errors import (
    DuplicateFullUrl,
    DuplicateSection,
    EntryOrder,
    InvalidValue,
    MalformedBundle,
    MissingElement,
    UnsupportedResource,
)
from crvshub.notification.validation_limits import Limits, check_limits
from crvshub.notification.validation_people import check_resource

JSON = dict[str, Any]
# C0 controls other than tab, line feed and carriage return (FHIR string: [ \r\n\t\S]+).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# How those characters look in orjson's output (it escapes every control character); a match
# may also be an escaped backslash followed by such text, which only costs the full check.
_MAYBE_CONTROL = re.compile(rb"\\u00[01]|\\[bf]")
# A "reference" element whose value is not a string (orjson writes keys as `"key":` and never
# writes that sequence inside a string, where the quotes are escaped).
_NON_STRING_REFERENCE = re.compile(rb'"reference":[^"]')
# A null item in an array (orjson writes no spaces).
_NULL_ITEM = re.compile(rb"[\[,]null[,\]]")


@dataclass(frozen=True)
class Entry:
    """One bundle entry: its position, fullUrl and resource."""

    index: int
    full_url: str
    resource: JSON

    @property
    def type(self) -> str:
        """Return the resource type."""
        return str(self.resource.get("resourceType"))

    @property
    def path(self) -> str:
        """Return the FHIRPath of the resource."""
        return f"Bundle.entry[{self.index}].resource"


@dataclass
class ParsedBundle:
    """A structurally valid notification bundle, indexed for the rule checks."""

    bundle: JSON
    entries: list[Entry]
    by_url: dict[str, Entry] = field(default_factory=dict)

    @property
    def composition(self) -> Entry:
        """Return the Composition entry."""
        return self.entries[0]

    @property
    def task(self) -> Entry:
        """Return the Task entry."""
        return self.entries[1]

    def of_type(self, resource_type: str) -> list[Entry]:
        """Return the entries holding one resource type, in bundle order."""
        return [e for e in self.entries if e.type == resource_type]


def raise_issues(issues: IssueCollector) -> None:
    """Raise the collected problems as one error whose status is the first problem's."""
    if not issues:
        return
    klass = AppError.catalogue().get(issues.issues[0].code, MalformedBundle)
    raise klass(issues=issues.issues)


def parse_structure(
    body: Any, serialized: bytes | None = None, limits: Limits | None = None
) -> ParsedBundle:
    """Check the bundle's structure and datatypes; raise a 400 listing every problem.

    `serialized` is the body as `orjson.dumps` wrote it, when the caller has it: a body whose
    serialisation shows no escaped control character (or reference that is not a string) is not
    walked again to look for one. A bundle over a size limit is refused before any other check.
    """
    issues = IssueCollector()
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        issues.add(MalformedBundle, "The body must be a FHIR Bundle (resourceType 'Bundle')",
                   "Bundle.resourceType")
        raise_issues(issues)
    raw_entries = body.get("entry")
    if isinstance(raw_entries, list):
        check_limits(raw_entries, limits or Limits(), issues, serialized)
        raise_issues(issues)
    _check_bundle_header(body, issues)
    if serialized is None or _MAYBE_CONTROL.search(serialized):
        _check_characters(body, "Bundle", issues)
    if not isinstance(raw_entries, list) or not raw_entries:
        issues.add(MissingElement, "Bundle.entry must be a non-empty list", "Bundle.entry")
        raise_issues(issues)
    parsed = ParsedBundle(body, _entries(raw_entries, issues))
    _index_urls(parsed, issues)
    _check_order(parsed, raw_entries, issues)
    for entry in parsed.entries:
        check_resource(entry.resource, entry.path, issues)
    if serialized is None or _NON_STRING_REFERENCE.search(serialized):
        _check_reference_types(body, issues)
    if serialized is None or _NULL_ITEM.search(serialized):
        _check_null_items(body, "Bundle", issues)
    raise_issues(issues)
    return parsed


def _check_null_items(value: Any, path: str, issues: IssueCollector) -> None:
    """Refuse `null` items in arrays: the notification API takes no null values."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_null_items(item, f"{path}.{key}", issues)
    elif isinstance(value, list):
        for index, element in enumerate(value):
            if element is None:
                issues.add(InvalidValue, f"{path}[{index}] is null; leave the item out instead "
                           "(FHIR JSON has no null values)", f"{path}[{index}]")
            else:
                _check_null_items(element, f"{path}[{index}]", issues)


def _check_characters(value: Any, path: str, issues: IssueCollector) -> None:
    """Refuse control characters in any string or key (FHIR strings may not contain them)."""
    if isinstance(value, str):
        if _CONTROL.search(value):
            issues.add(InvalidValue, f"{path} contains a control character (such as NUL); "
                       "FHIR strings may only contain printable text, tabs and line breaks", path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if _CONTROL.search(key):
                issues.add(InvalidValue, f"An element name under {path} contains a control "
                           "character", path)
            else:
                _check_characters(item, f"{path}.{key}", issues)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_characters(item, f"{path}[{index}]", issues)


def _check_bundle_header(body: JSON, issues: IssueCollector) -> None:
    if body.get("type") != "document":
        issues.add(InvalidValue, "Bundle.type must be 'document'", "Bundle.type")
    meta = body.get("meta")
    updated = meta.get("lastUpdated") if isinstance(meta, dict) else None
    if updated is None:
        issues.add(MissingElement, "Bundle.meta.lastUpdated is required (an ISO 8601 instant)",
                   "Bundle.meta.lastUpdated")
    elif not isinstance(updated, str) or not domain.is_fhir_datetime(updated):
        issues.add(InvalidValue, "Bundle.meta.lastUpdated must be an ISO 8601 date-time",
                   "Bundle.meta.lastUpdated")


def _entries(raw: list[Any], issues: IssueCollector) -> list[Entry]:
    entries = []
    for index, item in enumerate(raw):
        where = f"Bundle.entry[{index}]"
        if not isinstance(item, dict):
            issues.add(MalformedBundle, "Each entry must be an object", where)
            continue
        full_url = item.get("fullUrl")
        if not isinstance(full_url, str) or not domain.is_full_url(full_url):
            issues.add(MissingElement, "Each entry needs a fullUrl, e.g. 'urn:uuid:<uuid>'",
                       f"{where}.fullUrl")
            full_url = ""
        resource = item.get("resource")
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            issues.add(MissingElement, "Each entry needs a resource with a resourceType",
                       f"{where}.resource")
            resource = {"resourceType": "?"}
        entries.append(Entry(index, full_url, resource))
    return entries


def _index_urls(parsed: ParsedBundle, issues: IssueCollector) -> None:
    for entry in parsed.entries:
        if not entry.full_url:
            continue
        if entry.full_url in parsed.by_url:
            issues.add(DuplicateFullUrl, f"fullUrl {entry.full_url!r} is used by two entries",
                       f"Bundle.entry[{entry.index}].fullUrl")
            continue
        parsed.by_url[entry.full_url] = entry


def _check_order(parsed: ParsedBundle, raw: list[Any], issues: IssueCollector) -> None:
    expected = {0: "Composition", 1: "Task"}
    if len(raw) < 2:
        issues.add(EntryOrder, "The bundle needs a Composition (entry[0]) and a Task (entry[1])",
                   "Bundle.entry")
    for entry in parsed.entries:
        where = f"{entry.path}.resourceType"
        if entry.index in expected:
            if entry.type != expected[entry.index]:
                issues.add(EntryOrder, f"entry[{entry.index}] must be a "
                           f"{expected[entry.index]}, not {entry.type}", where)
        elif entry.type in ("Composition", "Task"):
            issues.add(EntryOrder, f"Only one {entry.type} is allowed, as entry[0] or entry[1]",
                       where)
        elif entry.type not in domain.ALLOWED_RESOURCES and entry.type != "?":
            allowed = ", ".join(sorted(domain.ALLOWED_RESOURCES))
            issues.add(UnsupportedResource,
                       f"{entry.type} is not accepted in a notification; allowed: {allowed}",
                       where)
    if any(e.index < 2 and e.type not in expected.values() for e in parsed.entries):
        return
    _check_composition_shape(parsed, issues)
    _check_task_shape(parsed, issues)


def _check_composition_shape(parsed: ParsedBundle, issues: IssueCollector) -> None:
    if not parsed.entries or parsed.entries[0].type != "Composition":
        return
    comp = parsed.entries[0]
    if first_code(comp.resource.get("type")) is None:
        issues.add(MissingElement, "Composition.type.coding[0].code is required "
                   "(birth-notification or death-notification)", f"{comp.path}.type")
    sections = comp.resource.get("section", [])
    if not isinstance(sections, list):
        issues.add(InvalidValue, "Composition.section must be a list", f"{comp.path}.section")
        return
    seen: set[str] = set()
    for i, section in enumerate(sections):
        where = f"{comp.path}.section[{i}]"
        code = first_code(section.get("code")) if isinstance(section, dict) else None
        if code is None:
            issues.add(MissingElement, "Each section needs code.coding[0].code", f"{where}.code")
            continue
        if code in seen:
            issues.add(DuplicateSection, f"Section code {code!r} is already used by an earlier "
                       "section: list all its entries in one section", f"{where}.code")
        seen.add(code)
        refs = section.get("entry", [])
        if not isinstance(refs, list) or not all(
            isinstance(r, dict) and isinstance(r.get("reference"), str) for r in refs
        ):
            issues.add(InvalidValue, "section.entry must be a list of {reference: string}",
                       f"{where}.entry")


def _check_task_shape(parsed: ParsedBundle, issues: IssueCollector) -> None:
    if len(parsed.entries) < 2 or parsed.entries[1].type != "Task":
        return
    task = parsed.entries[1]
    if not isinstance(task.resource.get("status"), str):
        issues.add(MissingElement, "Task.status is required and must be 'draft'",
                   f"{task.path}.status")
    focus = task.resource.get("focus")
    if not isinstance(focus, dict) or not isinstance(focus.get("reference"), str):
        issues.add(MissingElement, "Task.focus.reference is required (the Composition fullUrl)",
                   f"{task.path}.focus")
    extensions = task.resource.get("extension")
    if not isinstance(extensions, list):
        issues.add(MissingElement, "Task.extension is required (it carries regLastOffice)",
                   f"{task.path}.extension")
        return
    for i, ext in enumerate(extensions):
        if not isinstance(ext, dict) or not isinstance(ext.get("url"), str):
            issues.add(InvalidValue, "Each extension needs a url", f"{task.path}.extension[{i}]")


def _check_reference_types(value: Any, issues: IssueCollector, path: str = "Bundle") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and not isinstance(item, str):
                issues.add(InvalidValue, "A reference must be a string", f"{path}.reference")
            elif isinstance(item, dict | list):
                _check_reference_types(item, issues, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict | list):
                _check_reference_types(item, issues, f"{path}[{i}]")


def first_code(concept: Any) -> str | None:
    """Return coding[0].code of a CodeableConcept (or of the first of a list), or None."""
    if isinstance(concept, list) and concept:
        concept = concept[0]
    if not isinstance(concept, dict):
        return None
    coding = concept.get("coding")
    if not isinstance(coding, list) or not coding or not isinstance(coding[0], dict):
        return None
    code = coding[0].get("code")
    return code if isinstance(code, str) and code else None
