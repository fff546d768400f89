"""Read the people of a record's FHIR bundle into search index entries (no database)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crvshub.fhir.ids import entry_id
from crvshub.search.names import phonetic, skeleton, terms

Resource = dict[str, Any]

# Composition section code -> the role of the person it holds.
ROLE_OF_SECTION = {
    "child-details": "child",
    "deceased-details": "deceased",
    "mother-details": "mother",
    "father-details": "father",
    "informant-details": "informant",
    "spouse-details": "spouse",
}
ROLES = tuple(ROLE_OF_SECTION.values())
MAX_TERM = 64
MAX_KEY = 128  # the postings' term column: a pair key is two terms and a space
PAIRED_TERMS = 8  # a person's first name terms that are also posted two by two
MAX_NAME = 255
MAX_IDENTIFIER = 127
IDENTIFIER_PREFIX = "="
# Postings of the FHIR read API: "#<resource id>" under RESOURCE_ROLE (every resource of the
# current bundle), identifiers of the resources that are not people (Task, Composition,
# Practitioner, RelatedPerson) under RESOURCE_ROLE, and the ids of resources a change removed
# under REMOVED_ROLE (kept when the entry is rewritten: a read answers 410 Gone).
RESOURCE_PREFIX = "#"
RESOURCE_ROLE = "resource"
REMOVED_ROLE = "resource-gone"


def identifier_key(value: str) -> str:
    """Return the index term of an identifier: "=" and the value, trimmed, upper case."""
    return IDENTIFIER_PREFIX + value.strip().upper()[:MAX_IDENTIFIER]


def resource_key(resource_id: str) -> str:
    """Return the index term of a FHIR resource id: "#" and the id."""
    return RESOURCE_PREFIX + resource_id[:MAX_IDENTIFIER]


@dataclass(frozen=True)
class IndexedPerson:
    """One person of a record as the index stores it."""

    role: str
    given: str | None
    family: str | None
    birth_date: date | None
    gender: str | None
    terms: tuple[str, ...]
    identifiers: tuple[tuple[str, str], ...]  # (kind, value)


@dataclass
class IndexEntry:
    """Everything the index holds about one record."""

    persons: list[IndexedPerson] = field(default_factory=list)
    resources: set[tuple[str, str]] = field(default_factory=set)

    def term_rows(self) -> set[tuple[str, str]]:
        """Return the distinct (term, role) postings: each name term, and each pair of a
        person's name terms (see `pair_key`)."""
        return {(t, p.role) for p in self.persons for t in (*p.terms, *term_pairs(p.terms))}

    def identifier_rows(self) -> set[tuple[str, str]]:
        """Return the distinct (identifier key, role) postings (see `identifier_key`), and
        the postings of the FHIR read API (resource ids and other resources' identifiers)."""
        return {(identifier_key(value), p.role) for p in self.persons
                for _, value in p.identifiers if value} | self.resources

    def vocabulary(self) -> dict[str, tuple[str, str]]:
        """Return each term with its phonetic code and consonant skeleton."""
        return {t: term_keys(t) for p in self.persons for t in p.terms}


# Names repeat (a million records hold a few thousand distinct ones): their terms and sound keys
# are computed once per process. Pure functions of their arguments; the caches are bounded.
@functools.lru_cache(maxsize=1 << 16)
def term_keys(term: str) -> tuple[str, str]:
    """Return the phonetic code and consonant skeleton of an index term (cut to MAX_TERM)."""
    return phonetic(term)[:MAX_TERM], skeleton(term)[:MAX_TERM]


@functools.lru_cache(maxsize=1 << 16)
def name_terms(given: str | None, family: str | None) -> tuple[str, ...]:
    """Return the distinct index terms of a person's given and family names, in order."""
    return tuple(dict.fromkeys(t[:MAX_TERM] for t in terms(given) + terms(family)))


def pair_key(a: str, b: str) -> str:
    """Return the posting key of two name terms of one person: both, sorted, space between.

    A term never holds a space, so a pair key never equals a term. Looking a full name up by
    its pairs reads only the people who have both terms, however common each term is alone.
    A pair of equal terms is the term itself.
    """
    if a == b:
        return a
    first, second = (a, b) if a < b else (b, a)
    return f"{first} {second}"[:MAX_KEY]


@functools.lru_cache(maxsize=1 << 16)
def term_pairs(person_terms: tuple[str, ...]) -> tuple[str, ...]:
    """Return the pair keys of a person's name terms (the first `PAIRED_TERMS` of them)."""
    head = sorted(set(person_terms[:PAIRED_TERMS]))
    return tuple(pair_key(a, b) for i, a in enumerate(head) for b in head[i + 1:])


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _entries(bundle: dict[str, Any]) -> dict[str, Resource]:
    found: dict[str, Resource] = {}
    for entry in _list(bundle.get("entry")):
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
            found[str(entry.get("fullUrl", ""))] = entry["resource"]
    return found


def _sections(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    entries = _list(bundle.get("entry"))
    comp = _dict(_dict(entries[0]).get("resource")) if entries else {}
    pairs = []
    for raw_section in _list(comp.get("section")):
        section = _dict(raw_section)
        codes = [c.get("code") for c in _list(_dict(section.get("code")).get("coding"))
                 if isinstance(c, dict)]
        for item in _list(section.get("entry")):
            if isinstance(item, dict):
                for code in codes:
                    if isinstance(code, str) and code in ROLE_OF_SECTION:
                        pairs.append((ROLE_OF_SECTION[code], str(item.get("reference", ""))))
    return pairs


def _name(resource: Resource) -> tuple[str | None, str | None]:
    names = _list(resource.get("name"))
    first = _dict(names[0]) if names else {}
    given_raw = first.get("given")
    given_parts = given_raw if isinstance(given_raw, list) else [given_raw]
    given = " ".join(str(g) for g in given_parts if g) or None
    family = first.get("family")
    if isinstance(family, list):
        family = " ".join(str(f) for f in family if f)
    return given, (str(family) if family else None)


def _date(raw: Any) -> date | None:
    try:
        return date.fromisoformat(str(raw)[:10]) if raw else None
    except ValueError:
        return None


def _identifiers(resource: Resource) -> tuple[tuple[str, str], ...]:
    found = []
    for ident in _list(resource.get("identifier")):
        if not isinstance(ident, dict) or not ident.get("value"):
            continue
        kind = ident.get("type")
        if isinstance(kind, dict):
            codes = [c.get("code") for c in _list(kind.get("coding")) if isinstance(c, dict)]
            kind = next((c for c in codes if c), None)
        found.append((str(kind or "OTHER")[:48], str(ident["value"]).strip()[:MAX_IDENTIFIER]))
    return tuple(found)


def _person(role: str, resource: Resource) -> IndexedPerson:
    given, family = _name(resource)
    born = _date(resource.get("birthDate"))
    return IndexedPerson(
        role, given[:MAX_NAME] if given else None, family[:MAX_NAME] if family else None,
        born, str(resource["gender"])[:16] if resource.get("gender") else None,
        name_terms(given, family), _identifiers(resource))


def index_entry(bundle: dict[str, Any], record_id: str = "") -> IndexEntry:
    """Return the index entry of a record's bundle: every named person, once per role, and
    (with the record id) the postings of its FHIR resources."""
    resources = _entries(bundle)
    entry = IndexEntry()
    seen: set[str] = set()
    for role, reference in _sections(bundle):
        resource = resources.get(reference)
        if resource is None or role in seen:
            continue
        if resource.get("resourceType") == "RelatedPerson":
            patient_ref = str(_dict(resource.get("patient")).get("reference", ""))
            resource = resources.get(patient_ref, {})
        if not resource:
            continue
        seen.add(role)
        entry.persons.append(_person(role, resource))
    if record_id:
        entry.resources = _resource_rows(record_id, _list(bundle.get("entry")))
    return entry


def _resource_rows(record_id: str, entries: list[Any]) -> set[tuple[str, str]]:
    rows: set[tuple[str, str]] = set()
    for item in entries:
        resource = _dict(_dict(item).get("resource"))
        if not resource:
            continue
        rows.add((resource_key(entry_id(record_id, item)), RESOURCE_ROLE))
        if resource.get("resourceType") == "Patient":
            continue  # people's identifiers are posted under their role
        idents = resource.get("identifier")
        for ident in idents if isinstance(idents, list) else [idents]:
            if isinstance(ident, dict) and ident.get("value"):
                rows.add((identifier_key(str(ident["value"])), RESOURCE_ROLE))
    return rows
