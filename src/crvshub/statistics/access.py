"""Whose figures a caller may see: the one jurisdiction rule of statistics, dashboard and exports.

* National roles (national system admin, national registrar, performance manager: the
  project's `NATIONAL_ROLES`) and statistics clients: the whole country.
* Any other staff user with statistics access (registration agents and local registrars hold
  `performance`): the area of their office (the administrative area the office is part of)
  and everything below it. A question without an area is answered for that area; a question
  about an area outside it is refused (403 `AUTH-403-002`), never silently narrowed, so a
  figure is always the figure of the area it names.
"""

from __future__ import annotations

from dataclasses import dataclass

from crvshub.auth.domain import NATIONAL_ROLES, Principal
from crvshub.errors import OutOfJurisdiction
from crvshub.location.cache import Snapshot


@dataclass(frozen=True)
class Jurisdiction:
    """The area whose figures a caller may see (None: the whole country)."""

    area_id: str | None

    @property
    def national(self) -> bool:
        """Tell whether the caller sees the whole country."""
        return self.area_id is None


NATIONAL = Jurisdiction(None)


def jurisdiction(principal: Principal, snapshot: Snapshot) -> Jurisdiction:
    """Return the area whose statistics a caller may see."""
    if principal.kind != "user" or principal.role in NATIONAL_ROLES:
        return NATIONAL
    office = snapshot.get(principal.office_id or "")
    if office is None:  # a user without a known office sees only what is filed under it
        return Jurisdiction(principal.office_id or "")
    return Jurisdiction(office.part_of_id or office.id)


def covers(scope: Jurisdiction, area_id: str, snapshot: Snapshot) -> bool:
    """Tell whether an area (or office) lies in a jurisdiction."""
    if scope.area_id is None or area_id == scope.area_id:
        return True
    view = snapshot.get(area_id)
    return view is not None and scope.area_id in view.ancestor_ids


def area_for(scope: Jurisdiction, asked: str | None, snapshot: Snapshot) -> str | None:
    """Return the area to answer for: the one asked if in the jurisdiction, else refuse.

    No area asked: the jurisdiction's own area (None, the country, for national callers).
    An id that is no location at all is passed on, for the query's own 400.
    """
    if scope.area_id is None:
        return asked
    if asked is None:
        return scope.area_id
    if snapshot.get(asked) is not None and not covers(scope, asked, snapshot):
        raise OutOfJurisdiction("This area is outside your jurisdiction: you may see the "
                                f"figures of {_name(scope, snapshot)} and the areas in it")
    return asked


def areas_in(scope: Jurisdiction, snapshot: Snapshot) -> set[str]:
    """Return the ids of every location in a jurisdiction (empty for the whole country)."""
    if scope.area_id is None:
        return set()
    return {v.id for v in snapshot.ordered if covers(scope, v.id, snapshot)}


def _name(scope: Jurisdiction, snapshot: Snapshot) -> str:
    view = snapshot.get(scope.area_id or "")
    return view.name if view is not None else str(scope.area_id)
