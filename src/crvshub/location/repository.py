"""SQL for locations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crvshub.location.domain import LocationType
from crvshub.location.models import Location


def get(session: Session, location_id: str) -> Location | None:
    """Return a location by id."""
    return session.get(Location, location_id)


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
