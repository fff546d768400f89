"""The performance dashboard: completeness, registrations per month, timeliness, backlogs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from crvshub.db import utcnow
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import OutOfJurisdiction
from crvshub.location.cache import Snapshot
from crvshub.statistics import access, service
from crvshub.statistics.country import DeathRates, death_rates
from crvshub.statistics.domain import TIMELINESS, BadQuery, Period, period_of
from crvshub.web import charts, error_messages, i18n
from crvshub.web.i18n import N_
from crvshub.web.pages import PERFORMANCE_SCOPES, Page, page_for, render
from crvshub.web.security import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
PerformancePage = Annotated[Page, Depends(page_for(*PERFORMANCE_SCOPES))]


Gettext = Callable[[str], str]


def _date(value: str | None, gettext: Gettext) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadQuery(gettext(N_("%(value)s is not a date (YYYY-MM-DD)"))
                       % {"value": repr(value)}) from None


def _months(period: Period) -> list[str]:
    months, year, month = [], period.start.year, period.start.month
    while (year, month) < (period.end.year, period.end.month) or (
            (year, month) == (period.end.year, period.end.month) and period.end.day > 1):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _areas(snapshot: Snapshot, scope: access.Jurisdiction) -> list[tuple[str, str]]:
    """Return the areas offered by the filter: each state, then its districts, indented.

    A local user is offered the areas of their jurisdiction only (statistics.access).
    """
    out: list[tuple[str, str]] = []
    for state in (v for v in snapshot.ordered if v.jurisdiction_type == "STATE"):
        out.append((state.id, state.name))
        out += [(d.id, f"— {d.name}") for d in snapshot.ordered
                if d.part_of_id == state.id and d.jurisdiction_type == "DISTRICT"]
    return [(i, n) for i, n in out if access.covers(scope, i, snapshot)]


def _completeness_chart(answer: dict[str, Any], event: str, gettext: Gettext) -> Any:
    rows = sorted(answer["rows"], key=lambda r: (-(r["completeness"] or 0), r["name"]))
    bars = [charts.Bar(r["name"], r["completeness"] or 0,
                       f"{r['completeness'] if r['completeness'] is not None else 'n/a'}% "
                       f"({r['registered']})") for r in rows]
    top = max((b.value for b in bars), default=0)
    scale = 100.0 if top >= 25 else None  # small figures get a scale of their own
    title = (N_("Completeness of birth registration by district") if event == "birth"
             else N_("Completeness of death registration by district"))
    return charts.ranked_bars(bars, gettext(title),
                              scale_max=max(scale or 0, top) or None,
                              colour=charts.BIRTH if event == "birth" else charts.DEATH), rows


def _monthly_chart(session: Any, snapshot: Snapshot, query: service.Query,
                   gettext: Gettext) -> Any:
    answer = service.counts(session, snapshot, query, "month")
    found = {(r["event"], r["key"]): r["count"] for r in answer["rows"]}
    months = _months(query.period)[-36:]
    births = [found.get(("birth", m), 0) for m in months]
    deaths = [found.get(("death", m), 0) for m in months]
    return (charts.monthly_columns(months, births, deaths, gettext(N_("Registrations per month")),
                                   gettext), answer)


def _dashboard(session: Any, snapshot: Snapshot, query: service.Query,
               rates: DeathRates, gettext: Gettext) -> dict[str, Any]:
    event = query.event or "birth"
    complete = service.completeness(
        session, snapshot, service.Query(query.period, event, query.area, "DISTRICT"), rates)
    chart, ranked = _completeness_chart(complete, event, gettext)
    monthly, counts = _monthly_chart(session, snapshot,
                                     service.Query(query.period, None, query.area), gettext)
    timely = service.timeliness(session, snapshot,
                                service.Query(query.period, None, query.area, "DISTRICT"))
    shares = [(gettext(N_("Births") if t["event"] == "birth" else N_("Deaths")),
               {k: t[k] for k in TIMELINESS})
              for t in timely["total"]]
    return {
        "completeness": complete, "completeness_chart": chart, "ranked": ranked,
        "monthly_chart": monthly, "counts": counts, "timeliness": timely,
        "timeliness_chart": charts.stacked_share(shares,
                                                 gettext(N_("Timeliness of registration")),
                                                 gettext),
        "backlog": service.backlog(session, snapshot, query.area, 10, kept=True),
    }


@router.get("/performance")
def performance(
    request: Request, page: PerformancePage, session: SessionDep, ctx: ContextDep,
    year: Annotated[str | None, Query(max_length=4)] = None,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    area: Annotated[str | None, Query(max_length=64)] = None,
    event: Annotated[str | None, Query(pattern="^(birth|death)?$")] = None,
) -> Response:
    """Show the performance dashboard for a period and area."""
    gettext = i18n.gettext_for(i18n.language_of(request))
    snapshot = ctx.location_cache.snapshot()
    scope = access.jurisdiction(page.principal, snapshot)
    today = utcnow().date()
    chosen_year = int(year) if year and year.isdigit() else None
    if chosen_year is None and not start and not end:
        chosen_year = today.year
    values: dict[str, Any] = {"years": list(range(today.year, today.year - 10, -1)),
                              "areas": _areas(snapshot, scope), "national": scope.national,
                              "year": chosen_year,
                              "start": start or "", "end": end or "", "area": area or "",
                              "event": event or "birth"}
    try:
        chosen_area = access.area_for(scope, area or None, snapshot)
    except OutOfJurisdiction as exc:
        problem = error_messages.message_of(exc, gettext)
        return render(request, "performance.html", page, 403, problem=problem, **values)
    values["area"] = chosen_area or ""
    try:
        period = period_of(chosen_year if not (start or end) else None,
                           _date(start, gettext), _date(end, gettext), today)
        query = service.Query(period, event or "birth", chosen_area)
        values.update(_dashboard(session, snapshot, query, death_rates(ctx.settings.country_dir),
                                 gettext), period=period)
    except BadQuery as exc:
        return render(request, "performance.html", page, 400, problem=str(exc), **values)
    return render(request, "performance.html", page, problem=None, **values)
