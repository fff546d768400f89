"""Stored locations as the notification validator sees them: the process cache, else the database.

A notification names several stored locations (office, place of birth, every address level);
reading them from the in-process location cache saves a database round trip each. The cache
may be up to `CRVSHUB_LOCATION_CACHE_SECONDS` stale, so ids it does not know are looked up in
the database before being called unknown: all of a bundle's at once (`prefetch`), in one query,
so a bundle naming thousands of unknown ids costs one statement, not one per id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy.orm import Session

from crvshub.location import service as locations
from crvshub.location.cache import Snapshot

MAX_ID_LENGTH = 64


class StoredPlace(Protocol):
    """What the validator reads of a stored location."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def part_of_id(self) -> str | None: ...


class Places:
    """Look up stored locations for one request."""

    def __init__(self, session: Session, snapshot: Snapshot | None = None) -> None:
        self.session = session
        self.snapshot = snapshot
        self._fetched: dict[str, StoredPlace | None] = {}

    def prefetch(self, location_ids: Iterable[str]) -> None:
        """Look up, in one query, every valid id neither the snapshot nor this request knows."""
        missing = {
            i for i in location_ids
            if 0 < len(i) <= MAX_ID_LENGTH and i not in self._fetched and self._cached(i) is None
        }
        if not missing:
            return
        found = {row.id: row for row in locations.by_ids(self.session, sorted(missing))}
        for location_id in missing:
            self._fetched[location_id] = found.get(location_id)

    def get(self, location_id: str) -> StoredPlace | None:
        """Return the stored location with this id, or None."""
        if not 0 < len(location_id) <= MAX_ID_LENGTH:
            return None
        view = self._cached(location_id)
        if view is not None:
            return view
        if location_id not in self._fetched:
            self.prefetch([location_id])
        return self._fetched[location_id]

    def _cached(self, location_id: str) -> StoredPlace | None:
        return self.snapshot.get(location_id) if self.snapshot is not None else None
