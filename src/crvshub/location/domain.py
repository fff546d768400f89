"""Location kinds, identifier systems and stable ids (pure)."""

from __future__ import annotations

import uuid
from enum import StrEnum


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
