"""RECORD_SEARCH clients over /graphql: daily quota, audit of what they get, reading back."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from crvshub.context import AppContext
from crvshub.record.models import Record, RecordAction, SearchQuotaUse
from crvshub.record.search_access import reset_time
from tests.helpers import (
    LOCAL_REGISTRAR,
    LOCAL_REGISTRAR_OTHER_OFFICE,
    LiveServer,
    new_client,
    user_token,
)
from tests.record.graphql_helpers import birth, codes, graphql, notify, register
from tests.record.helpers import act

FIND = """query ($p: AdvancedSearchParametersInput!) {
  searchEvents(advancedSearchParameters: $p) { totalItems results { id } } }"""
FETCH = """query ($id: ID!) { fetchBirthRegistration(id: $id) {
  id registration { trackingId registrationNumber type status { type timestamp } }
  child { name { firstNames familyName use } birthDate gender identifier { id type } }
  mother { name { firstNames } identifier { id type } } father { name { firstNames } }
  eventLocation { id } } }"""


def _search_client(ctx: AppContext, quota: int = 2000) -> tuple[str, str]:
    creds, token = new_client(ctx, "RECORD_SEARCH", name="Bank KYC", daily_quota=quota)
    return creds.client.id, token


def _retrieved(ctx: AppContext) -> list[RecordAction]:
    with ctx.db.transaction() as session:
        rows = session.scalars(select(RecordAction).where(RecordAction.action == "retrieved"))
        found = list(rows)
        session.expunge_all()
        return found


def _quota_used(ctx: AppContext, client_id: str) -> int:
    with ctx.db.transaction() as session:
        return int(session.scalar(select(SearchQuotaUse.used).where(
            SearchQuotaUse.client_id == client_id)) or 0)


def test_the_daily_quota_counts_every_search_and_refuses_with_the_reset_time(
        client: TestClient, ctx: AppContext) -> None:
    record_id = notify(client, ctx, birth(child="Tendai"))
    register(client, ctx, record_id)
    client_id, token = _search_client(ctx, quota=2)
    nothing = graphql(client, token, FIND, {"p": {"childFirstNames": "Nobody"}})
    assert nothing.json()["data"]["searchEvents"]["totalItems"] == 0
    found = graphql(client, token, FIND, {"p": {"childFirstNames": "Tendai"}})
    assert found.json()["data"]["searchEvents"]["results"] == [{"id": record_id}]
    refused = graphql(client, token, FIND, {"p": {"childFirstNames": "Tendai"}})
    assert refused.status_code == 200
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "SEARCH-429-001"
    assert error["extensions"]["quota"] == 2
    reset = error["extensions"]["resetAt"]
    assert reset.endswith("T00:00:00Z") and reset in error["message"]
    assert refused.json()["data"] == {"searchEvents": None}
    assert _quota_used(ctx, client_id) == 2
    assert len(_retrieved(ctx)) == 1, "the refused search returned and audited nothing"
    _, other = _search_client(ctx, quota=2)
    assert "errors" not in graphql(client, other, FIND, {"p": {"trackingId": "x"}}).json()


def test_reset_time_is_next_midnight_utc() -> None:
    from datetime import UTC, datetime
    assert reset_time(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == datetime(
        2026, 12, 1, tzinfo=UTC)


def test_every_record_returned_is_audited_as_retrieved_without_changing_it(
        client: TestClient, ctx: AppContext) -> None:
    ids = [notify(client, ctx, birth(child=name)) for name in ("Tendai", "Tenday")]
    # Alike enough to be flagged as potential duplicates: a registrar says they are not.
    cleared = act(client, user_token(ctx, LOCAL_REGISTRAR), ids[1], "mark-as-not-duplicate")
    assert cleared.status_code == 200, cleared.text
    for record_id in ids:
        register(client, ctx, record_id)
    with ctx.db.transaction() as session:
        before = {r.id: (r.status, r.version, r.updated_at) for r in session.scalars(
            select(Record))}
    client_id, token = _search_client(ctx)
    response = graphql(client, token, FIND, {"p": {"childFirstNames": "Tendai"}})
    assert {r["id"] for r in response.json()["data"]["searchEvents"]["results"]} == set(ids)
    rows = _retrieved(ctx)
    assert sorted(r.record_id for r in rows) == sorted(ids)
    assert {(r.actor_type, r.actor_id, r.actor_name, r.actor_role) for r in rows} == {
        ("client", client_id, "Bank KYC", "RECORD_SEARCH")}
    assert all(r.status_before == r.status_after == "REGISTERED" for r in rows)
    with ctx.db.transaction() as session:
        after = {r.id: (r.status, r.version, r.updated_at) for r in session.scalars(
            select(Record))}
    assert after == before
    staff = user_token(ctx, LOCAL_REGISTRAR)
    graphql(client, staff, FIND, {"p": {"childFirstNames": "Tendai"}})
    assert len(_retrieved(ctx)) == 2, "staff searches are not audited as retrievals"


def test_a_failing_field_keeps_the_audit_and_quota_of_the_search_that_answered(
        client: TestClient, ctx: AppContext) -> None:
    record_id = notify(client, ctx, birth(child="Tendai"))
    register(client, ctx, record_id)
    client_id, token = _search_client(ctx)
    document = """query ($p: AdvancedSearchParametersInput!) {
      ok: searchEvents(advancedSearchParameters: $p) { results { id } }
      bad: searchEvents(advancedSearchParameters: $p, count: 1000) { results { id } } }"""
    response = graphql(client, token, document, {"p": {"childFirstNames": "Tendai"}})
    body = response.json()
    assert body["data"]["ok"]["results"] == [{"id": record_id}]
    assert codes(response) == ["SEARCH-400-010"]
    assert [r.record_id for r in _retrieved(ctx)] == [record_id]
    assert _quota_used(ctx, client_id) == 1


def test_read_a_found_record_back(client: TestClient, ctx: AppContext) -> None:
    registered = notify(client, ctx, birth(child="Tendai", born="2022-01-08"))
    register(client, ctx, registered)
    declared = notify(client, ctx, birth(child="Waiting"))
    _, token = _search_client(ctx)
    response = graphql(client, token, FETCH, {"id": registered})
    record: dict[str, Any] = response.json()["data"]["fetchBirthRegistration"]
    assert record["id"] == registered
    assert record["registration"]["type"] == "BIRTH"
    assert record["registration"]["registrationNumber"]
    assert [s["type"] for s in record["registration"]["status"]] == ["REGISTERED", "DECLARED"]
    assert record["child"]["name"] == [{"firstNames": "Tendai", "familyName": "Mwale",
                                        "use": "en"}]
    assert record["child"]["birthDate"] == "2022-01-08" and record["child"]["gender"] == "male"
    assert {"id": "1234567890", "type": "NATIONAL_ID"} in record["mother"]["identifier"]
    assert record["father"]["name"] == [{"firstNames": "Dad"}]
    assert record["eventLocation"]["id"]
    assert [r.record_id for r in _retrieved(ctx)] == [registered]
    hidden = graphql(client, token, FETCH, {"id": declared})
    assert codes(hidden) == ["REC-404-001"] and hidden.json()["data"] == {
        "fetchBirthRegistration": None}
    death = graphql(client, token, FETCH.replace("fetchBirthRegistration",
                                                 "fetchDeathRegistration").replace(
        "child {", "deceased {"), {"id": registered})
    assert codes(death) == ["REC-404-001"]
    staff = user_token(ctx, LOCAL_REGISTRAR)
    assert graphql(client, staff, FETCH, {"id": declared}).json()["data"][
        "fetchBirthRegistration"]["id"] == declared
    elsewhere = user_token(ctx, LOCAL_REGISTRAR_OTHER_OFFICE)
    assert codes(graphql(client, elsewhere, FETCH, {"id": declared})) == ["REC-404-001"]


def test_a_search_client_cannot_change_data(client: TestClient, ctx: AppContext) -> None:
    record_id = notify(client, ctx, birth(child="Tendai"))
    _, token = _search_client(ctx)
    for mutation in (
        'mutation { confirmRegistration(id: "%s", details: {registrationNumber: "X1"}) }',
        'mutation { rejectRegistration(id: "%s", details: {reason: "no"}) }',
    ):
        response = graphql(client, token, mutation % record_id)
        assert codes(response) == ["HOOK-403-002"], response.text
    with ctx.db.transaction() as session:
        record = session.get(Record, record_id)
        assert record is not None and record.status == "DECLARED" and record.version == 1


def test_parallel_searches_never_overrun_the_quota(live_server: LiveServer) -> None:
    ctx = live_server.ctx
    client_id, token = _search_client(ctx, quota=5)

    def search(_n: int) -> list[str]:
        answer = httpx.post(f"{live_server.url}/graphql", timeout=30,
                            headers={"Authorization": f"Bearer {token}"},
                            json={"query": FIND, "variables": {"p": {"trackingId": "B0"}}})
        assert answer.status_code == 200, answer.text
        return [e["extensions"]["code"] for e in answer.json().get("errors", [])]

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(search, range(12)))
    assert sorted(outcomes) == [[]] * 5 + [["SEARCH-429-001"]] * 7
    assert _quota_used(ctx, client_id) == 5
