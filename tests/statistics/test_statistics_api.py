"""The statistics API against counts recomputed in the test from the generated records."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import NATLSYSADMIN, bearer, new_client, user_token
from tests.statistics import truth

PERFORMANCE_MANAGER = "d.okpaleni"
YEAR = datetime.now(UTC).year - 1


def _get(client: TestClient, token: str, path: str, **params: Any) -> Any:
    answer = client.get(path, params=params, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _rows(answer: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(r["event"], r["key"]): r["count"] for r in answer["rows"]}


def test_counts_by_every_dimension_match_an_independent_tally(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    token = user_token(ctx, PERFORMANCE_MANAGER)
    locs, regs = truth.locations(ctx), truth.records(ctx)
    year_regs = truth.registered_in(regs, YEAR)
    assert len(year_regs) > 50  # the generated data has registrations last year
    expectations = {
        "month": truth.tally(year_regs, lambda r: r.registered.strftime("%Y-%m")),
        "sex": truth.tally(year_regs, lambda r: r.gender or "unknown"),
        "place-type": truth.tally(year_regs, lambda r: "health-facility"
                                  if r.place and locs.get(r.place) and
                                  locs[r.place].type == "HEALTH_FACILITY" else "home-or-other"),
        "timeliness": truth.tally(year_regs, truth.timeliness),
        "year": truth.tally(year_regs, lambda r: str(r.registered.year)),
    }
    for by, expected in expectations.items():
        answer = _get(client, token, "/api/statistics/counts", by=by, year=YEAR)
        assert _rows(answer) == dict(expected), by
    births = [r for r in year_regs if r.event == "birth"]
    answer = _get(client, token, "/api/statistics/counts", by="mother-age", year=YEAR,
                  event="birth")
    assert _rows(answer) == dict(truth.tally(births, truth.mother_group))
    assert answer["total"] == {"birth": len(births), "death": 0}
    for level in ("STATE", "DISTRICT"):
        answer = _get(client, token, "/api/statistics/counts", by="place", year=YEAR, level=level)
        expected = truth.tally(year_regs, lambda r, lv=level: truth.area_at(r, locs, lv))
        assert _rows(answer) == dict(expected), level
        named = {r["key"]: r["label"] for r in answer["rows"]}
        assert all(named[k] == locs[k].name for k in named if k != "unknown")


def test_counts_of_an_area_and_a_period_range(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    token = user_token(ctx, PERFORMANCE_MANAGER)
    locs, regs = truth.locations(ctx), truth.records(ctx)
    state = next(loc for loc in locs.values() if loc.level == "STATE")
    within = [r for r in truth.registered_in(regs, YEAR)
              if state.id in truth.chain_of(r, locs) and r.registered.month <= 6]
    answer = _get(client, token, "/api/statistics/counts", by="sex", area=state.id,
                  **{"from": f"{YEAR}-01-01", "to": f"{YEAR}-06-30"})
    assert _rows(answer) == dict(truth.tally(within, lambda r: r.gender or "unknown"))
    assert answer["area"] == {"id": state.id, "name": state.name}
    assert answer["period"] == {"from": f"{YEAR}-01-01", "to": f"{YEAR}-06-30"}


def test_completeness_and_timeliness_per_district_and_nationally(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    token = user_token(ctx, NATLSYSADMIN)
    locs, regs = truth.locations(ctx), truth.records(ctx)
    year_regs = truth.registered_in(regs, YEAR)
    districts = [loc for loc in locs.values() if loc.level == "DISTRICT"]
    deaths = truth.death_rates(ctx)
    assert len(deaths) == 220  # the built-in country gives a crude death rate everywhere
    answer = _get(client, token, "/api/statistics/completeness", year=YEAR)
    by_area = {(r["event"], r["id"]): r for r in answer["rows"]}
    assert len(by_area) == 2 * len(districts)
    for district in districts:
        for event in ("birth", "death"):
            row = by_area[(event, district.id)]
            registered = sum(1 for r in year_regs if r.event == event
                             and truth.area_at(r, locs, "DISTRICT") == district.id)
            expected = truth.expected(district, YEAR, event, deaths)
            assert row["registered"] == registered
            assert row["expected"] == pytest.approx(expected, abs=0.1)
            assert row["completeness"] == pytest.approx(100 * registered / expected, abs=0.06)
    national = {t["event"]: t for t in answer["total"]}
    states = [loc for loc in locs.values() if loc.level == "STATE"]
    for event in ("birth", "death"):
        expected = sum(truth.expected(s, YEAR, event, deaths) for s in states)
        registered = sum(1 for r in year_regs if r.event == event)
        assert national[event]["registered"] == registered
        assert national[event]["expected"] == pytest.approx(expected, abs=0.1)
    timely = _get(client, token, "/api/statistics/timeliness", year=YEAR)
    for row in timely["rows"]:
        mine = [r for r in year_regs if r.event == row["event"]
                and truth.area_at(r, locs, "DISTRICT") == row["id"]]
        groups = truth.tally(mine, truth.timeliness)
        for kind in ("within-legal-period", "late", "delayed"):
            assert row[kind] == groups.get((row["event"], kind), 0), (row["name"], kind)
    totals = {t["event"]: t for t in timely["total"]}
    groups = truth.tally(year_regs, truth.timeliness)
    assert totals["birth"]["delayed"] == groups.get(("birth", "delayed"), 0)
    assert totals["death"]["within-legal-period"] == groups.get(("death",
                                                                 "within-legal-period"), 0)


def test_statistics_as_csv(client: TestClient, ctx: AppContext, generated: int) -> None:
    token = user_token(ctx, PERFORMANCE_MANAGER)
    answer = client.get("/api/statistics/completeness", headers=bearer(token),
                        params={"year": YEAR, "level": "STATE", "format": "csv"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(answer.text)))
    as_json = _get(client, token, "/api/statistics/completeness", year=YEAR, level="STATE")
    assert len(table) == len(as_json["rows"]) + len(as_json["total"])
    assert {r["name"] for r in table} >= {r["name"] for r in as_json["rows"]}
    backlog = client.get("/api/statistics/backlog", headers=bearer(token),
                         params={"format": "csv"})
    assert backlog.text.startswith("office_id,office_name,queue,count,oldest")


def test_backlog_counts_waiting_records_per_office(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    token = user_token(ctx, PERFORMANCE_MANAGER)
    regs = truth.records(ctx)
    waiting = [r for r in regs if r.status in
               {"IN_PROGRESS", "DECLARED", "VALIDATED", "WAITING_VALIDATION", "REJECTED",
                "CORRECTION_REQUESTED"}]
    answer = _get(client, token, "/api/statistics/backlog", limit=500)
    per_office = {o["id"]: o["waiting"] for o in answer["offices"]}
    expected: dict[str, int] = {}
    for r in waiting:
        expected[r.office] = expected.get(r.office, 0) + 1
    assert per_office == expected
    counts = [o["waiting"] for o in answer["offices"]]
    assert counts == sorted(counts, reverse=True)
    for office in answer["offices"]:
        assert sum(q["count"] for q in office["queues"]) == office["waiting"]


def test_who_may_read_statistics(client: TestClient, ctx: AppContext) -> None:
    path = "/api/statistics/counts"
    assert client.get(path).status_code == 401
    for username in ("a.kipsoni", "e.dalindo"):  # field agent, local system admin
        answer = client.get(path, headers=bearer(user_token(ctx, username)))
        assert answer.status_code == 403, username
    _creds, health = new_client(ctx, "HEALTH")
    assert client.get(path, headers=bearer(health)).status_code == 403
    _creds, search = new_client(ctx, "RECORD_SEARCH")
    assert client.get(path, headers=bearer(search)).status_code == 403
    _creds, office = new_client(ctx, "STATISTICS", name="National statistics office")
    assert client.get(path, headers=bearer(office)).status_code == 200
    for username in (PERFORMANCE_MANAGER, NATLSYSADMIN, "j.ndekwa"):
        assert client.get(path, headers=bearer(user_token(ctx, username))).status_code == 200


@pytest.mark.parametrize("params", [
    {"by": "colour"}, {"year": 2024, "from": "2024-01-01"}, {"from": "2025-02-01",
                                                           "to": "2025-01-01"},
    {"level": "PLANET"}, {"area": "no-such-place"},
])
def test_bad_queries_are_400_with_a_code(client: TestClient, ctx: AppContext,
                                        params: dict[str, Any]) -> None:
    answer = client.get("/api/statistics/counts", params=params,
                        headers=bearer(user_token(ctx, PERFORMANCE_MANAGER)))
    assert answer.status_code == 400, answer.text
    assert answer.json()["issue"][0]["details"]["coding"][0]["code"] == "STAT-400-001"
