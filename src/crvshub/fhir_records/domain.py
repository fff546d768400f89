"""Resources of a record bundle as the FHIR read API serves them (pure: standard library only).

Every resource keeps the id it was stored with (a notification's resources get server ids when
saved); a resource stored without one gets a stable id derived from the record id and its
`fullUrl`. In-bundle references (`urn:uuid:...`) become relative references (`Patient/<id>`),
so a client can follow them with a read. Every resource of a record shares the record's
version: `meta.versionId` is the record version, `meta.lastUpdated` its last change.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crvshub.fhir.ids import entry_id

Resource = dict[str, Any]
TYPES = ("Composition", "Task", "Patient", "RelatedPerson", "Encounter", "Observation",
         "Practitioner")
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# What FHIR writes where a required element has no value (R4 data-absent-reason).
ABSENT = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                         "valueCode": "unknown"}]}


def _absent() -> dict[str, Any]:
    """Return a new data-absent-reason element (a literal: several times faster than deepcopy)."""
    return {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                           "valueCode": "unknown"}]}


COMPOSITION_TITLES = {"birth": "Birth registration", "death": "Death registration"}


@dataclass(frozen=True)
class Served:
    """One resource of a record, ready to serve."""

    type: str
    id: str
    resource: Resource


def instant(moment: datetime) -> str:
    """Return a FHIR instant (UTC, `Z`)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def served_resources(record_id: str, event: str, bundle: dict[str, Any], *, version: int,
                     updated_at: datetime, r4: bool = True,
                     kinds: Collection[str] | None = None) -> list[Served]:
    """Return the resources of a record bundle with ids, references and meta for serving.

    With `r4` (the default) each resource is made valid FHIR R4 (`conform`); without it, it
    keeps the shape OpenCRVS stored (for `opencrvs-strict` clients). `kinds` limits the
    resources built to these types (a read of one Task need not copy the whole record); every
    reference is still resolved against the whole bundle.
    """
    entries = [e for e in _list(bundle.get("entry"))
               if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    urls: dict[str, str] = {}
    ids: list[str] = []
    for entry in entries:
        resource = entry["resource"]
        full_url = str(entry.get("fullUrl") or "")
        rid = entry_id(record_id, entry)
        ids.append(rid)
        if full_url:
            urls[full_url] = f"{resource.get('resourceType')}/{rid}"
    meta = {"versionId": str(version), "lastUpdated": instant(updated_at)}
    served = []
    for entry, rid in zip(entries, ids, strict=True):
        kind = str(entry["resource"].get("resourceType"))
        if kinds is not None and kind not in kinds:
            continue
        resource = copy_rewriting(entry["resource"], urls)
        resource["id"] = rid
        resource["meta"] = {**_dict(resource.get("meta")), **meta}
        if r4:
            conform(resource, event)
        served.append(Served(kind, rid, resource))
    return served


def copy_rewriting(value: dict[str, Any], urls: dict[str, str]) -> dict[str, Any]:
    """Return a deep copy of a JSON object whose `reference`s found in `urls` point to their
    targets: one pass, several times faster than `copy.deepcopy` and a rewrite after it."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            out[key] = copy_rewriting(item, urls)
        elif isinstance(item, list):
            out[key] = _copy_list(item, urls)
        elif key == "reference" and isinstance(item, str):
            out[key] = urls.get(item, item)
        else:
            out[key] = item
    return out


def _copy_list(value: list[Any], urls: dict[str, str]) -> list[Any]:
    return [copy_rewriting(item, urls) if isinstance(item, dict)
            else _copy_list(item, urls) if isinstance(item, list) else item for item in value]


def conform(resource: Resource, event: str) -> None:
    """Make a stored resource valid FHIR R4, in place, keeping OpenCRVS's shapes otherwise.

    Only what R4 refuses is changed (docs/integrations/fhir-records.md lists each change):
    missing required elements are added (with a data-absent-reason where no value is known),
    STU3 names become their R4 successors, and values of the wrong type move to the right one.
    """
    kind = str(resource.get("resourceType"))
    if kind == "Composition":
        _composition(resource, event)
    elif kind == "Task":
        resource.setdefault("intent", "unknown")
        resource.setdefault("status", "draft")
    elif kind == "Observation":
        _observation(resource)
    elif kind == "Encounter":
        resource.setdefault("status", "finished")
        resource.setdefault("class", _absent())
    elif kind in ("Patient", "RelatedPerson", "Practitioner"):
        _person(resource)


def _composition(resource: Resource, event: str) -> None:
    doc_class = resource.pop("class", None)  # STU3's Composition.class is R4's category
    if isinstance(doc_class, dict):
        resource["category"] = [*_list(resource.get("category")), doc_class]
    resource.setdefault("title", COMPOSITION_TITLES.get(event, "Vital event registration"))
    if not _list(resource.get("author")):
        resource["author"] = [_absent()]
    resource.setdefault("status", "final")
    # Composition.date is when it was last edited: the record's last change when not stored.
    resource.setdefault("date", _dict(resource.get("meta")).get("lastUpdated"))


def _observation(resource: Resource) -> None:
    context = resource.pop("context", None)  # STU3's Observation.context is R4's encounter
    if isinstance(context, dict) and "encounter" not in resource:
        resource["encounter"] = context
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict) and isinstance(quantity.get("value"), str):
        # OpenCRVS puts codes such as "SINGLE" in valueQuantity.value: not a decimal.
        resource.pop("valueQuantity")
        resource.setdefault("valueString", quantity["value"])


NAME_USES = (None, "usual", "official", "temp", "nickname", "anonymous", "old", "maiden")


def _person(resource: Resource) -> None:
    if "deceasedDateTime" in resource and "deceasedBoolean" in resource:
        resource.pop("deceasedBoolean")  # deceased[x] is one choice; the date says more
    if resource.get("resourceType") == "RelatedPerson" and isinstance(
            resource.get("relationship"), dict):
        resource["relationship"] = [resource["relationship"]]  # R4: a list
    for address in _list(resource.get("address")):
        if isinstance(address, dict):
            _blank_lines(address)
    for name in _list(resource.get("name")):
        if not isinstance(name, dict):
            continue
        if name.get("use") not in NAME_USES:
            name.pop("use")  # OpenCRVS writes a language ("en") here
        if isinstance(name.get("family"), list):
            name["family"] = " ".join(str(f) for f in name["family"] if f)


def _blank_lines(address: dict[str, Any]) -> None:
    """Keep OpenCRVS's positional address lines; FHIR has no empty strings, so an empty line
    becomes null with a data-absent-reason in `_line` (positions stay where they were)."""
    for key in [k for k, v in address.items() if v == ""]:
        address.pop(key)
    lines = _list(address.get("line"))
    if not any(line == "" for line in lines):
        return
    address["line"] = [None if line == "" else line for line in lines]
    address["_line"] = [_absent() if line == "" else None for line in lines]


def reference_id(value: str, kind: str) -> str:
    """Return the id of a reference parameter (`Kind/id`, a full URL or a bare id)."""
    text = value.rstrip("/")
    marker = f"{kind}/"
    if marker in text:
        return text.rsplit(marker, 1)[1].split("/", 1)[0]
    return text.rsplit("/", 1)[-1]


def identifiers(resource: Resource) -> list[dict[str, Any]]:
    """Return a resource's identifiers (Composition has one, the others a list)."""
    raw = resource.get("identifier")
    return [i for i in (raw if isinstance(raw, list) else [raw]) if isinstance(i, dict)]


def has_identifier(resource: Resource, system: str | None, value: str) -> bool:
    """Tell whether a resource has an identifier matching a token (`system|value`)."""
    for ident in identifiers(resource):
        if str(ident.get("value", "")) != value:
            continue
        if system is None or str(ident.get("system") or "") == system:
            return True
        codings = _list(_dict(ident.get("type")).get("coding"))
        if any(isinstance(c, dict) and c.get("code") == system for c in codings):
            return True  # a person's identifier type code (e.g. NATIONAL_ID) as the system
    return False


def _ref(resource: Resource, *path: str) -> str | None:
    value: Any = resource
    for key in path:
        value = _dict(value).get(key)
    return str(value) if isinstance(value, str) else None


def references(resource: Resource, parameter: str) -> list[str]:
    """Return the references a reference search parameter looks at, for this resource."""
    kind = resource.get("resourceType")
    found: list[str | None] = []
    if parameter in ("patient", "subject"):
        if kind in ("Composition", "Observation", "Encounter"):
            found.append(_ref(resource, "subject", "reference"))
        elif kind == "RelatedPerson":
            found.append(_ref(resource, "patient", "reference"))
        elif kind == "Task":
            found.append(_ref(resource, "for", "reference"))
    elif parameter == "focus" and kind == "Task":
        found.append(_ref(resource, "focus", "reference"))
    elif parameter == "encounter" and kind == "Observation":
        found.append(_ref(resource, "encounter", "reference"))
    return [f for f in found if f]


def token_value(resource: Resource, parameter: str) -> list[tuple[str | None, str]]:
    """Return (system, code) values of a token parameter (`status`, `business-status`)."""
    if parameter == "status":
        status = resource.get("status")
        return [(None, str(status))] if status else []
    if parameter == "business-status":
        codings = _list(_dict(resource.get("businessStatus")).get("coding"))
        return [(c.get("system"), str(c.get("code"))) for c in codings if isinstance(c, dict)]
    return []


def section_codes(section: dict[str, Any]) -> set[str]:
    """Return the codes of a Composition section."""
    return {str(c.get("code")) for c in _list(_dict(section.get("code")).get("coding"))
            if isinstance(c, dict)}


def visible_ids(served: Iterable[Served], sections: Iterable[str] | None) -> set[str] | None:
    """Return the ids of the resources a reader limited to some sections sees (None: all).

    The Composition and the Task always; the resources the permitted sections point to; the
    Patient behind a visible RelatedPerson; the Observations of a visible Encounter.
    Practitioners only when the reader sees the whole record.
    """
    if sections is None:
        return None
    allowed = set(sections)
    items = list(served)
    seen = {s.id for s in items if s.type in ("Composition", "Task")}
    refs: set[str] = set()
    for item in items:
        if item.type != "Composition":
            continue
        for section in _list(item.resource.get("section")):
            if isinstance(section, dict) and section_codes(section) & allowed:
                refs |= {str(_dict(e).get("reference")) for e in _list(section.get("entry"))}
    by_ref = {f"{s.type}/{s.id}": s for s in items}
    for ref in list(refs):
        held = by_ref.get(ref)
        if held is None or held.type == "Practitioner":
            continue
        seen.add(held.id)
        patient = _ref(held.resource, "patient", "reference")
        if held.type == "RelatedPerson" and patient in by_ref:
            seen.add(by_ref[patient].id)
    for item in items:
        encounter = _ref(item.resource, "encounter", "reference")
        if item.type == "Observation" and encounter in by_ref and by_ref[encounter].id in seen:
            seen.add(item.id)
    return seen


def limit_sections(composition: Resource, sections: Iterable[str] | None) -> Resource:
    """Return a Composition showing only the permitted sections (all when None)."""
    if sections is None:
        return composition
    allowed = set(sections)
    kept = [s for s in _list(composition.get("section"))
            if isinstance(s, dict) and section_codes(s) & allowed]
    shown = {str(_dict(e).get("reference")) for s in kept for e in _list(s.get("entry"))}
    limited = {**composition, "section": kept}
    if _ref(composition, "subject", "reference") not in shown:
        limited.pop("subject", None)  # the subject is not among what this reader may see
    return limited
