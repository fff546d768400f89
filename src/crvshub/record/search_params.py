"""Read OpenCRVS's `AdvancedSearchParametersInput` into one `RecordQuery` (no database).

Where OpenCRVS v1.x matches a parameter wrongly, CRVS Hub does what the parameter says:
`dateOfEvent*` is the child's birth date for births and the death date for deaths (OpenCRVS
only matched death dates), and `declarationJurisdictionId` covers every office at or below
the area (OpenCRVS v1.3-v1.6 only matched areas directly above the office).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, Protocol

from crvshub.record.domain import Status
from crvshub.record.search import DateRange, PersonCriteria, RecordQuery
from crvshub.record.search_errors import InvalidSearchParameter

# OpenCRVS spellings of statuses that CRVS Hub names differently.
STATUS_ALIASES = {"REQUESTED_CORRECTION": Status.CORRECTION_REQUESTED.value}
PERSON_FIELDS = {
    "child": ("childFirstNames", "childLastName", "childDoB", "childIdentifier", "childGender"),
    "deceased": ("deceasedFirstNames", "deceasedFamilyName", "deceasedDoB",
                 "deceasedIdentifier", "deceasedGender"),
    "mother": ("motherFirstNames", "motherFamilyName", "motherDoB", "motherIdentifier", None),
    "father": ("fatherFirstNames", "fatherFamilyName", "fatherDoB", "fatherIdentifier", None),
    "informant": ("informantFirstNames", "informantFamilyName", "informantDoB",
                  "informantIdentifier", None),
    "spouse": ("spouseFirstNames", "spouseFamilyName", "spouseDoB", "spouseIdentifier", None),
}
MARRIAGE_FIELDS = (
    *(f"{who}{what}" for who in ("bride", "groom")
      for what in ("FirstNames", "FamilyName", "DoB", "DoBStart", "DoBEnd", "Identifier")),
    "dateOfMarriage",
)
LEVELS = tuple(f"eventLocationLevel{n}" for n in range(1, 7))
MAX_TEXT = 255  # longest string parameter (the longest name the index keeps)
MAX_WORDS = 10  # words in one name parameter: each is one more index lookup
MAX_ITEMS = 20  # statuses or composition types in one list
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Locations(Protocol):
    """The part of the location tree a search needs."""

    def descendants(self, location_id: str) -> list[Any]:
        """Return every location below one."""
        ...

    @property
    def ordered(self) -> tuple[Any, ...]:
        """Return every location."""
        ...


def text(params: Mapping[str, Any], name: str) -> str | None:
    """Return a string parameter stripped, or None when absent or blank."""
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidSearchParameter(f"{name} must be a string", expression=name)
    if len(value) > MAX_TEXT:
        raise InvalidSearchParameter(f"{name} is longer than {MAX_TEXT} characters",
                                     expression=name)
    return value.strip() or None


def name_text(params: Mapping[str, Any], *names: str) -> str | None:
    """Return the words of one or more name parameters together, at most MAX_WORDS."""
    found = " ".join(p for p in (text(params, n) for n in names) if p) or None
    if found is not None and len(found.split()) > MAX_WORDS:
        raise InvalidSearchParameter(f"{names[0]} has more than {MAX_WORDS} words",
                                     expression=names[0])
    return found


def items(params: Mapping[str, Any], name: str) -> list[str]:
    """Return the non-null strings of a list parameter, at most MAX_ITEMS."""
    found = [str(v) for v in params.get(name) or () if v is not None]
    if len(found) > MAX_ITEMS:
        raise InvalidSearchParameter(f"{name} has more than {MAX_ITEMS} values",
                                     expression=name)
    return found


def parse_when(name: str, value: str) -> date | datetime:
    """Parse `YYYY-MM-DD` or an ISO 8601 date-time; InvalidSearchParameter otherwise."""
    try:
        if _DAY.match(value):
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidSearchParameter(
            f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 date-time, not {value[:40]!r}",
            expression=name) from None
    if moment.tzinfo is None:
        raise InvalidSearchParameter(f"{name} needs a time zone (e.g. Z)", expression=name)
    return moment


def date_range(params: Mapping[str, Any], name: str) -> DateRange:
    """Return the range of `name` (one day) or of `nameStart` + `nameEnd` (both needed)."""
    exact, start, end = (text(params, name + suffix) for suffix in ("", "Start", "End"))
    if (start is None) != (end is None):
        missing = name + ("End" if end is None else "Start")
        raise InvalidSearchParameter(
            f"{name}Start and {name}End are required together: {missing} is missing",
            expression=missing)
    if start is not None and end is not None:
        found = DateRange(parse_when(name + "Start", start), parse_when(name + "End", end))
        if _day_of(found.start) > _day_of(found.end):
            raise InvalidSearchParameter(f"{name}Start is after {name}End",
                                         expression=name + "Start")
        return found
    if exact is not None:
        day = _day_of(parse_when(name, exact))
        return DateRange(day, day)
    return DateRange()


def _day_of(value: date | datetime | None) -> date:
    assert value is not None
    return value.date() if isinstance(value, datetime) else value


def statuses(params: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the registration statuses asked for, in CRVS Hub's names."""
    raw = items(params, "registrationStatuses")
    known = {s.value for s in Status}
    found = []
    for item in raw:
        value = STATUS_ALIASES.get(item.strip().upper(), item.strip().upper())
        if value not in known:
            raise InvalidSearchParameter(
                f"Unknown registration status {str(item)[:40]!r} "
                f"(known: {', '.join(sorted(known))})",
                expression="registrationStatuses")
        found.append(value)
    return tuple(found)


def person(params: Mapping[str, Any], role: str) -> PersonCriteria | None:
    """Return what is asked about one person, or None when nothing is."""
    first, family, born, identifier, gender = PERSON_FIELDS[role]
    name = name_text(params, first, family)
    birth = date_range(params, born)
    sex = text(params, gender) if gender else None
    found = PersonCriteria(role, name, _opt_day(birth.start), _opt_day(birth.end),
                           text(params, identifier), sex.lower() if sex else None)
    return None if found == PersonCriteria(role) else found


def _opt_day(value: date | datetime | None) -> date | None:
    return None if value is None else _day_of(value)


def _below(locations: Locations, location_id: str) -> set[str]:
    return {location_id, *(view.id for view in locations.descendants(location_id))}


def _narrow(current: set[str] | None, more: Iterable[str]) -> set[str]:
    return set(more) if current is None else current & set(more)


def event_places(params: Mapping[str, Any], locations: Locations) -> tuple[str, ...] | None:
    """Return the event locations allowed by eventLocationId, levels and country (None: any)."""
    found: set[str] | None = None
    if (place := text(params, "eventLocationId")) is not None:
        found = {place}
    deepest = next((v for v in (text(params, level) for level in reversed(LEVELS)) if v), None)
    if deepest is not None:
        found = _narrow(found, _below(locations, deepest))
    if (country := text(params, "eventCountry")) is not None:
        found = _narrow(found, (v.id for v in locations.ordered if v.country == country.upper()))
    return None if found is None else tuple(sorted(found))


def offices(params: Mapping[str, Any], locations: Locations) -> tuple[str, ...] | None:
    """Return the offices allowed by declarationLocationId and declarationJurisdictionId."""
    found: set[str] | None = None
    if (office := text(params, "declarationLocationId")) is not None:
        found = {office}
    if (area := text(params, "declarationJurisdictionId")) is not None:
        found = _narrow(found, _below(locations, area))
    return None if found is None else tuple(sorted(found))


def to_query(params: Mapping[str, Any], locations: Locations,
             user_id: str | None = None) -> RecordQuery:
    """Return the record query of an `AdvancedSearchParametersInput` (marriage: no match)."""
    event = text(params, "event")
    asks_marriage = any(text(params, f) for f in MARRIAGE_FIELDS)
    if event is not None and event.lower() not in ("birth", "death", "marriage"):
        raise InvalidSearchParameter("event must be birth, death or marriage", expression="event")
    events = ("marriage",) if asks_marriage else ((event.lower(),) if event else ())
    people = tuple(p for p in (person(params, role) for role in PERSON_FIELDS) if p)
    changed = text(params, "timePeriodFrom")
    return RecordQuery(
        events=events, statuses=statuses(params),
        event_date=date_range(params, "dateOfEvent"),
        declared=date_range(params, "dateOfRegistration"),
        changed_since=_moment(parse_when("timePeriodFrom", changed)) if changed else None,
        tracking_id=text(params, "trackingId"),
        registration_number=text(params, "registrationNumber"),
        record_id=text(params, "recordId"), national_id=text(params, "nationalId"),
        contact_number=text(params, "contactNumber"), contact_email=text(params, "contactEmail"),
        office_ids=offices(params, locations), event_location_ids=event_places(params, locations),
        composition_types=tuple(t for t in items(params, "compositionType") if t),
        created_by=(user_id or "")[:MAX_TEXT] or None, any_name=name_text(params, "name"),
        people=people,
    )


def _moment(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, time.min, UTC)
