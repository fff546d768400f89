"""Stored locations as the notification validator sees them: the process cache, else the database.

A notification names several stored locations (office, place of birth, every address level);
reading them from the in-process location cache saves a database round trip each. The cache
may be up to `CRVSHUB_LOCATION_CACHE_SECONDS` stale, so an id it does not know is looked up in
the database before being called unknown.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from crvshub.location import repository as locations
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

    def get(self, location_id: str) -> StoredPlace | None:
        """Return the stored location with this id, or None."""
        if not 0 < len(location_id) <= MAX_ID_LENGTH:
            return None
        if self.snapshot is not None:
            view = self.snapshot.get(location_id)
            if view is not None:
                return view
        return locations.get(self.session, location_id)
