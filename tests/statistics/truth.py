"""Independent answers: the figures recomputed in Python from the raw rows of the database."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from crvshub.context import AppContext

REGISTERED = {"REGISTERED", "CERTIFIED", "ISSUED", "CORRECTION_REQUESTED"}


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Loc:
    """A location row as the test reads it."""

    id: str
    type: str
    level: str | None
    name: str
    parent: str | None
    chain: tuple[str, ...]
    statistics: dict[str, Any]
    statistical_id: str | None = None


@dataclass(frozen=True)
class Reg:
    """A record as the test reads it."""

    id: str
    event: str
    status: str
    registered: datetime | None
    event_date: date | None
    gender: str | None
    office: str
    place: str | None
    mother_birth: date | None
    updated: datetime


def locations(ctx: AppContext) -> dict[str, Loc]:
    """Read every location with its ancestor chain (from the stored path)."""
    with ctx.db.sessionmaker() as session:
        rows = session.execute(text(
            "SELECT id, type, jurisdiction_type, name, part_of_id, path, statistics, "
            "statistical_id FROM locations")).all()
    out = {}
    for rid, kind, level, name, parent, path, stats, sid in rows:
        chain = tuple(p for p in path.strip("/").split("/") if p)
        out[rid] = Loc(rid, kind, level, name, parent, chain,
                       stats if isinstance(stats, dict) else json.loads(stats or "{}"), sid)
    return out


def death_rates(ctx: AppContext) -> dict[tuple[str, str], float]:
    """Read the crude death rates of the country's statistics.csv by (statistical id, year)."""
    with (ctx.settings.country_dir / "statistics.csv").open(encoding="utf-8") as handle:
        return {(row["statistical_id"], row["year"]): float(row["crude_death_rate"])
                for row in csv.DictReader(handle) if row.get("crude_death_rate")}


def records(ctx: AppContext) -> list[Reg]:
    """Read every record with its mother's birth date."""
    with ctx.db.sessionmaker() as session:
        rows = session.execute(text(
            "SELECT r.id, r.event, r.status, r.registered_at, r.event_date, r.subject_gender, "
            "r.office_id, r.event_location_id, m.birth_date, r.updated_at FROM records r "
            "LEFT JOIN search_persons m ON m.record_id = r.id AND m.role = 'mother'")).all()
    return [Reg(r[0], r[1], r[2], _moment(r[3]), _date(r[4]), r[5], r[6], r[7], _date(r[8]),
                _moment(r[9]) or datetime.now(UTC)) for r in rows]


def registered_in(regs: list[Reg], year: int) -> list[Reg]:
    """Return the registrations of a calendar year."""
    return [r for r in regs if r.status in REGISTERED and r.registered is not None
            and r.registered.year == year]


def chain_of(reg: Reg, locs: dict[str, Loc]) -> tuple[str, ...]:
    """Return the location chain where a record counts (event place, else office)."""
    if reg.place and reg.place in locs:
        return locs[reg.place].chain
    return locs[reg.office].chain


def area_at(reg: Reg, locs: dict[str, Loc], level: str) -> str:
    """Return the id of the area of a level holding a record's place."""
    for lid in chain_of(reg, locs):
        if locs[lid].level == level:
            return lid
    return "unknown"


def days(reg: Reg) -> int | None:
    """Return the days from the event to the registration."""
    if reg.registered is None or reg.event_date is None:
        return None
    return (reg.registered.date() - reg.event_date).days


def timeliness(reg: Reg) -> str:
    """Return within-legal-period (<= 30 days), late (<= 365) or delayed."""
    d = days(reg)
    if d is None or d < 0:
        return "unknown"
    return "within-legal-period" if d <= 30 else "late" if d <= 365 else "delayed"


def mother_group(reg: Reg) -> str:
    """Return the five-year group of the mother's age (event year - birth year)."""
    if reg.mother_birth is None or reg.event_date is None:
        return "unknown"
    age = reg.event_date.year - reg.mother_birth.year
    if age < 8 or age > 70:
        return "unknown"
    if age < 15:
        return "under-15"
    if age >= 45:
        return "45-and-over"
    low = age - age % 5
    return f"{low}-{low + 4}"


def tally(regs: list[Reg], key: Any) -> Counter[tuple[str, str]]:
    """Count records by (event, key)."""
    return Counter((r.event, key(r)) for r in regs)


def expected(loc: Loc, year: int, event: str,
             deaths: dict[tuple[str, str], float] | None = None) -> float:
    """Return population x crude rate / 1000 for a year (death rate 8 when none is given)."""
    stats = loc.statistics
    chosen = str(year) if str(year) in stats else min(
        stats, key=lambda y: (abs(int(y) - year), -int(y)))
    entry = stats[chosen]
    if event == "birth":
        rate = float(entry["crude_birth_rate"])
    else:
        rate = (deaths or {}).get((loc.statistical_id or "", chosen), 8.0)
    return float(entry["population"]) * rate / 1000
