"""Vital statistics rules: periods, timeliness, age groups, expected events (pure).

Every figure counts *registrations*: records in a registered status (registered, certified,
issued, or registered with a correction requested) whose registration date falls in the
period asked for. Time to registration is the number of days from the event to the
registration; it decides timeliness (within the legal period, late, delayed).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

REGISTERED_STATUSES = ("REGISTERED", "CERTIFIED", "ISSUED", "CORRECTION_REQUESTED")
EVENTS = ("birth", "death")
LEGAL_DAYS = 30  # registered within 30 days of the event: on time
LATE_DAYS = 365  # 31 days to one year: late; beyond: delayed
TIMELINESS = ("within-legal-period", "late", "delayed", "unknown")
# Used when the country data gives no crude death rate for an area (deaths per 1,000 per year).
DEFAULT_CRUDE_DEATH_RATE = 8.0
MOTHER_AGE_GROUPS = ("under-15", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44",
                     "45-and-over", "unknown")
TIME_TO_REGISTRATION = ("0-30-days", "31-90-days", "91-365-days", "1-5-years",
                        "over-5-years", "unknown")
PLACE_TYPES = ("health-facility", "home-or-other")
DIMENSIONS = ("place", "month", "year", "sex", "place-type", "mother-age", "time-to-registration",
              "timeliness", "event")


class BadQuery(ValueError):
    """A statistics query that cannot be answered (bad period, level, dimension)."""


@dataclass(frozen=True)
class Period:
    """A half-open range of registration dates [start, end)."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """Return the length of the period in days."""
        return (self.end - self.start).days

    def bounds(self) -> tuple[datetime, datetime]:
        """Return the period as UTC instants (midnight to midnight)."""
        return (datetime.combine(self.start, time(), tzinfo=UTC),
                datetime.combine(self.end, time(), tzinfo=UTC))

    def year_shares(self) -> dict[int, float]:
        """Return, per calendar year, the share of that year the period covers."""
        shares: dict[int, float] = {}
        for year in range(self.start.year, self.end.year + 1):
            first, after = date(year, 1, 1), date(year + 1, 1, 1)
            covered = (min(after, self.end) - max(first, self.start)).days
            if covered > 0:
                shares[year] = covered / (366 if calendar.isleap(year) else 365)
        return shares


def period_of(year: int | None, start: date | None, end: date | None, today: date) -> Period:
    """Return the period asked for: a year, a from/to range (to inclusive), or this year."""
    if year is not None:
        if start or end:
            raise BadQuery("Give either year or from/to, not both")
        return Period(date(year, 1, 1), date(year + 1, 1, 1))
    first = start or date(today.year, 1, 1)
    last = end or today
    if last < first:
        raise BadQuery("The period ends before it starts")
    if (last - first).days > 366 * 50:
        raise BadQuery("The period is longer than 50 years")
    return Period(first, date.fromordinal(last.toordinal() + 1))


def timeliness(days: int | None) -> str:
    """Return how timely a registration was, from its days after the event."""
    if days is None or days < 0:
        return "unknown"
    if days <= LEGAL_DAYS:
        return "within-legal-period"
    return "late" if days <= LATE_DAYS else "delayed"


def time_to_registration(days: int | None) -> str:
    """Return the time-to-registration group of a number of days."""
    if days is None or days < 0:
        return "unknown"
    for limit, name in ((30, "0-30-days"), (90, "31-90-days"), (365, "91-365-days"),
                        (5 * 365, "1-5-years")):
        if days <= limit:
            return name
    return "over-5-years"


def mother_age_group(age: int | None) -> str:
    """Return the five-year group of a mother's age (event year minus her birth year)."""
    if age is None or age < 8 or age > 70:
        return "unknown"
    if age < 15:
        return "under-15"
    if age >= 45:
        return "45-and-over"
    low = age - age % 5
    return f"{low}-{low + 4}"


def rate_for(stats: Mapping[str, Mapping[str, Any]], year: int, field: str) -> tuple[float, float]:
    """Return (population, rate per 1,000) of an area for a year (nearest year with figures)."""
    if not stats:
        return 0.0, 0.0
    nearest = min(stats, key=lambda y: (abs(int(y) - year), -int(y)))
    entry = stats[nearest]
    population = float(entry.get("population") or 0)
    rate = entry.get(field)
    if rate is None and field == "crude_death_rate":
        rate = DEFAULT_CRUDE_DEATH_RATE
    return population, float(rate or 0)


def expected(stats: Mapping[str, Mapping[str, Any]], period: Period, event: str) -> float:
    """Return the events expected in an area over a period: population x crude rate."""
    field = "crude_birth_rate" if event == "birth" else "crude_death_rate"
    total = 0.0
    for year, share in period.year_shares().items():
        population, rate = rate_for(stats, year, field)
        total += population * rate / 1000 * share
    return total


def completeness(registered: int, expected_events: float) -> float | None:
    """Return registered / expected as a percentage (None without an expectation)."""
    return round(100 * registered / expected_events, 1) if expected_events > 0 else None


def add_counts(into: dict[str, int], items: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Add counts by key into a dict and return it."""
    for key, count in items:
        into[key] = into.get(key, 0) + count
    return into
