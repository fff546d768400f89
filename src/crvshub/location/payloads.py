"""Parse and validate OpenCRVS location payloads, reporting every problem with its path."""

from __future__ import annotations

import re
from typing import Any

from crvshub.errors import IssueCollector
from crvshub.location.domain import (
    JURISDICTION_TYPES,
    STATISTIC_FIELDS,
    LocationChanges,
    LocationInput,
    LocationType,
    merge_statistics,
    normalise_jurisdiction,
    parse_reference,
)
from crvshub.location.errors import InvalidLocationPayload

STATISTICAL_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
STATUSES = ("active", "inactive")
MAX_NAME = 255


def _text(
    issues: IssueCollector, data: dict[str, Any], key: str, where: str, *, required: bool
) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            issues.add(InvalidLocationPayload, f"{key} is required", where + key)
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        issues.add(
            InvalidLocationPayload,
            f"{key} must be a non-empty string of at most 255 characters",
            where + key,
        )
        return None
    return value.strip()


def _alias(issues: IssueCollector, data: dict[str, Any], where: str) -> list[str] | None:
    value = data.get("alias")
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        issues.add(
            InvalidLocationPayload, "alias must be a string or a list of strings", where + "alias"
        )
        return None
    return [i.strip() for i in items]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def statistic(issues: IssueCollector, entry: Any, where: str) -> dict[str, Any] | None:
    """Return one validated statistics entry (year and the four figures), or None."""
    if not isinstance(entry, dict):
        issues.add(InvalidLocationPayload, "a statistics entry must be an object", where)
        return None
    ok = True
    year = entry.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 0 <= year <= 9999:
        issues.add(
            InvalidLocationPayload, "year must be an integer from 0 to 9999", where + ".year"
        )
        ok = False
    for name in STATISTIC_FIELDS:
        if not _number(entry.get(name)):
            issues.add(
                InvalidLocationPayload,
                f"{name} is required and must be a number >= 0",
                f"{where}.{name}",
            )
            ok = False
    return {"year": year, **{n: entry[n] for n in STATISTIC_FIELDS}} if ok else None


def _statistics(
    issues: IssueCollector, data: dict[str, Any], where: str
) -> list[dict[str, Any]] | None:
    value = data.get("statistics")
    if value is None:
        return None
    entries = value if isinstance(value, list) else [value]
    parsed = [statistic(issues, e, f"{where}statistics[{i}]") for i, e in enumerate(entries)]
    return [p for p in parsed if p is not None]


def _create_one(issues: IssueCollector, data: Any, where: str) -> LocationInput | None:
    if not isinstance(data, dict):
        issues.add(InvalidLocationPayload, "each location must be a JSON object", where or None)
        return None
    before = len(issues.issues)
    sid = _text(issues, data, "statisticalID", where, required=True)
    if sid and not STATISTICAL_ID.match(sid):
        issues.add(
            InvalidLocationPayload,
            "statisticalID may only hold letters, digits, '_', '.' and '-' (at most 64)",
            where + "statisticalID",
        )
    name = _text(issues, data, "name", where, required=True)
    part_of = _text(issues, data, "partOf", where, required=True)
    if part_of and not part_of.startswith("Location/"):
        issues.add(
            InvalidLocationPayload,
            "partOf must look like Location/<id> (Location/0 for the top)",
            where + "partOf",
        )
    code = data.get("code")
    if code not in tuple(LocationType):
        issues.add(
            InvalidLocationPayload,
            "code must be ADMIN_STRUCTURE, CRVS_OFFICE or HEALTH_FACILITY",
            where + "code",
        )
    jurisdiction = data.get("jurisdictionType")
    if jurisdiction is not None and jurisdiction not in JURISDICTION_TYPES:
        issues.add(
            InvalidLocationPayload,
            f"jurisdictionType must be one of {', '.join(JURISDICTION_TYPES)}",
            where + "jurisdictionType",
        )
    alias = _alias(issues, data, where)
    stats = _statistics(issues, data, where)
    if stats and code != LocationType.ADMIN_STRUCTURE:
        issues.add(
            InvalidLocationPayload,
            "only ADMIN_STRUCTURE locations carry statistics",
            where + "statistics",
        )
    if len(issues.issues) > before or not (sid and name and part_of):
        return None
    return LocationInput(
        type=str(code),
        statistical_id=sid,
        name=name,
        alias=alias or [name],
        part_of=None if part_of == "Location/0" else parse_reference(part_of),
        description=sid if code == LocationType.ADMIN_STRUCTURE else None,
        jurisdiction_type=normalise_jurisdiction(jurisdiction),
        statistics=merge_statistics({}, stats or []),
    )


def parse_create(body: Any) -> list[LocationInput]:
    """Return the locations of a POST body (one object or an array); 400 listing every problem."""
    issues = IssueCollector()
    many = isinstance(body, list)
    items = body if many else [body]
    if many and not items:
        issues.add(InvalidLocationPayload, "the array of locations is empty")
    parsed = [_create_one(issues, item, f"[{i}]." if many else "") for i, item in enumerate(items)]
    if issues:
        raise InvalidLocationPayload(issues=issues.issues)
    return [p for p in parsed if p is not None]


def parse_update(body: Any) -> LocationChanges:
    """Return the changes of a PUT body; 400 listing every problem."""
    issues = IssueCollector()
    if not isinstance(body, dict):
        raise InvalidLocationPayload("the body must be a JSON object")
    name = _text(issues, body, "name", "", required=False)
    alias = _alias(issues, body, "")
    status = body.get("status")
    if status is not None and status not in STATUSES:
        issues.add(InvalidLocationPayload, "status must be active or inactive", "status")
    stats = _statistics(issues, body, "")
    if issues:
        raise InvalidLocationPayload(issues=issues.issues)
    return LocationChanges(name=name, alias=alias, status=status, statistics=stats)
