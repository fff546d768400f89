"""SQL for locations."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

from sqlalchemy import String, any_, bindparam, column, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from crvshub.db import utcnow
from crvshub.location.domain import LocationType
from crvshub.location.models import CacheVersion, Location, LocationVersion


def get(session: Session, location_id: str) -> Location | None:
    """Return a location by id."""
    return session.get(Location, location_id)


def by_ids(session: Session, ids: Collection[str]) -> Sequence[Location]:
    """Return the locations holding any of these ids, in one statement whatever their number."""
    if not ids:
        return []
    # One bound parameter for the whole list: an IN list of bound values would hit the driver's
    # parameter limit (65,535 on PostgreSQL) for a large bundle.
    if session.get_bind().dialect.name == "postgresql":
        wanted = Location.id == any_(bindparam("ids", list(ids), type_=ARRAY(String)))
    else:
        listed = func.json_each(bindparam("ids", json.dumps(list(ids))))
        wanted = Location.id.in_(select(column("value")).select_from(listed))
    return session.scalars(select(Location).where(wanted)).all()


def by_statistical_id(session: Session, statistical_id: str) -> Location | None:
    """Return a location by statistical id."""
    return session.scalars(
        select(Location).where(Location.statistical_id == statistical_id)
    ).first()


def office_by_ref(session: Session, ref: str) -> Location | None:
    """Return a CRVS office by id or statistical id."""
    row = get(session, ref) or by_statistical_id(session, ref)
    if row is None or row.type != LocationType.CRVS_OFFICE:
        return None
    return row


def all_of_type(session: Session, location_type: str) -> Sequence[Location]:
    """Return every location of one type, by name."""
    return session.scalars(
        select(Location).where(Location.type == location_type).order_by(Location.name)
    ).all()


def count(session: Session) -> int:
    """Return the number of locations."""
    return int(session.scalar(select(func.count()).select_from(Location)) or 0)


def add(session: Session, location: Location) -> None:
    """Stage a new location."""
    session.add(location)


def get_for_update(session: Session, location_id: str) -> Location | None:
    """Return a location by id, locking its row until the transaction ends."""
    return session.get(Location, location_id, with_for_update=True)


def by_statistical_ids(session: Session, statistical_ids: list[str]) -> Sequence[Location]:
    """Return the locations holding any of these statistical ids."""
    if not statistical_ids:
        return []
    return session.scalars(
        select(Location).where(Location.statistical_id.in_(statistical_ids))
    ).all()


def all_locations(session: Session) -> Sequence[Location]:
    """Return every location."""
    return session.scalars(select(Location)).all()


def add_version(session: Session, version: LocationVersion) -> None:
    """Stage one history entry."""
    session.add(version)


def versions_of(
    session: Session, location_id: str, limit: int, *, before: int | None = None
) -> Sequence[LocationVersion]:
    """Return the saved versions of a location, newest first (only those below `before`)."""
    query = select(LocationVersion).where(LocationVersion.location_id == location_id)
    if before is not None:
        query = query.where(LocationVersion.version < before)
    return session.scalars(query.order_by(LocationVersion.version.desc()).limit(limit)).all()


def count_versions(session: Session, location_id: str) -> int:
    """Return how many versions of a location are saved."""
    query = select(func.count()).where(LocationVersion.location_id == location_id)
    return int(session.scalar(query) or 0)


def version_of(session: Session, location_id: str, version: int) -> LocationVersion | None:
    """Return one saved version of a location."""
    return session.get(LocationVersion, (location_id, version))


def cache_version(session: Session, key: str) -> int:
    """Return the current version counter of a cached data set (0 if never written)."""
    value = session.scalar(select(CacheVersion.version).where(CacheVersion.key == key))
    return int(value or 0)


def bump_cache_version(session: Session, key: str) -> None:
    """Increase a data set's version counter in the caller's transaction."""
    result = session.execute(
        update(CacheVersion)
        .where(CacheVersion.key == key)
        .values(version=CacheVersion.version + 1, updated_at=utcnow())
    )
    if getattr(result, "rowcount", 0) == 0:
        session.add(CacheVersion(key=key, version=1, updated_at=utcnow()))
        session.flush()
