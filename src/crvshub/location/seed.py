"""Load a country's administrative structure, offices, facilities and statistics from CSV."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from crvshub.db import utcnow
from crvshub.location import repository
from crvshub.location.cache import mark_changed
from crvshub.location.domain import LocationType, child_path, stable_location_id
from crvshub.location.models import Location
from crvshub.location.service import record_version
from crvshub.text import normalize

FILES = {
    LocationType.ADMIN_STRUCTURE: "admin-structure.csv",
    LocationType.CRVS_OFFICE: "crvs-offices.csv",
    LocationType.HEALTH_FACILITY: "health-facilities.csv",
}


class CountryDataError(ValueError):
    """A country CSV file is missing, malformed or inconsistent."""


@dataclass
class SeedReport:
    """What a load did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    """Yield the rows of a CSV file as dictionaries of stripped strings."""
    if not path.exists():
        raise CountryDataError(f"missing country file {path}")
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if None in row:
                raise CountryDataError(f"{path.name}:{line}: too many columns")
            yield {k.strip(): (v or "").strip() for k, v in row.items()}


def _statistics(country_dir: Path) -> dict[str, dict[str, Any]]:
    stats: dict[str, dict[str, Any]] = {}
    path = country_dir / "statistics.csv"
    if not path.exists():
        return stats
    for row in read_rows(path):
        try:
            entry = {
                "male_population": int(row["male_population"]),
                "female_population": int(row["female_population"]),
                "population": int(row["population"]),
                "crude_birth_rate": float(row["crude_birth_rate"]),
            }
            stats.setdefault(row["statistical_id"], {})[str(int(row["year"]))] = entry
        except (KeyError, ValueError) as exc:
            raise CountryDataError(f"statistics.csv: bad row {row}: {exc}") from None
    return stats


def _plan(country_dir: Path) -> list[tuple[LocationType, dict[str, str]]]:
    plan: list[tuple[LocationType, dict[str, str]]] = []
    for location_type, name in FILES.items():
        for row in read_rows(country_dir / name):
            if not row.get("statistical_id") or not row.get("name"):
                raise CountryDataError(f"{name}: every row needs statistical_id and name")
            plan.append((location_type, row))
    return plan


def load_country(
    session: Session,
    country_dir: Path,
    country: str,
    progress: Callable[[int, int], None] | None = None,
) -> SeedReport:
    """Create or update every location of a country; idempotent, matched by statistical id."""
    plan = _plan(country_dir)
    stats = _statistics(country_dir)
    report = SeedReport()
    paths: dict[str, str] = {}
    for index, (location_type, row) in enumerate(plan, start=1):
        _upsert(session, country, location_type, row, stats, paths, report)
        if progress:
            progress(index, len(plan))
    if report.created or report.updated:
        mark_changed(session)
    session.flush()
    return report


def translated_names(row: dict[str, str]) -> dict[str, str]:
    """Return a row's names in other languages: the `name_fr` column -> {"fr": ...}."""
    return {key[5:]: value for key, value in row.items()
            if key.startswith("name_") and len(key) == 7 and key[5:].isalpha() and value}


def _upsert(
    session: Session,
    country: str,
    location_type: LocationType,
    row: dict[str, str],
    stats: dict[str, dict[str, Any]],
    paths: dict[str, str],
    report: SeedReport,
) -> None:
    sid = row["statistical_id"]
    parent_sid = row.get("part_of", "")
    parent_id = stable_location_id(country, parent_sid) if parent_sid else None
    if parent_sid and parent_sid not in paths:
        raise CountryDataError(f"{sid}: part_of {parent_sid!r} is not defined before it")
    location_id = stable_location_id(country, sid)
    paths[sid] = child_path(paths.get(parent_sid), location_id)
    alias = [row["alias"]] if row.get("alias") else [row["name"]]
    values: dict[str, Any] = {
        "type": str(location_type),
        "name": row["name"],
        "name_norm": normalize(row["name"]),
        "alias": alias,
        "part_of_id": parent_id,
        "path": paths[sid],
        "country": country,
        "jurisdiction_type": row.get("jurisdiction_type") or None,
        "description": sid if location_type == LocationType.ADMIN_STRUCTURE else None,
        "statistics": stats.get(sid, {}),
    }
    existing = repository.get(session, location_id)
    names = translated_names(row)
    kept = {k: v for k, v in (existing.extra or {}).items() if k != "names"} if existing else {}
    values["extra"] = {**kept, "names": names} if names else kept
    if existing is None:
        now = utcnow()
        created = Location(
            id=location_id,
            statistical_id=sid,
            status="active",
            version=1,
            created_at=now,
            updated_at=now,
            **values,
        )
        repository.add(session, created)
        record_version(session, created)
        report.created += 1
        return
    changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
    if not changed:
        report.unchanged += 1
        return
    for key, value in changed.items():
        setattr(existing, key, value)
    existing.version += 1
    existing.updated_at = utcnow()
    record_version(session, existing)
    report.updated += 1
