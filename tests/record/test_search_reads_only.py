"""Searches only read: on SQLite they run while a writer holds the database's write lock.

Every other transaction on SQLite takes the single write lock when it begins; a search that did
so would queue behind writers (and make them queue behind its query). Searches run on a
read-only session instead, and what they must record (the quota count, the audit of records
given to a search client) is written once the document has run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from crvshub.context import AppContext
from crvshub.record.models import RecordAction
from tests.helpers import LOCAL_REGISTRAR, LiveServer, bearer, new_client, user_token
from tests.record.graphql_helpers import birth, notify, register

FIND = """query ($p: AdvancedSearchParametersInput!) {
  searchEvents(advancedSearchParameters: $p) { totalItems results { id } } }"""
QUICK = 5.0  # seconds; a search that waited for the lock would wait 30 s (busy timeout)


@contextmanager
def write_lock_held(ctx: AppContext) -> Iterator[None]:
    """Hold an open write transaction (on SQLite: the database's write lock)."""
    session = ctx.db.sessionmaker()
    try:
        session.execute(text("UPDATE records SET version = version WHERE 1 = 0"))
        yield
    finally:
        session.rollback()
        session.close()


def _retrieved(ctx: AppContext) -> int:
    with ctx.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(RecordAction).where(
            RecordAction.action == "retrieved")) or 0)


def test_staff_searches_answer_while_a_writer_holds_the_lock(client: TestClient,
                                                             ctx: AppContext) -> None:
    record_id = notify(client, ctx, birth(child="Tendai"))
    headers = bearer(user_token(ctx, LOCAL_REGISTRAR))
    client.get("/api/records/search", params={"q": "tendai"}, headers=headers)  # warm caches
    with write_lock_held(ctx):
        started = time.monotonic()
        rest = client.get("/api/records/search", params={"q": "tendai"}, headers=headers)
        graphql = client.post("/graphql", headers=headers, json={
            "query": FIND, "variables": {"p": {"childFirstNames": "Tendai"}}})
        elapsed = time.monotonic() - started
    assert rest.status_code == 200, rest.text
    assert [hit["id"] for hit in rest.json()["results"]] == [record_id]
    assert graphql.status_code == 200, graphql.text
    assert graphql.json()["data"]["searchEvents"]["results"] == [{"id": record_id}]
    assert elapsed < QUICK, f"the searches waited {elapsed:.1f} s for the write lock"


def _search(url: str, token: str) -> dict[str, Any]:
    answer = httpx.post(f"{url}/graphql", timeout=60, headers={"Authorization": f"Bearer {token}"},
                        json={"query": FIND, "variables": {"p": {"childFirstNames": "Tendai"}}})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_quota_count_decides_when_searches_overlap(live_server: LiveServer) -> None:
    """Two searches pass the quota check together; the count lets one through, not both."""
    ctx = live_server.ctx
    client = TestClient(live_server.app)  # the live server's app, its lifespan already running
    record_id = notify(client, ctx, birth(child="Tendai"))
    register(client, ctx, record_id)
    _, token = new_client(ctx, "RECORD_SEARCH", name="Pension fund", daily_quota=1)
    before = _retrieved(ctx)
    with ThreadPoolExecutor(max_workers=2) as pool:
        with write_lock_held(ctx):
            answers = [pool.submit(_search, live_server.url, token) for _ in range(2)]
            time.sleep(1.0)  # both have searched (SQLite: both now wait to write)
        bodies = [a.result(timeout=60) for a in answers]
    found = [b for b in bodies if not b.get("errors")]
    refused = [b for b in bodies if b.get("errors")]
    assert len(found) == 1 and len(refused) == 1, bodies
    assert found[0]["data"]["searchEvents"]["results"] == [{"id": record_id}]
    assert [e["extensions"]["code"] for e in refused[0]["errors"]] == ["SEARCH-429-001"]
    assert _retrieved(ctx) == before + 1, "only the answered search is audited"
    # Refused after running or while running (the quota already used), the answer is the same.
    assert refused[0] == _search(live_server.url, token)
    assert refused[0]["data"] == {"searchEvents": None}
    assert refused[0]["errors"][0]["path"] == ["searchEvents"]
    assert _retrieved(ctx) == before + 1
