"""The pure rules of vital statistics: periods, timeliness, age groups, expected events."""

from __future__ import annotations

from datetime import date

import pytest

from crvshub.statistics import domain
from crvshub.statistics.domain import BadQuery, Period


def test_periods() -> None:
    today = date(2026, 3, 15)
    assert domain.period_of(2025, None, None, today) == Period(date(2025, 1, 1), date(2026, 1, 1))
    assert domain.period_of(None, None, None, today) == Period(date(2026, 1, 1), date(2026, 3, 16))
    assert domain.period_of(None, date(2025, 2, 1), date(2025, 2, 28), today).days == 28
    with pytest.raises(BadQuery):
        domain.period_of(2025, date(2025, 1, 1), None, today)
    with pytest.raises(BadQuery):
        domain.period_of(None, date(2025, 2, 1), date(2025, 1, 1), today)
    shares = Period(date(2024, 7, 1), date(2025, 7, 1)).year_shares()
    assert shares[2024] == pytest.approx(184 / 366) and shares[2025] == pytest.approx(181 / 365)


@pytest.mark.parametrize(("days", "kind"), [
    (None, "unknown"), (-1, "unknown"), (0, "within-legal-period"), (30, "within-legal-period"),
    (31, "late"), (365, "late"), (366, "delayed"),
])
def test_timeliness_edges(days: int | None, kind: str) -> None:
    assert domain.timeliness(days) == kind


@pytest.mark.parametrize(("age", "group"), [
    (None, "unknown"), (7, "unknown"), (14, "under-15"), (15, "15-19"), (19, "15-19"),
    (20, "20-24"), (44, "40-44"), (45, "45-and-over"), (71, "unknown"),
])
def test_mother_age_groups(age: int | None, group: str) -> None:
    assert domain.mother_age_group(age) == group


def test_expected_events_use_the_nearest_year_and_the_default_death_rate() -> None:
    stats = {"2020": {"population": 100_000, "crude_birth_rate": 30.0},
             "2022": {"population": 200_000, "crude_birth_rate": 20.0,
                      "crude_death_rate": 10.0}}
    year = Period(date(2022, 1, 1), date(2023, 1, 1))
    assert domain.expected(stats, year, "birth") == pytest.approx(4000)
    assert domain.expected(stats, year, "death") == pytest.approx(2000)
    later = Period(date(2030, 1, 1), date(2031, 1, 1))
    assert domain.expected(stats, later, "birth") == pytest.approx(4000)  # nearest: 2022
    early = Period(date(2019, 1, 1), date(2020, 1, 1))
    assert domain.expected(stats, early, "death") == pytest.approx(
        100_000 * domain.DEFAULT_CRUDE_DEATH_RATE / 1000)
    assert domain.completeness(50, 200.0) == 25.0 and domain.completeness(5, 0) is None
