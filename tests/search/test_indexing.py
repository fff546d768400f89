"""The index reads every named person of a record's bundle, as a registrar would search them."""

from __future__ import annotations

import json
from pathlib import Path

from crvshub.search.indexing import index_entry

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
