"""Location kinds, identifier systems and stable ids (pure)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class LocationType(StrEnum):
    """The three OpenCRVS location types."""

    ADMIN_STRUCTURE = "ADMIN_STRUCTURE"
    CRVS_OFFICE = "CRVS_OFFICE"
    HEALTH_FACILITY = "HEALTH_FACILITY"


JURISDICTION_TYPES = (
    "STATE",
    "DISTRICT",
    "LOCATION_LEVEL_1",
    "LOCATION_LEVEL_2",
    "LOCATION_LEVEL_3",
    "LOCATION_LEVEL_4",
    "LOCATION_LEVEL_5",
)
STATISTICAL_CODE_SYSTEM = "http://opencrvs.org/specs/id/statistical-code"
INTERNAL_ID_SYSTEM = "http://opencrvs.org/specs/id/internal-id"
JURISDICTION_TYPE_SYSTEM = "http://opencrvs.org/specs/id/jurisdiction-type"
LOCATION_TYPE_SYSTEM = "http://opencrvs.org/specs/location-type"


def stable_location_id(country: str, statistical_id: str) -> str:
    """Return the id a location gets from its statistical id (same on every install)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"crvshub:location:{country}:{statistical_id}"))


def identifier_value(location_type: str, statistical_id: str) -> str:
    """Return the OpenCRVS identifier value, e.g. `CRVS_OFFICE_<id>`."""
    return f"{location_type}_{statistical_id}"


def child_path(parent_path: str | None, location_id: str) -> str:
    """Return the materialised path of a location under its parent."""
    return f"{parent_path or '/'}{location_id}/"


STATISTIC_FIELDS = ("male_population", "female_population", "population", "crude_birth_rate")
# Jurisdiction types OpenCRVS renames on creation.
JURISDICTION_ALIASES = {"LOCATION_LEVEL_1": "STATE", "LOCATION_LEVEL_2": "DISTRICT"}
ROOT_REFERENCE = "Location/0"


@dataclass(frozen=True)
class LocationView:
    """An immutable copy of one location, safe to share between threads."""

    id: str
    type: str
    statistical_id: str | None
    jurisdiction_type: str | None
    name: str
    name_norm: str
    alias: tuple[str, ...]
    description: str | None
    status: str
    part_of_id: str | None
    path: str
    country: str
    statistics: dict[str, dict[str, Any]]
    extra: dict[str, Any]
    version: int
    updated_at: datetime

    @property
    def ancestor_ids(self) -> list[str]:
        """Return the ids of the ancestors, root first (excluding this location)."""
        return [part for part in self.path.strip("/").split("/") if part][:-1]

    @property
    def identifier_value(self) -> str:
        """Return the OpenCRVS identifier value of this location."""
        return identifier_value(self.type, self.statistical_id or self.id)

    def snapshot(self) -> dict[str, Any]:
        """Return the location's columns as JSON-friendly data (for the history table)."""
        data = {name: getattr(self, name) for name in SNAPSHOT_FIELDS}
        data["alias"] = list(self.alias)
        data["updated_at"] = self.updated_at.isoformat()
        return data

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> LocationView:
        """Rebuild a view from `snapshot()` output."""
        values = dict(data)
        values["alias"] = tuple(values.get("alias") or ())
        values["updated_at"] = datetime.fromisoformat(values["updated_at"])
        return cls(**values)


SNAPSHOT_FIELDS = tuple(f for f in LocationView.__dataclass_fields__)


def normalise_jurisdiction(value: str | None) -> str | None:
    """Return the stored jurisdiction type (LOCATION_LEVEL_1/2 become STATE/DISTRICT)."""
    if value is None:
        return None
    return JURISDICTION_ALIASES.get(value, value)


def merge_statistics(
    current: dict[str, dict[str, Any]], entries: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Return statistics with each entry's year replaced by the entry (merge by year)."""
    merged = {year: dict(values) for year, values in current.items()}
    for entry in entries:
        merged[str(int(entry["year"]))] = {name: entry[name] for name in STATISTIC_FIELDS}
    return dict(sorted(merged.items()))


def parse_reference(value: str) -> str:
    """Return the id of a `Location/<id>` reference (a bare id is accepted too)."""
    return value.split("/", 1)[1] if value.startswith("Location/") else value


@dataclass
class LocationInput:
    """A location to create or the full new state of one (from either API)."""

    type: str
    statistical_id: str
    name: str
    alias: list[str]
    part_of: str | None
    status: str = "active"
    description: str | None = None
    jurisdiction_type: str | None = None
    statistics: dict[str, dict[str, Any]] | None = None
    extra: dict[str, Any] | None = None


@dataclass
class LocationChanges:
    """The fields an OpenCRVS `PUT /location/{id}` may change (None = unchanged)."""

    name: str | None = None
    alias: list[str] | None = None
    status: str | None = None
    statistics: list[dict[str, Any]] | None = None


def statistical_id_candidates(identifier: str) -> list[tuple[str | None, str]]:
    """Return (type, statistical id) readings of an identifier value like `CRVS_OFFICE_x`."""
    found: list[tuple[str | None, str]] = [
        (str(t), identifier[len(t) + 1 :])
        for t in LocationType
        if identifier.startswith(f"{t}_") and len(identifier) > len(t) + 1
    ]
    found.append((None, identifier))
    return found


def creation_order(refs: dict[str, str | None]) -> list[str] | None:
    """Order batch items so each comes after the item it is part of; None on a cycle.

    `refs` maps each item's statistical id to the statistical id of its parent when the parent
    is another item of the batch (None otherwise).
    """
    ordered: list[str] = []
    state: dict[str, int] = {}
    for start in refs:
        chain: list[str] = []
        node: str | None = start
        while node is not None and state.get(node) != 2:
            if state.get(node) == 1:
                return None
            state[node] = 1
            chain.append(node)
            node = refs.get(node)
        for item in reversed(chain):
            state[item] = 2
            ordered.append(item)
    return ordered
