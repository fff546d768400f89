"""The default country loads completely, and loading again changes nothing."""

from __future__ import annotations

from crvshub.location import repository
from crvshub.location.domain import stable_location_id
from crvshub.location.seed import load_country
from crvshub.settings import BUILTIN_COUNTRY_DIR
from tests.helpers import HARAMBO_DISTRICT_SID, HARAMBO_OFFICE_SID


def test_default_country_is_seeded(db) -> None:
    admin = repository.all_of_type(db, "ADMIN_STRUCTURE")
    offices = repository.all_of_type(db, "CRVS_OFFICE")
    facilities = repository.all_of_type(db, "HEALTH_FACILITY")
    assert sum(1 for a in admin if a.jurisdiction_type == "STATE") == 4
    assert sum(1 for a in admin if a.jurisdiction_type == "DISTRICT") == 16
    assert len(offices) == 17
    assert len(facilities) >= 300
    assert any(o.name == "HQ Office" for o in offices)
    district = repository.by_statistical_id(db, HARAMBO_DISTRICT_SID)
    assert district is not None and district.statistics
    year = district.statistics["2020"]
    assert year["population"] == year["male_population"] + year["female_population"]


def test_office_path_and_stable_ids(db) -> None:
    office = repository.by_statistical_id(db, HARAMBO_OFFICE_SID)
    assert office is not None
    assert office.id == stable_location_id("FAR", HARAMBO_OFFICE_SID)
    assert office.path.endswith(f"/{office.id}/")
    assert stable_location_id("FAR", HARAMBO_DISTRICT_SID) in office.path


def test_seed_is_idempotent(db) -> None:
    before = repository.count(db)
    report = load_country(db, BUILTIN_COUNTRY_DIR, "FAR")
    db.commit()
    assert report.created == 0 and report.updated == 0
    assert repository.count(db) == before


def test_names_in_a_second_language_are_kept_with_the_place(db) -> None:
    office = repository.by_statistical_id(db, HARAMBO_OFFICE_SID)
    assert office is not None and office.name == "Harambo District Office"
    assert office.extra["names"] == {"fr": "Bureau de district de Harambo"}
    district = repository.by_statistical_id(db, HARAMBO_DISTRICT_SID)
    assert district is not None and "names" not in district.extra  # the column is optional
