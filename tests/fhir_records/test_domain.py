"""The pure part of the read API: ids, references and R4 conformance of stored shapes."""

from __future__ import annotations

from datetime import UTC, datetime

from crvshub.fhir.ids import stable_id
from crvshub.fhir_records.domain import served_resources, visible_ids
from tests.fhir_records.helpers import valid_r4

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _bundle() -> dict:
    return {"resourceType": "Bundle", "type": "document", "entry": [
        {"fullUrl": "urn:uuid:comp", "resource": {
            "resourceType": "Composition", "id": "rec-1", "status": "final",
            "type": {"coding": [{"code": "birth-notification"}]},
            "class": {"coding": [{"code": "crvs-document"}]},
            "subject": {"reference": "urn:uuid:child"},
            "section": [
                {"code": {"coding": [{"code": "child-details"}]},
                 "entry": [{"reference": "urn:uuid:child"}]},
                {"code": {"coding": [{"code": "birth-encounter"}]},
                 "entry": [{"reference": "urn:uuid:enc"}]}]}},
        {"fullUrl": "urn:uuid:task", "resource": {
            "resourceType": "Task", "status": "draft", "focus": {"reference": "urn:uuid:comp"}}},
        {"fullUrl": "urn:uuid:child", "resource": {
            "resourceType": "Patient", "name": [{"use": "en", "given": ["A"], "family": ["B"]}],
            "address": [{"line": ["1", "", "Main St"], "city": ""}]}},
        {"fullUrl": "urn:uuid:enc", "resource": {"resourceType": "Encounter"}},
        {"fullUrl": "urn:uuid:obs", "resource": {
            "resourceType": "Observation", "status": "final", "code": {"text": "plurality"},
            "context": {"reference": "urn:uuid:enc"}, "valueQuantity": {"value": "SINGLE"}}},
    ]}


def test_stored_shapes_are_served_as_valid_r4_with_stable_ids() -> None:
    served = {s.type: s for s in served_resources("rec-1", "birth", _bundle(), version=3,
                                                   updated_at=AT)}
    child_id = stable_id("rec-1", "urn:uuid:child")
    assert served["Patient"].id == child_id
    assert served["Composition"].resource["subject"] == {"reference": f"Patient/{child_id}"}
    assert served["Task"].resource["focus"] == {"reference": "Composition/rec-1"}
    assert served["Composition"].resource["category"] == [{"coding": [{"code": "crvs-document"}]}]
    patient = served["Patient"].resource
    assert patient["name"] == [{"given": ["A"], "family": "B"}]
    assert patient["address"][0]["line"] == ["1", None, "Main St"]
    assert patient["address"][0]["_line"][1]["extension"][0]["valueCode"] == "unknown"
    observation = served["Observation"].resource
    assert observation["encounter"] == {"reference": f"Encounter/{served['Encounter'].id}"}
    assert observation["valueString"] == "SINGLE" and "valueQuantity" not in observation
    assert {s.resource["meta"]["versionId"] for s in served.values()} == {"3"}
    for item in served.values():
        valid_r4(item.resource)


def test_a_section_limited_reader_sees_the_resources_of_its_sections() -> None:
    served = served_resources("rec-1", "birth", _bundle(), version=1, updated_at=AT)
    by_type = {s.type: s.id for s in served}
    assert visible_ids(served, None) is None
    assert visible_ids(served, ["child-details"]) == {
        by_type["Composition"], by_type["Task"], by_type["Patient"]}
    assert visible_ids(served, ["birth-encounter"]) == {
        by_type["Composition"], by_type["Task"], by_type["Encounter"], by_type["Observation"]}


def test_stable_ids_are_the_uuid5_of_the_record_and_full_url() -> None:
    import uuid

    from crvshub.fhir.ids import ID_NAMESPACE, stable_id

    for n in range(500):
        record, full = str(uuid.uuid4()), f"urn:uuid:{uuid.uuid4()}" if n % 5 else ""
        assert stable_id(record, full) == str(uuid.uuid5(ID_NAMESPACE, f"{record}|{full}"))


def _with_components() -> dict:
    bundle = _bundle()
    bundle["entry"][4]["resource"]["component"] = [
        {"valueReference": {"reference": "urn:uuid:child"}}, [{"reference": "urn:uuid:enc"}]]
    return bundle


def test_served_resources_are_copies_with_references_resolved_at_any_depth() -> None:
    stored = _with_components()
    served = {s.type: s for s in served_resources("rec-1", "birth", stored, version=1,
                                                   updated_at=AT)}
    patient_id = served["Patient"].id
    observation = served["Observation"].resource
    assert observation["component"][0]["valueReference"]["reference"] == f"Patient/{patient_id}"
    assert observation["component"][1][0]["reference"] == f"Encounter/{served['Encounter'].id}"
    assert served["Composition"].resource["section"][0]["entry"][0]["reference"] == \
        f"Patient/{patient_id}"
    observation["component"][0]["valueReference"]["reference"] = "changed"
    served["Patient"].resource["name"][0]["given"].append("C")
    assert stored == _with_components()  # the stored bundle is untouched


def test_only_the_wanted_kinds_are_built_with_the_same_ids_and_references() -> None:
    every = served_resources("rec-1", "birth", _bundle(), version=2, updated_at=AT)
    tasks = served_resources("rec-1", "birth", _bundle(), version=2, updated_at=AT,
                             kinds=("Task",))
    assert [s.type for s in tasks] == ["Task"]
    assert tasks[0] == next(s for s in every if s.type == "Task")
    assert tasks[0].resource["focus"]["reference"] == "Composition/rec-1"
