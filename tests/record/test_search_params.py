"""OpenCRVS search parameters become one RecordQuery (pure: a tiny location tree)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from crvshub.record.search import DateRange, PersonCriteria
from crvshub.record.search_errors import InvalidSearchParameter
from crvshub.record.search_params import to_query


@dataclass(frozen=True)
class Place:
    """A location of the fake tree."""

    id: str
    country: str = "FAR"


class Tree:
    """state > district > (office, hospital); another state elsewhere."""

    children = {"state": ["district"], "district": ["office", "hospital"], "other": []}

    def descendants(self, location_id: str) -> list[Place]:
        """Return every location below one."""
        found = []
        for child in self.children.get(location_id, []):
            found += [Place(child), *self.descendants(child)]
        return found

    @property
    def ordered(self) -> tuple[Place, ...]:
        """Return every location."""
        return (*(Place(i) for i in ("state", "district", "office", "hospital")),
                Place("other", "XYZ"))


def test_jurisdictions_levels_and_countries_become_location_sets() -> None:
    query = to_query({"declarationJurisdictionId": "state"}, Tree())
    assert query.office_ids == ("district", "hospital", "office", "state")
    query = to_query({"declarationJurisdictionId": "state", "declarationLocationId": "office"},
                     Tree())
    assert query.office_ids == ("office",)
    query = to_query({"eventLocationLevel1": "state", "eventLocationLevel2": "district"}, Tree())
    assert query.event_location_ids == ("district", "hospital", "office")
    query = to_query({"eventLocationId": "hospital", "eventCountry": "xyz"}, Tree())
    assert query.event_location_ids == ()
    assert to_query({}, Tree()).office_ids is None and to_query({}, Tree()).is_empty()


def test_dates_people_and_marriage() -> None:
    query = to_query({"dateOfEvent": "2022-01-08",
                      "dateOfRegistrationStart": "2021-11-01T00:00:00.000Z",
                      "dateOfRegistrationEnd": "2022-12-31T23:59:59.999Z",
                      "motherFirstNames": " Mom ", "motherFamilyName": "Mwale",
                      "motherDoBStart": "1990-01-01", "motherDoBEnd": "1999-12-31",
                      "childGender": "Male", "registrationStatuses": ["REQUESTED_CORRECTION"]},
                     Tree())
    assert query.event_date == DateRange(date(2022, 1, 8), date(2022, 1, 8))
    assert query.declared.start == datetime(2021, 11, 1, tzinfo=UTC)
    assert query.statuses == ("CORRECTION_REQUESTED",)
    assert PersonCriteria("mother", "Mom Mwale", date(1990, 1, 1), date(1999, 12, 31)) in (
        query.people)
    assert PersonCriteria("child", gender="male") in query.people
    assert to_query({"groomFirstNames": "John", "event": "birth"}, Tree()).events == (
        "marriage",)


@pytest.mark.parametrize("params", [
    {"dateOfEventStart": "2022-01-01"}, {"deceasedDoBEnd": "2022-01-01"},
    {"dateOfEvent": "2022-02-30"}, {"timePeriodFrom": "2022-01-01T10:00"},
    {"event": "adoption"}, {"registrationStatuses": ["DONE"]},
])
def test_bad_parameters_name_themselves(params: dict[str, object]) -> None:
    with pytest.raises(InvalidSearchParameter) as raised:
        to_query(params, Tree())
    assert raised.value.expression and raised.value.expression[:5] in str(params)
