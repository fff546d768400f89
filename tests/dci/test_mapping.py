"""The CRVS person record mapping, checked against the standard's CRVS sample record."""

from __future__ import annotations

from datetime import date
from typing import Any

from crvshub.dci.fhir_mapping import person_record
from crvshub.record.models import Record
from tests.dci import schema
from tests.dci.helpers import death_bundle, sample
from tests.record.graphql_helpers import birth

SAMPLE = sample("processflow1res")["message"]["search_response"][0]["data"]["reg_records"][0]
# The sample leaves death_place empty ({}): a death place has the shape of its birth place.
REFERENCE = {**SAMPLE, "death_place": SAMPLE["birth_place"]}
ENUMS = schema.document()["components"]["schemas"]


def _record(event: str, bundle: dict[str, Any], **values: Any) -> Record:
    return Record(id="rec-1", tracking_id="B123456", event=event, status="REGISTERED",
                  office_id="office", composition_type=f"{event}-notification", bundle=bundle,
                  version=1, registration_number=values.pop("number", "2026BXYZ"),
                  event_location_id="place-1", **values)


def _same_shape(ours: Any, theirs: Any, where: str = "") -> None:
    """Every key we write is in the sample at the same place, with a value of the same kind."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict), where
        for key, value in ours.items():
            if key in ("@context", "@id"):
                continue
            assert key in theirs, f"{where}.{key} is not in the standard's sample record"
            _same_shape(value, theirs[key], f"{where}.{key}")
    elif isinstance(ours, list):
        assert isinstance(theirs, list) and theirs, where
        for value in ours:
            _same_shape(value, theirs[0], f"{where}[]")
    else:
        assert isinstance(ours, str) and isinstance(theirs, str), where


def test_a_birth_maps_to_the_standards_crvs_person() -> None:
    record = _record("birth", birth(child="Tendai", gender="female", mother_nid="1234567890"),
                     event_date=date(2021, 6, 1), subject_gender="female")
    person = person_record(record, lambda place: {"place-1": "Ibombo Hospital"}.get(place or ""))
    _same_shape(person, REFERENCE)
    assert person["@type"] == SAMPLE["@type"] == "CRVS_Person"
    assert person["identifier"] == [{"@type": "Identifier", "identifier_type": "BRN",
                                     "identifier_value": "2026BXYZ"}]
    assert person["name"] == {"@type": "Name", "surname": "Mwale", "given_name": "Tendai"}
    assert person["sex"] == "female" and person["birth_date"] == "2021-06-01"
    assert person["birth_place"] == {"@type": "Place", "@id": "place-1",
                                     "name": "Ibombo Hospital"}
    assert person["parent1_identifier"]["identifier_value"] == "1234567890"
    assert person["parent2_identifier"]["identifier_value"] == "0987654321"
    assert "death_date" not in person
    for identifier in person["identifier"] + [person["parent1_identifier"]]:
        assert identifier["identifier_type"] in ENUMS["dci_IdentifierType"]["enum"]
    assert person["sex"] in ENUMS["dci_Sex"]["enum"]


def test_a_death_maps_with_its_death_date_place_uin_and_address() -> None:
    record = _record("death", death_bundle("Peter", "5555444433"), number="2026DABC",
                     event_date=date(2026, 1, 6), subject_gender="male")
    person = person_record(record, lambda _place: None)
    _same_shape(person, REFERENCE)
    assert {"@type": "Identifier", "identifier_type": "UIN",
            "identifier_value": "5555444433"} in person["identifier"]
    assert {"@type": "Identifier", "identifier_type": "DRN",
            "identifier_value": "2026DABC"} in person["identifier"]
    assert person["death_date"] == "2026-01-06" and person["birth_date"] == "1948-11-30"
    assert person["death_place"] == {"@type": "Place", "@id": "place-1"}
    assert person["address"][0]["country_code"] == "FAR"
    assert "parent1_identifier" not in person
