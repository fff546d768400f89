"""Where a registration counts: the place of the event in the location tree.

A record counts at its event's place when that place is in the tree (a health facility or an
area), otherwise (home births, places given as an address) at its registration office. From
that place up, it counts in every area above it, so a figure exists at any level.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from crvshub.location.cache import Snapshot
from crvshub.location.domain import LocationType, LocationView
from crvshub.statistics.domain import BadQuery

OFFICE_LEVEL = "CRVS_OFFICE"


@dataclass(frozen=True)
class Placed:
    """Where one (office, event place) pair counts."""

    chain: tuple[str, ...]  # ids from the root down to the place
    facility: bool  # the event happened in a health facility
    office_id: str


class Places:
    """Resolve (office, event place) pairs against one location snapshot (memoised)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.resolve = lru_cache(maxsize=4096)(self._resolve)

    def _resolve(self, office_id: str, event_location_id: str | None) -> Placed:
        place = self.snapshot.get(event_location_id) if event_location_id else None
        facility = place is not None and place.type == LocationType.HEALTH_FACILITY
        if place is None:
            place = self.snapshot.get(office_id)
        if place is None:
            return Placed((), facility, office_id)
        return Placed((*place.ancestor_ids, place.id), facility, office_id)

    def area_at(self, placed: Placed, level: str) -> str | None:
        """Return the id of the area at a level (jurisdiction type or office) holding a place."""
        if level == OFFICE_LEVEL:
            return placed.office_id
        for location_id in placed.chain:
            view = self.snapshot.get(location_id)
            if view is not None and level in (view.jurisdiction_type, view.type):
                return location_id
        return None

    def within(self, placed: Placed, area_id: str | None) -> bool:
        """Tell whether a place lies in an area (always, when no area is asked for)."""
        if area_id is None:
            return True
        if placed.office_id == area_id:
            return True
        return area_id in placed.chain

    def areas(self, level: str, area_id: str | None) -> list[LocationView]:
        """Return the areas of a level inside an area (all of them without one), by name."""
        found = []
        for view in self.snapshot.ordered:
            if level == OFFICE_LEVEL:
                matches = view.type == LocationType.CRVS_OFFICE
            else:
                matches = (view.type == LocationType.ADMIN_STRUCTURE
                           and view.jurisdiction_type == level)
            if matches and (area_id is None or area_id in (*view.ancestor_ids, view.id)):
                found.append(view)
        return found

    def area(self, area_id: str | None) -> LocationView | None:
        """Return the area asked for (None for the whole country), refusing unknown ids."""
        if area_id is None:
            return None
        view = self.snapshot.get(area_id)
        if view is None or view.type == LocationType.HEALTH_FACILITY:
            raise BadQuery(f"No administrative area or office with id {area_id!r}")
        return view

    def roots(self) -> list[LocationView]:
        """Return the top-level administrative areas (the country is their sum)."""
        return [v for v in self.snapshot.ordered
                if v.type == LocationType.ADMIN_STRUCTURE and not v.part_of_id]
