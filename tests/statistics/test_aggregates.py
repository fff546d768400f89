"""Monthly counts kept by the worker: the same answers as counting records, and always exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.statistics import aggregates
from crvshub.statistics.domain import Period
from tests.helpers import NATLSYSADMIN, bearer, user_token
from tests.statistics import truth

YEAR = datetime.now(UTC).year - 1
ASKS = [("/api/statistics/counts", {"by": by, "year": YEAR})
        for by in ("month", "year", "sex", "place", "place-type", "mother-age",
                   "time-to-registration", "timeliness")]
ASKS += [("/api/statistics/completeness", {"year": YEAR}),
         ("/api/statistics/timeliness", {"year": YEAR, "level": "STATE"}),
         # partial months at both ends, whole months between
         ("/api/statistics/counts", {"by": "sex", "from": f"{YEAR}-02-10", "to": f"{YEAR}-07-20"})]


def _answers(client: TestClient, token: str) -> list[Any]:
    found = []
    for path, params in ASKS:
        answer = client.get(path, params=params, headers=bearer(token))
        assert answer.status_code == 200, answer.text
        found.append(answer.json())
    return found


def _sexes(client: TestClient, token: str) -> dict[tuple[str, str], int]:
    answer = client.get("/api/statistics/counts", params={"by": "sex", "year": YEAR},
                        headers=bearer(token)).json()
    return {(r["event"], r["key"]): r["count"] for r in answer["rows"]}


def _refresh(ctx: AppContext, now: datetime, *, full: bool = False) -> str:
    with ctx.db.transaction() as session:
        return aggregates.refresh(session, now, full=full)


def _set_gender(ctx: AppContext, record_id: str, gender: str, updated: datetime | None) -> None:
    stamp = ", updated_at = :at" if updated is not None else ""
    with ctx.db.transaction() as session:
        session.execute(text(f"UPDATE records SET subject_gender = :g{stamp} WHERE id = :id"),
                        {"g": gender, "id": record_id, "at": updated})


def test_whole_months_of_a_period() -> None:
    from datetime import date

    assert aggregates.whole_months(Period(date(2025, 1, 1), date(2026, 1, 1)))[::11] == [
        "2025-01", "2025-12"]
    assert aggregates.whole_months(Period(date(2025, 2, 10), date(2025, 7, 21))) == [
        "2025-03", "2025-04", "2025-05", "2025-06"]
    assert aggregates.whole_months(Period(date(2025, 2, 10), date(2025, 2, 20))) == []


def test_kept_counts_answer_as_the_records_do_and_stay_exact(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    token = user_token(ctx, NATLSYSADMIN)
    counted = _answers(client, token)  # no refresh yet: every figure counted from records
    assert _refresh(ctx, utcnow()) == "full"
    with ctx.db.sessionmaker() as session:
        kept = session.execute(text("SELECT count(*), sum(count) FROM statistics_monthly")).one()
    assert kept[0] > 0
    assert _answers(client, token) == counted

    # A record changes: the answer follows at once (its month is counted from the records).
    regs = [r for r in truth.registered_in(truth.records(ctx), YEAR) if r.gender == "male"]
    changed = regs[0]
    _set_gender(ctx, changed.id, "female", utcnow())
    after = _sexes(client, token)
    before = {(r["event"], r["key"]): r["count"] for r in counted[2]["rows"]}
    assert after[(changed.event, "male")] == before[(changed.event, "male")] - 1
    assert after[(changed.event, "female")] == before.get((changed.event, "female"), 0) + 1

    # The worker's next refresh recounts that month; later, with the watermark past the
    # change, the month is read from the kept counts, still with the change.
    assert _refresh(ctx, utcnow()) == "changed"
    later = utcnow() + aggregates.MARGIN + timedelta(minutes=1)
    assert _refresh(ctx, later) == "changed"
    assert _sexes(client, token) == after

    # Proof that the kept counts are read: a change that does not stamp `updated_at` (as a
    # backdated bulk load would not) is not seen until a full recount.
    _set_gender(ctx, changed.id, "male", None)
    assert _sexes(client, token) == after
    assert _refresh(ctx, later, full=True) == "full"
    assert _sexes(client, token) == before


def test_the_kept_backlog_is_the_counted_one_as_of_the_last_refresh(
    ctx: AppContext, generated: int,
) -> None:
    from crvshub.statistics import service

    snapshot = ctx.location_cache.snapshot()
    with ctx.db.transaction() as session:
        counted = service.backlog(session, snapshot, None, 500)
        before = service.backlog(session, snapshot, None, 500, kept=True)
    assert before["asOf"] is None and before["offices"] == counted["offices"]  # never refreshed
    assert sum(o["waiting"] for o in counted["offices"]) > 0
    _refresh(ctx, utcnow())
    with ctx.db.transaction() as session:
        kept = service.backlog(session, snapshot, None, 500, kept=True)
        assert kept["asOf"] is not None
        assert kept["offices"] == service.backlog(session, snapshot, None, 500)["offices"]
        # A record that leaves the backlog is still counted until the next refresh.
        waiting = session.execute(text(
            "SELECT id FROM records WHERE status IN ('DECLARED', 'IN_PROGRESS') LIMIT 1")).scalar()
        session.execute(text("UPDATE records SET status = 'REGISTERED' WHERE id = :id"),
                        {"id": waiting})
    with ctx.db.transaction() as session:
        stale = service.backlog(session, snapshot, None, 500, kept=True)
        now = service.backlog(session, snapshot, None, 500)
    total = sum(o["waiting"] for o in now["offices"])
    assert sum(o["waiting"] for o in stale["offices"]) == total + 1
    _refresh(ctx, utcnow())
    with ctx.db.transaction() as session:
        fresh = service.backlog(session, snapshot, None, 500, kept=True)
    assert sum(o["waiting"] for o in fresh["offices"]) == total
