"""The index reads every named person of a record's bundle, as a registrar would search them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from crvshub.errors import AppError
from crvshub.notification.errors import InvalidValue
from crvshub.notification.validation import parse_structure
from crvshub.record.domain import Event
from crvshub.record.models import Record
from crvshub.record.search_columns import search_columns
from crvshub.record.search_results import SECTIONS, identifiers, names, person
from crvshub.search.indexing import index_entry
from tests.notification.fuzz import mutated_bundles

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "examples"


def _bundle(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return loaded


def test_a_full_birth_indexes_child_parents_and_informant() -> None:
    entry = index_entry(_bundle("birth-full"))
    roles = {p.role for p in entry.persons}
    assert {"child", "mother", "father"} <= roles
    child = next(p for p in entry.persons if p.role == "child")
    assert child.terms and child.birth_date is not None
    assert all(t == t.lower() and " " not in t for t in child.terms)
    mother = next(p for p in entry.persons if p.role == "mother")
    assert mother.identifiers, "the mother's national id is searchable"
    assert ("=" + mother.identifiers[0][1].upper(), "mother") in entry.identifier_rows()


def test_a_death_indexes_the_deceased() -> None:
    entry = index_entry(_bundle("death-full"))
    assert "deceased" in {p.role for p in entry.persons}


def test_long_and_odd_names_are_cut_to_the_index_limits() -> None:
    bundle = _bundle("birth-minimal")
    child = next(e["resource"] for e in bundle["entry"]  # type: ignore[attr-defined]
                 if e["resource"].get("resourceType") == "Patient")
    child["name"] = [{"given": ["A" * 300], "family": "B" * 300}]
    entry = index_entry(bundle)
    person = entry.persons[0]
    assert person.given is not None and len(person.given) == 255
    assert all(len(t) <= 64 for t in person.terms)
    assert all(len(code) <= 64 for pair in entry.vocabulary().values() for code in pair)


def test_broken_bundles_index_nothing_rather_than_fail() -> None:
    assert index_entry({}).persons == []
    assert index_entry({"entry": [{"resource": {"section": "x"}}]}).persons == []
    assert index_entry({"entry": ["x", None]}).persons == []


@given(mutated_bundles())
@settings(max_examples=1500, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
def test_any_mutated_bundle_indexes_and_projects_without_raising(bundle: Any) -> None:
    """The notification path indexes whatever passed validation: any shape, never a crash."""
    try:
        parse_structure(bundle)
    except AppError:
        return  # refused with a 4xx before anything reads it
    entry = index_entry(bundle)
    entry.term_rows(), entry.identifier_rows(), entry.vocabulary()
    for event in Event:
        search_columns(bundle, event)
    record = Record(bundle=bundle)
    for role in SECTIONS:
        found = person(record, role)
        names(found)
        identifiers(found)


def test_a_related_person_with_a_malformed_patient_link_is_skipped() -> None:
    bundle = _bundle("birth-full")
    for item in bundle["entry"]:  # type: ignore[attr-defined]
        if item["resource"]["resourceType"] == "RelatedPerson":
            item["resource"]["patient"] = 1
    roles = {p.role for p in index_entry(bundle).persons}
    assert "child" in roles and "informant" not in roles


def test_odd_section_codings_are_skipped_by_every_reader() -> None:
    """A section coding of null once made record creation a 500: validation now refuses it
    (400 with its path), and the readers still skip it in bundles stored before."""
    bundle = _bundle("birth-full")
    sections = bundle["entry"][0]["resource"]["section"]  # type: ignore[index]
    for section in sections:
        section["code"]["coding"].append(None)
    with pytest.raises(InvalidValue) as refused:
        parse_structure(bundle)
    assert any(i.expression and ".section[0].code.coding[" in i.expression
               for i in refused.value.issues)
    assert search_columns(bundle, Event.BIRTH)["event_location_id"]
    assert index_entry(bundle).persons


def test_each_pair_of_a_persons_name_terms_is_posted_once() -> None:
    from crvshub.search.indexing import pair_key, term_pairs

    bundle = _bundle("birth-minimal")
    child = next(e["resource"] for e in bundle["entry"]  # type: ignore[attr-defined]
                 if e["resource"].get("resourceType") == "Patient")
    child["name"] = [{"given": ["Van", "An"], "family": "Nguyễn"}]
    entry = index_entry(bundle)
    rows = {t for t, role in entry.term_rows() if role == entry.persons[0].role}
    assert {"van", "an", "nguyen", "an nguyen", "an van", "nguyen van"} <= rows
    assert not any(" " in t for t in entry.vocabulary()), "pairs are not name terms"
    assert pair_key("tran", "mai") == pair_key("mai", "tran") == "mai tran"
    assert pair_key("an", "an") == "an", "a pair of equal terms is the term itself"
    assert len(pair_key("a" * 64, "b" * 64)) == 128
    many = tuple(f"t{n}" for n in range(12))
    assert len(term_pairs(many)) == 8 * 7 // 2, "only the first eight terms are paired"
