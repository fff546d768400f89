"""Local staff see the statistics, exports and dashboard of their jurisdiction only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.auth.authz_table import STATISTICS_JURISDICTION, STATISTICS_READERS
from tests.helpers import (
    DORONGO_OFFICE_SID,
    HARAMBO_DISTRICT_SID,
    HARAMBO_OFFICE_SID,
    LOCAL_REGISTRAR,
    LOCAL_REGISTRAR_OTHER_OFFICE,
    NATIONAL_REGISTRAR,
    NATLSYSADMIN,
    REGISTRATION_AGENT,
    bearer,
    new_client,
    user_token,
)
from tests.statistics import truth
from tests.statistics.exporting import ASYNC, finish_export, ndjson_lines

YEAR = datetime.now(UTC).year - 1
USERS = {"REGISTRATION_AGENT": REGISTRATION_AGENT, "LOCAL_REGISTRAR": LOCAL_REGISTRAR,
         "NATIONAL_SYSTEM_ADMIN": NATLSYSADMIN, "PERFORMANCE_MANAGER": "d.okpaleni",
         "NATIONAL_REGISTRAR": NATIONAL_REGISTRAR}
ROUTES = (("/api/statistics/counts", {"by": "sex", "year": YEAR}),
          ("/api/statistics/completeness", {"year": YEAR}),
          ("/api/statistics/timeliness", {"year": YEAR}),
          ("/api/statistics/backlog", {"limit": 500}))


def _by_sid(ctx: AppContext, sid: str) -> Any:
    return next(v for v in ctx.location_cache.snapshot().ordered if v.statistical_id == sid)


def _token(ctx: AppContext, caller: str) -> str:
    if caller in USERS:
        return user_token(ctx, USERS[caller])
    return new_client(ctx, caller, name=f"{caller} reader")[1]


def _get(client: TestClient, token: str, path: str, params: dict[str, Any]) -> Any:
    answer = client.get(path, params=params, headers=bearer(token))
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


def test_every_statistics_reader_sees_its_jurisdiction_on_every_route(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    assert set(STATISTICS_JURISDICTION) == STATISTICS_READERS.roles | STATISTICS_READERS.clients
    harambo = _by_sid(ctx, HARAMBO_DISTRICT_SID)  # the district of r.olusinde's office
    dorongo = _by_sid(ctx, DORONGO_OFFICE_SID).part_of_id
    state = harambo.part_of_id
    national = user_token(ctx, NATLSYSADMIN)
    for caller, scope in STATISTICS_JURISDICTION.items():
        token = _token(ctx, caller)
        for path, params in ROUTES:
            own = _get(client, token, path, params)
            if scope == "country":
                assert own == _get(client, national, path, params), (caller, path)
                assert own["area"] is None
                assert _get(client, token, path, {**params, "area": dorongo})
                continue
            # No area asked: the figures of the office's district, the same as a national
            # reader gets by asking for that district.
            assert own == _get(client, national, path, {**params, "area": harambo.id}), (
                caller, path)
            for elsewhere in (dorongo, state):  # another district, or the province above
                refused = client.get(path, params={**params, "area": elsewhere},
                                     headers=bearer(token))
                assert refused.status_code == 403, (caller, path, refused.text)
                assert refused.json()["issue"][0]["details"]["coding"][0][
                    "code"] == "AUTH-403-002"
                assert harambo.name in refused.json()["issue"][0]["diagnostics"]
            office = _by_sid(ctx, HARAMBO_OFFICE_SID).id  # an office inside: allowed
            assert _get(client, token, path, {**params, "area": office, "level": "CRVS_OFFICE"}
                        if path != "/api/statistics/backlog" else {**params, "area": office})


def test_a_local_registrars_counts_are_their_districts_only(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    locs, regs = truth.locations(ctx), truth.records(ctx)
    harambo = _by_sid(ctx, HARAMBO_DISTRICT_SID).id
    mine = [r for r in truth.registered_in(regs, YEAR) if harambo in truth.chain_of(r, locs)]
    assert 0 < len(mine) < len(truth.registered_in(regs, YEAR))
    answer = _get(client, user_token(ctx, LOCAL_REGISTRAR), "/api/statistics/counts",
                  {"by": "sex", "year": YEAR})
    found = {(r["event"], r["key"]): r["count"] for r in answer["rows"]}
    assert found == dict(truth.tally(mine, lambda r: r.gender or "unknown"))
    other = _get(client, user_token(ctx, LOCAL_REGISTRAR_OTHER_OFFICE), "/api/statistics/counts",
                 {"by": "sex", "year": YEAR})
    assert other["area"]["id"] != harambo and other["rows"] != answer["rows"]


def test_a_local_export_holds_the_records_of_the_district_only(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    locs, regs = truth.locations(ctx), truth.records(ctx)
    harambo = _by_sid(ctx, HARAMBO_DISTRICT_SID).id
    inside = {r.id for r in regs if harambo in truth.chain_of(r, locs)}
    assert 0 < len(inside) < len(regs)
    token = user_token(ctx, LOCAL_REGISTRAR)
    kicked = client.get("/fhir/$export", params={"_type": "Task"},
                        headers={**bearer(token), **ASYNC})
    assert kicked.status_code == 202, kicked.text
    manifest, _ = finish_export(client, ctx, token, kicked.headers["Content-Location"])
    [task_file] = manifest["output"]
    tasks = ndjson_lines(client, token, task_file["url"])
    assert task_file["count"] == len(tasks) == len(inside)
    exported = {t["focus"]["reference"] for t in tasks}
    assert len(exported) == len(inside)
    kicked = client.post("/api/statistics/exports", headers=bearer(token))
    manifest, _ = finish_export(client, ctx, token, kicked.headers["Content-Location"])
    csv_text = client.get(manifest["output"][0]["url"], headers=bearer(token)).text
    rows = csv_text.splitlines()[1:]
    assert {line.split(",", 1)[0] for line in rows} == inside
