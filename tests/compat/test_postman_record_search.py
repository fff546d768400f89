"""OpenCRVS's Record Search Postman collection, unchanged, against a live CRVS Hub."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from crvshub.record.models import RecordAction
from tests.compat.newman import run_collection
from tests.helpers import LiveServer, new_client
from tests.notification.helpers import FACILITY_ID, OFFICE_ID
from tests.record.graphql_helpers import birth, notify, register, set_columns


def test_record_search_collection(live_server: LiveServer, tmp_path: Path) -> None:
    ctx = live_server.ctx
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        wanted = [notify(http, ctx, birth(child=name)) for name in ("Tendai", "Chisomo")]
        girl = notify(http, ctx, birth(child="Grace", gender="female"))
        uncle = notify(http, ctx, birth(child="Peter", father="Uncle"))
        late = notify(http, ctx, birth(child="Late"))
        declared = notify(http, ctx, birth(child="Waiting"))
        for record_id in (*wanted, girl, uncle, late):
            register(http, ctx, record_id)  # type: ignore[arg-type]
    set_columns(ctx, late, created_at=datetime(2023, 1, 2, tzinfo=UTC))
    creds, token = new_client(ctx, "RECORD_SEARCH", name="Postman search")
    executions = run_collection(
        "Record-Search.postman_collection.json", live_server.url,
        {"integration-token": token, "officeLocationId": OFFICE_ID, "facilityId": FACILITY_ID},
        tmp_path,
    )
    assert len(executions) == 1
    body = json.loads(bytes(executions[0]["response"]["stream"]["data"]).decode())
    assert "errors" not in body, body
    found = body["data"]["searchEvents"]
    assert found["totalItems"] == 2
    assert {r["id"] for r in found["results"]} == set(wanted)
    assert declared not in {r["id"] for r in found["results"]}
    with ctx.db.transaction() as session:
        rows = session.scalars(select(RecordAction).where(RecordAction.action == "retrieved"))
        assert {(r.record_id, r.actor_id) for r in rows} == {(w, creds.client.id) for w in wanted}
