"""OpenCRVS's Event Notification Postman collection, unchanged, against a live CRVS Hub."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from crvshub.record.models import Record, RecordAction
from tests.compat.newman import run_collection
from tests.helpers import LiveServer, new_client
from tests.notification.helpers import DISTRICT_ID, FACILITY_ID, OFFICE_ID, STATE_ID


def test_event_notification_collection(live_server: LiveServer, tmp_path: Path) -> None:
    creds, token = new_client(live_server.ctx, "HEALTH", name="Postman hospital")
    executions = run_collection(
        "Event-Notification.postman_collection.json", live_server.url,
        {"integration-token": token, "officeId": OFFICE_ID, "facilityId": FACILITY_ID,
         "districtId": DISTRICT_ID, "stateId": STATE_ID, "countryCode": "FAR"},
        tmp_path,
    )
    assert len(executions) == 4
    for item in executions:
        body = json.loads(bytes(item["response"]["stream"]["data"]).decode())
        assert body["resourceType"] == "Bundle"
    with live_server.ctx.db.transaction() as session:
        records = session.scalars(select(Record)).all()
        assert sorted(r.event for r in records) == ["birth", "birth", "death", "death"]
        assert {r.office_id for r in records} == {OFFICE_ID}
        assert {r.source_client_id for r in records} == {creds.client.id}
        actions = session.scalars(select(RecordAction)).all()
        assert {(a.action, a.actor_name) for a in actions} == {
            ("sent-notification", "Postman hospital")}
