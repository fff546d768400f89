"""What a declaration form checks before the record service sees it: the shape of each value
(dates, numbers, choices, places from the location tree) and the files attached (size, type).

Whether a declaration is complete is not decided here: the country's required-field rule
(`notification.completeness`) and the record service's checks decide, as for the API.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crvshub.context import AppContext
from crvshub.errors import AppError
from crvshub.location.domain import LocationType
from crvshub.notification import domain as nd
from crvshub.web import error_messages
from crvshub.web.form_bundle import District, new_url
from crvshub.web.form_config import Condition, Field, Form
from crvshub.web.i18n import N_

DOCUMENT_TYPES = "http://opencrvs.org/specs/supporting-document-type"
# The first bytes of each accepted file type: the declared type alone is not trusted.
SIGNATURES = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",),
              "application/pdf": (b"%PDF-",)}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ISSUE_ENTRY = re.compile(r"^Bundle\.entry\[(\d+)\]")


@dataclass(frozen=True)
class Upload:
    """One file sent with the form."""

    filename: str
    content_type: str
    data: bytes
    kind: str


def visible(condition: Condition | None, values: dict[str, str]) -> bool:
    """Tell whether a field or section is shown for these values."""
    return condition is None or condition.holds(values)


def effective_values(form: Form, values: dict[str, str]) -> dict[str, str]:
    """Return the values with those of hidden fields and sections emptied (they do not count)."""
    result = dict(values)
    for section in form.sections:
        for item in section.fields:
            if not (visible(section.show_when, values) and visible(item.show_when, values)):
                result[item.name] = ""
    return result


@dataclass(frozen=True)
class Places:
    """The location tree as the form offers it: districts by state, facilities by district."""

    districts: list[tuple[str, list[tuple[str, str]]]]
    facilities: list[tuple[str, list[tuple[str, str]]]]


def _district(kind: str | None) -> bool:
    return kind == "DISTRICT"


def choices(ctx: AppContext) -> Places:
    """Return the admin areas and health facilities of the country, grouped for pickers."""
    snapshot = ctx.location_cache.snapshot()
    areas = [v for v in snapshot.ordered if v.type == LocationType.ADMIN_STRUCTURE.value]
    states = [v for v in areas if not _district(v.jurisdiction_type)]
    districts = [v for v in areas if _district(v.jurisdiction_type)]
    by_state = [(s.name, [(d.id, d.name) for d in districts if d.part_of_id == s.id])
                for s in states]
    facilities = [v for v in snapshot.ordered if v.type == LocationType.HEALTH_FACILITY.value]
    by_district = [(d.name, [(f.id, f.name) for f in facilities if f.part_of_id == d.id])
                   for d in districts]
    return Places([g for g in by_state if g[1]], [g for g in by_district if g[1]])


def known_values(places: Places, item: Field) -> set[str]:
    """Return the values a select field offers (options, districts or facilities)."""
    if item.type == "district":
        return {i for _group, options in places.districts for i, _name in options}
    if item.type == "facility":
        return {i for _group, options in places.facilities for i, _name in options}
    return {o.value for o in item.options}


def districts(ctx: AppContext) -> District:
    """Return each district's state and country, for addresses."""
    snapshot = ctx.location_cache.snapshot()
    return {v.id: (v.part_of_id or "", v.country) for v in snapshot.ordered
            if v.type == LocationType.ADMIN_STRUCTURE.value and _district(v.jurisdiction_type)}


def _date_error(value: str) -> str | None:
    parsed = nd.parse_fhir_date(value) if len(value) == 10 else None
    if parsed is None:
        return N_("Enter a date as year-month-day, for example 2026-01-31")
    if parsed > datetime.now(UTC).date():
        return N_("The date cannot be in the future")
    return None


def _number_error(item: Field, value: str) -> str | None:
    try:
        number = float(value)
    except ValueError:
        return N_("Enter a number, for example 3.2")
    low, high = item.attributes.get("min"), item.attributes.get("max")
    if (low is not None and number < float(low)) or (high is not None and number > float(high)):
        return N_("This number is outside the range the form accepts")
    return None


def _value_error(ctx: AppContext, item: Field, value: str) -> str | None:
    if item.type == "date":
        return _date_error(value)
    if item.type == "number":
        return _number_error(item, value)
    if item.type in ("select", "radio") and value not in {o.value for o in item.options}:
        return N_("Choose one of the options")
    if item.type == "district" and value not in districts(ctx):
        return N_("Choose a district from the list")
    if item.type == "facility":
        found = ctx.location_cache.snapshot().get(value)
        if found is None or found.type != LocationType.HEALTH_FACILITY.value:
            return N_("Choose a health facility from the list")
    if item.type == "email" and not EMAIL.match(value):
        return N_("Enter an email address, for example name@example.org")
    pattern = item.attributes.get("pattern")
    if isinstance(pattern, str) and not re.fullmatch(pattern, value):
        return N_("This value does not have the expected format")
    return None


def field_errors(ctx: AppContext, form: Form, values: dict[str, str]) -> dict[str, str]:
    """Return, by field name, what is wrong with each given value (empty ones are not checked)."""
    errors = {}
    for item in form.fields():
        value = values.get(item.name, "")
        problem = _value_error(ctx, item, value) if value else None
        if problem:
            errors[item.name] = problem
    return errors


def file_errors(form: Form, files: list[Upload]) -> dict[str, str]:
    """Return the problem with the attached files, if any: size, type or kind."""
    kinds = {o.value for o in form.documents.kinds}
    for upload in files:
        if len(upload.data) > form.documents.max_bytes:
            return {"document": N_("The file is too large")}
        if not upload.data:
            return {"document": N_("The file is empty")}
        sniffed = next((t for t, heads in SIGNATURES.items()
                        if any(upload.data.startswith(h) for h in heads)), None)
        if sniffed is None or sniffed not in form.documents.content_types:
            return {"document": N_("Attach a PNG or JPEG image or a PDF file")}
        if upload.kind not in kinds:
            return {"document_type": N_("Choose what the document is")}
    return {}


def attach(form: Form, bundle: dict[str, Any], upload: Upload) -> None:
    """Add a supporting document to the bundle (DocumentReference carrying the file)."""
    sniffed = next(t for t, heads in SIGNATURES.items()
                   if any(upload.data.startswith(h) for h in heads))
    kind = next(o for o in form.documents.kinds if o.value == upload.kind)
    bundle["entry"].append({"fullUrl": new_url(), "resource": {
        "resourceType": "DocumentReference", "status": "current",
        "type": {"coding": [{"system": DOCUMENT_TYPES, "code": kind.value}],
                 "text": kind.label.get("en") or kind.value},
        "content": [{"attachment": {
            "contentType": sniffed, "data": base64.b64encode(upload.data).decode(),
            "title": upload.filename, "size": len(upload.data)}}]}})


def issue_fields(bundle: dict[str, Any], error: AppError,
                 gettext: Callable[[str], str]) -> dict[str, str]:
    """Return the record service's issues that point at the place of the event, by field."""
    found: dict[str, str] = {}
    entries = bundle.get("entry") or []
    for issue in error.issues:
        match = ISSUE_ENTRY.match(issue.expression or "")
        index = int(match.group(1)) if match else -1
        if 0 <= index < len(entries) and \
                entries[index].get("resource", {}).get("resourceType") == "Encounter":
            found["place.facility"] = error_messages.message_of(issue, gettext)
    return found
