"""The search columns of a record: a pure function of its bundle that fits the columns."""

from __future__ import annotations

from typing import Any

from crvshub.record.domain import Event
from crvshub.record.models import Record
from crvshub.record.search_columns import search_columns
from tests.record.helpers import HOSPITAL_ID, birth_bundle


def _child(bundle: dict[str, Any]) -> dict[str, Any]:
    child: dict[str, Any] = bundle["entry"][2]["resource"]
    return child


def test_columns_of_a_declaration() -> None:
    columns = search_columns(birth_bundle(given="  Chipo ", family="Mwalé"), Event.BIRTH)
    assert columns == {
        "subject_given": "Chipo", "subject_family": "Mwalé", "subject_name_norm": "chipo mwale",
        "subject_gender": "male", "event_date": columns["event_date"],
        "event_location_id": HOSPITAL_ID, "contact_number": "+260911111111", "contact_email": None,
    }
    assert str(columns["event_date"]) == "2026-11-01"


def test_every_column_fits_its_database_column() -> None:
    bundle = birth_bundle()
    child = _child(bundle)
    child["name"] = [{"given": ["Á" * 300, "B" * 300], "family": ["C" * 300, "D"]}]
    child["gender"] = "x" * 40
    bundle["entry"][1]["resource"]["extension"][0]["valueString"] = "9" * 50
    columns = search_columns(bundle, Event.BIRTH)
    for name, value in columns.items():
        length = getattr(Record.__table__.c[name].type, "length", None)
        if length is not None and value is not None:
            assert len(value) <= length, name
    assert columns["subject_given"] == "Á" * 255
    assert columns["subject_name_norm"] == "a" * 300 + " " + "b" * 211


def test_odd_values_give_empty_columns_not_errors() -> None:
    bundle = birth_bundle()
    child = _child(bundle)
    child["name"] = [{"given": [" ", 7, None], "family": 3}]
    child["birthDate"] = "2026-02"
    child["gender"] = {"code": "male"}
    bundle["entry"][4]["resource"]["location"] = [{"location": {"reference": "Location/" + "x" * 65}}]
    columns = search_columns(bundle, Event.BIRTH)
    assert columns["subject_given"] is None and columns["subject_family"] is None
    assert columns["subject_name_norm"] is None and columns["subject_gender"] is None
    assert columns["event_date"] is None and columns["event_location_id"] is None


def test_an_encounter_outside_the_sections_still_gives_the_place() -> None:
    bundle = birth_bundle()
    sections = bundle["entry"][0]["resource"]["section"]
    sections[:] = [s for s in sections if s["code"]["coding"][0]["code"] != "birth-encounter"]
    assert search_columns(bundle, Event.BIRTH)["event_location_id"] == HOSPITAL_ID
    assert search_columns(birth_bundle(with_child=False), Event.BIRTH)["subject_given"] is None
