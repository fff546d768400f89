"""The country's "complete declaration" rule applied to a stored record's bundle.

One implementation: the same required-field list and the same field reader that decide
whether a notification arrives DECLARED or IN_PROGRESS tell staff what a record still lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crvshub.notification import fhir_mapping
from crvshub.notification.config import required_fields
from crvshub.notification.validation import Entry, ParsedBundle, first_code

JSON = dict[str, Any]
PLACE_FIELD = {"birth": "placeOfBirth", "death": "placeOfDeath"}


@dataclass(frozen=True)
class StoredDeclaration:
    """A stored bundle indexed like a checked notification (no checks: it was checked once)."""

    parsed: ParsedBundle
    event: str
    sections: dict[str, list[Entry]]


def index(bundle: JSON, event: str) -> StoredDeclaration:
    """Index a stored bundle by fullUrl and by Composition section code."""
    entries: list[Entry] = []
    for i, raw in enumerate(bundle.get("entry") or []):
        resource = raw.get("resource") if isinstance(raw, dict) else None
        if isinstance(resource, dict):
            entries.append(Entry(i, str(raw.get("fullUrl") or ""), resource))
    parsed = ParsedBundle(bundle, entries)
    for entry in entries:
        parsed.by_url[entry.full_url] = entry
        if entry.resource.get("id"):
            parsed.by_url[f"{entry.type}/{entry.resource['id']}"] = entry
    sections: dict[str, list[Entry]] = {}
    comp = entries[0].resource if entries else {}
    for section in comp.get("section") or []:
        if not isinstance(section, dict):
            continue
        code = first_code(section.get("code")) or ""
        for ref in section.get("entry") or []:
            target = parsed.by_url.get(str(ref.get("reference"))) if isinstance(ref, dict) else None
            if target is not None:
                sections.setdefault(code, []).append(target)
    return StoredDeclaration(parsed, event, sections)


def _has_place(declaration: StoredDeclaration) -> bool:
    for entry in declaration.parsed.of_type("Encounter"):
        for item in entry.resource.get("location") or []:
            ref = (item.get("location") or {}).get("reference") if isinstance(item, dict) else None
            if isinstance(ref, str) and ref:
                return True
    return False


def present_fields(bundle: JSON, event: str) -> set[str]:
    """Return the declaration fields a stored bundle fills (names of the required-field list)."""
    declaration = index(bundle, event)
    if len(declaration.parsed.entries) < 2:
        return set()
    found = fhir_mapping.present_fields(declaration)
    if not _has_place(declaration):
        found.discard(PLACE_FIELD[event])
    return found


def missing_fields(country_dir: Path, bundle: JSON, event: str) -> list[str]:
    """Return the country's required fields a stored bundle leaves empty, in configured order."""
    present = present_fields(bundle, event)
    return [name for name in required_fields(country_dir)[event] if name not in present]
