"""Deduplication decides like a registrar would, and says why."""

from __future__ import annotations

from datetime import date

from crvshub.search.dedup import EventSummary, Person, compare, date_similarity, explain
from crvshub.search.names import terms


def _birth(key: str, given: str, family: str, born: date, mother: str = "Grace Banda",
           place: str | None = "F1", ids: frozenset[str] = frozenset()) -> EventSummary:
    m_given, m_family = mother.split(" ")
    return EventSummary(
        key, "birth", Person(tuple(terms(given)), tuple(terms(family))), born, "female",
        Person(tuple(terms(m_given)), tuple(terms(m_family))), place, ids)


def test_typo_same_mother_same_date_is_a_duplicate_with_reasons() -> None:
    new = _birth("n", "Chisomo", "Bamda", date(2024, 3, 1))
    old = _birth("o", "Chisomo", "Banda", date(2024, 3, 1))
    verdict = compare(new, old)
    assert verdict.is_duplicate and verdict.candidate_id == "o"
    by_field = {m.field: m for m in verdict.matches}
    assert by_field["name"].strength == "very similar"
    assert by_field["date"].strength == "identical"
    assert by_field["mother"].strength == "identical"
    text = explain(verdict)
    assert text.startswith("Potential duplicate") and "'chisomo bamda' and 'chisomo banda'" in text


def test_twins_and_siblings_are_not_duplicates() -> None:
    first = _birth("a", "Chisomo", "Banda", date(2024, 3, 1))
    twin = _birth("b", "Thandiwe", "Banda", date(2024, 3, 1))
    sibling = _birth("c", "Chisomo", "Banda", date(2026, 5, 9))
    assert not compare(twin, first).is_duplicate
    assert not compare(sibling, first).is_duplicate


def test_same_name_other_mother_other_place_is_not_a_duplicate() -> None:
    one = _birth("a", "Amit", "Reddy", date(2024, 9, 21), mother="Deepa Reddy", place="F1")
    two = _birth("b", "Amit", "Reddy", date(2024, 9, 21), mother="Lakshmi Reddy", place="F9")
    assert not compare(one, two).is_duplicate


def test_a_shared_identifier_is_a_duplicate_whatever_else() -> None:
    one = _birth("a", "Amit", "Reddy", date(2024, 9, 21), ids=frozenset({"NID:123"}))
    two = _birth("b", "Ravi", "Das", date(2020, 1, 1), ids=frozenset({"NID:123"}))
    verdict = compare(one, two)
    assert verdict.is_duplicate and verdict.matches[0].field == "identifier"


def test_dates_people_get_wrong() -> None:
    assert date_similarity(date(2024, 3, 1), date(2024, 3, 1))[0] == 1.0
    assert date_similarity(date(2024, 3, 4), date(2024, 4, 3))[0] == 0.85
    assert date_similarity(date(2024, 3, 4), date(2024, 3, 5))[0] == 0.85
    assert date_similarity(date(2024, 3, 4), date(2024, 6, 5))[0] == 0.0
    assert date_similarity(None, date(2024, 3, 5))[1] == "unknown on one record"
