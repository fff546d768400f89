"""Vital statistics: counts by any dimension, completeness, timeliness and office backlogs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crvshub.db import utcnow
from crvshub.location.cache import Snapshot
from crvshub.location.domain import LocationView
from crvshub.record.domain import WORKQUEUE_TITLES
from crvshub.statistics import aggregates, domain, repository
from crvshub.statistics.country import DeathRates
from crvshub.statistics.domain import BadQuery, Period
from crvshub.statistics.places import OFFICE_LEVEL, Places


@dataclass(frozen=True)
class Query:
    """What a statistics request asks for."""

    period: Period
    event: str | None = None
    area: str | None = None
    level: str = "DISTRICT"


def _check(query: Query, places: Places) -> None:
    if query.event is not None and query.event not in domain.EVENTS:
        raise BadQuery(f"event must be one of {', '.join(domain.EVENTS)}")
    places.area(query.area)
    if query.level != OFFICE_LEVEL and not places.areas(query.level, None):
        raise BadQuery(f"No area of level {query.level!r}: use a jurisdiction type "
                       f"(STATE, DISTRICT, ...) or {OFFICE_LEVEL}")


_TTR_TIMELINESS = {"0-30-days": "within-legal-period", "31-90-days": "late",
                   "91-365-days": "late", "1-5-years": "delayed", "over-5-years": "delayed",
                   "unknown": "unknown"}


def _key(by: str, month: str, raw: Any, places: Places, placed: Any, level: str) -> str:
    if by == "month":
        return month
    if by == "year":
        return month[:4]
    if by == "timeliness":
        return _TTR_TIMELINESS.get(str(raw), "unknown")
    if by == "mother-age":
        return str(raw) if raw else "unknown"  # grouped in SQL (repository.mother_age_group)
    if by == "place":
        return places.area_at(placed, level) or "unknown"
    if by == "place-type":
        return "health-facility" if placed.facility else "home-or-other"
    if by == "event":
        return ""
    return str(raw) if raw not in (None, "") else "unknown"


def tally(session: Session, snapshot: Snapshot, query: Query, by: str,
          ) -> dict[tuple[str, str], int]:
    """Count registrations of the query by (event, key of the dimension)."""
    places = Places(snapshot)
    _check(query, places)
    if by not in domain.DIMENSIONS:
        raise BadQuery(f"by must be one of {', '.join(domain.DIMENSIONS)}")
    counts: dict[tuple[str, str], int] = {}
    for event, office_id, location_id, month, raw, count in aggregates.rows(
            session, by, query.event, query.period):
        placed = places.resolve(office_id, location_id or None)
        if not places.within(placed, query.area):
            continue
        key = (event, _key(by, str(month), raw, places, placed, query.level))
        counts[key] = counts.get(key, 0) + int(count)
    return counts


def _names(snapshot: Snapshot) -> Callable[[str], str]:
    def name(key: str) -> str:
        view = snapshot.get(key)
        return view.name if view is not None else key
    return name


def counts(session: Session, snapshot: Snapshot, query: Query, by: str) -> dict[str, Any]:
    """Return registration counts by one dimension, per event, with totals."""
    found = tally(session, snapshot, query, by)
    label = _names(snapshot) if by == "place" else str
    rows = [{"event": event, "key": key, "label": label(key), "count": n}
            for (event, key), n in sorted(found.items())]
    totals = {e: sum(n for (ev, _k), n in found.items() if ev == e) for e in domain.EVENTS}
    return {**_header(query, snapshot), "by": by, "rows": rows, "total": totals}


def _header(query: Query, snapshot: Snapshot) -> dict[str, Any]:
    area = snapshot.get(query.area) if query.area else None
    last = datetime.fromordinal(query.period.end.toordinal() - 1).date()
    return {"period": {"from": query.period.start.isoformat(), "to": last.isoformat()},
            "event": query.event, "level": query.level,
            "area": {"id": area.id, "name": area.name} if area else None}


def _with_deaths(view: LocationView, rates: DeathRates) -> dict[str, dict[str, Any]]:
    """Return an area's yearly statistics with the crude death rates of the country data."""
    mine = rates.get(view.statistical_id or "", {})
    return {year: {**entry, **({"crude_death_rate": mine[year]} if year in mine else {})}
            for year, entry in view.statistics.items()}


def _expected(places: Places, area_ids: list[str] | None, period: Period, event: str,
              rates: DeathRates) -> float:
    """Return the expected events of areas (the country: the sum of the top-level areas)."""
    views = ([v for v in (places.snapshot.get(a) for a in area_ids) if v is not None]
             if area_ids is not None else places.roots())
    return sum(domain.expected(_with_deaths(v, rates), period, event) for v in views)


def completeness(session: Session, snapshot: Snapshot, query: Query,
                 rates: DeathRates | None = None) -> dict[str, Any]:
    """Return registered / expected events per area of a level and for the whole query area.

    `rates` are the crude death rates of the country data by statistical id and year; an area
    without one uses domain.DEFAULT_CRUDE_DEATH_RATE.
    """
    rates = rates or {}
    places = Places(snapshot)
    found = tally(session, snapshot, query, "place")
    events = [query.event] if query.event else list(domain.EVENTS)
    rows = []
    for view in places.areas(query.level, query.area):
        for event in events:
            registered = found.get((event, view.id), 0)
            expected = _expected(places, [view.id], query.period, event, rates)
            rows.append({"event": event, "id": view.id, "name": view.name,
                         "registered": registered, "expected": round(expected, 1),
                         "completeness": domain.completeness(registered, expected)})
    totals = []
    for event in events:
        registered = sum(n for (ev, _k), n in found.items() if ev == event)
        expected = _expected(places, [query.area] if query.area else None, query.period, event,
                             rates)
        totals.append({"event": event, "registered": registered, "expected": round(expected, 1),
                       "completeness": domain.completeness(registered, expected)})
    return {**_header(query, snapshot), "rows": rows, "total": totals}


def _timeliness_row(found: dict[str, int]) -> dict[str, Any]:
    total = sum(found.values())
    shares = {f"{k}Percent": round(100 * found.get(k, 0) / total, 1) if total else None
              for k in domain.TIMELINESS}
    return {**{k: found.get(k, 0) for k in domain.TIMELINESS}, "total": total, **shares}


def timeliness(session: Session, snapshot: Snapshot, query: Query) -> dict[str, Any]:
    """Return registrations within the legal period, late and delayed, per area and in all."""
    places = Places(snapshot)
    _check(query, places)
    per_area: dict[tuple[str, str], dict[str, int]] = {}
    overall: dict[str, dict[str, int]] = {}
    for event, office_id, location_id, _month, group, count in aggregates.rows(
            session, "timeliness", query.event, query.period):
        placed = places.resolve(office_id, location_id or None)
        if not places.within(placed, query.area):
            continue
        kind = _TTR_TIMELINESS.get(str(group), "unknown")
        area = places.area_at(placed, query.level) or "unknown"
        domain.add_counts(per_area.setdefault((event, area), {}), [(kind, int(count))])
        domain.add_counts(overall.setdefault(event, {}), [(kind, int(count))])
    events = [query.event] if query.event else list(domain.EVENTS)
    out = [{"event": event, "id": view.id, "name": view.name,
            **_timeliness_row(per_area.get((event, view.id), {}))}
           for view in places.areas(query.level, query.area) for event in events]
    total = [{"event": e, **_timeliness_row(overall.get(e, {}))} for e in events]
    return {**_header(query, snapshot), "legalDays": domain.LEGAL_DAYS,
            "lateDays": domain.LATE_DAYS, "rows": out, "total": total}


WAITING = aggregates.WAITING


def backlog(session: Session, snapshot: Snapshot, area: str | None = None,
            limit: int = 20, *, kept: bool = False) -> dict[str, Any]:
    """Return the offices with the most records waiting, per workqueue, oldest first.

    `kept`: as of the worker's last refresh (`asOf`) when there was one, instead of counting
    every waiting record now (the dashboard; the API counts now).
    """
    places = Places(snapshot)
    places.area(area)
    offices: dict[str, dict[str, Any]] = {}
    now = utcnow()
    name = _names(snapshot)
    state = repository.aggregate_state(session) if kept else None
    as_of = state.watermark + aggregates.MARGIN if state and state.watermark else None
    found = repository.kept_backlog(session) if as_of else \
        repository.backlog(session, aggregates.WAITING_STATUSES)
    for office_id, status, source, count, oldest in found:
        if not places.within(places.resolve(office_id, None), area):
            continue
        queue = _queue_of(status, source)
        office = offices.setdefault(office_id, {"id": office_id, "name": name(office_id),
                                                "waiting": 0, "oldest": None, "queues": {}})
        entry = office["queues"].setdefault(queue, {
            "queue": queue, "title": WORKQUEUE_TITLES[queue], "count": 0, "oldest": None})
        for holder in (office, entry):
            holder["waiting" if holder is office else "count"] += int(count)
            if oldest is not None and (holder["oldest"] is None or oldest < holder["oldest"]):
                holder["oldest"] = oldest
    ranked = sorted(offices.values(), key=lambda o: (-o["waiting"], o["oldest"] or now))
    for office in ranked:
        office["queues"] = sorted(office["queues"].values(),
                                  key=lambda q: q["oldest"] or now)
        office["oldestDays"] = (now - office["oldest"]).days if office["oldest"] else None
        for item in (office, *office["queues"]):
            item["oldest"] = item["oldest"].isoformat() if item["oldest"] else None
    return {"area": area, "offices": ranked[:limit],
            "asOf": as_of.isoformat() if as_of else None}


def _queue_of(status: str, source: str | None) -> str:
    for name, (statuses, queue_source) in WAITING.items():
        if status in statuses and queue_source in (None, _source_kind(source)):
            return name
    return "ready-for-review"


def _source_kind(source: str | None) -> str:
    return "health-system" if source in ("health", "health-system", "notification") else "staff"
