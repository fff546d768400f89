"""Staff search: one box for names, tracking IDs, registration numbers, national IDs and phones.

What a registrar types is read as the most specific thing it can be: a tracking ID (`B` or
`D` and 6-7 letters or digits), a registration number, a national ID or phone number (digits),
otherwise a name of anybody in the record. Filters narrow it; staff see their own office
only, national roles every office.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from crvshub.location.cache import Snapshot
from crvshub.record.search import (
    DateRange,
    Order,
    Page,
    RecordQuery,
    Scope,
    find,
    summary_of,
)
from crvshub.record.service import Actor
from crvshub.search.service import VocabularyCache

TRACKING_ID = re.compile(r"^[BDbd][0-9A-Za-z]{6,7}$")
REGISTRATION_NUMBER = re.compile(r"^\d{4}[BDbd][0-9A-Za-z]{6,7}$")
DIGITS = re.compile(r"^\+?[\d\s-]{5,}$")
MAX_COUNT = 100


@dataclass(frozen=True)
class StaffFilters:
    """The filters of the search box, besides the text."""

    event: str | None = None
    statuses: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    place_id: str | None = None
    office_id: str | None = None


def readings(text: str) -> list[RecordQuery]:
    """Return what the typed text can mean, most specific first."""
    cleaned = text.strip()
    if not cleaned:
        return [RecordQuery()]
    if REGISTRATION_NUMBER.match(cleaned):
        return [RecordQuery(registration_number=cleaned.upper())]
    if TRACKING_ID.match(cleaned):
        return [RecordQuery(tracking_id=cleaned.upper()), RecordQuery(any_name=cleaned)]
    if DIGITS.match(cleaned):
        compact = re.sub(r"[\s-]", "", cleaned)
        return [RecordQuery(national_id=compact), RecordQuery(contact_number=compact)]
    return [RecordQuery(any_name=cleaned)]


def _places(snapshot: Snapshot, location_id: str) -> tuple[str, ...]:
    """Return a location and every location under it."""
    return (location_id, *(v.id for v in snapshot.descendants(location_id)))


def _narrowed(query: RecordQuery, filters: StaffFilters, snapshot: Snapshot) -> RecordQuery:
    return replace(
        query,
        events=(filters.event,) if filters.event else (),
        statuses=filters.statuses,
        event_date=DateRange(filters.date_from, filters.date_to),
        event_location_ids=_places(snapshot, filters.place_id) if filters.place_id else None,
        office_ids=_places(snapshot, filters.office_id) if filters.office_id else None,
    )


def scope_of(actor: Actor) -> Scope:
    """Return what a staff member may find: their office, or every office for national roles."""
    if actor.national:
        return Scope()
    return Scope(office_ids=frozenset({actor.office_id or ""}))


def search(session: Session, cache: VocabularyCache, snapshot: Snapshot, actor: Actor,
           text: str, filters: StaffFilters, *, count: int, skip: int) -> Page:
    """Return one page of the records a staff member finds with the search box."""
    page = Page(0, [])
    for query in readings(text):
        page = find(session, cache, _narrowed(query, filters, snapshot), scope_of(actor),
                    Order(), count=count, skip=skip)
        if page.total:
            break
    return page


def page_json(page: Page, *, count: int, skip: int) -> dict[str, Any]:
    """Return the JSON body of a search answer."""
    return {
        "total": page.total, "count": count, "skip": skip,
        "results": [{**summary_of(r), "score": page.scores.get(r.id)} for r in page.records],
    }
