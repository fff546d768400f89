"""Exported NDJSON is valid FHIR and complete; expired exports are deleted by the worker."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta

from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import text

from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.outbox.worker import Worker
from crvshub.statistics import exports
from crvshub.statistics.fhir_mapping import EXPORT_TYPES
from crvshub.statistics.worker import Housekeeping
from tests.helpers import bearer, new_client
from tests.statistics.exporting import ASYNC, finish_export


def _expected_resources(ctx: AppContext) -> Counter[str]:
    """Count, straight from the stored bundles, the resources an export should hold."""
    found: Counter[str] = Counter()
    with ctx.db.sessionmaker() as session:
        for (bundle,) in session.execute(text("SELECT bundle FROM records")):
            data = bundle if isinstance(bundle, dict) else json.loads(bundle)
            for entry in data["entry"]:
                kind = entry["resource"]["resourceType"]
                if kind in EXPORT_TYPES:
                    found[kind] += 1
    return found


def test_every_exported_line_is_a_valid_r4_resource_and_all_are_there(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    _creds, token = new_client(ctx, "STATISTICS", name="Statistics office")
    kicked = client.get("/fhir/$export", headers={**bearer(token), **ASYNC})
    manifest, _ = finish_export(client, ctx, token, kicked.headers["Content-Location"])
    expected = _expected_resources(ctx)
    read: Counter[str] = Counter()
    for item in manifest["output"]:
        answer = client.get(item["url"], headers=bearer(token))
        assert answer.status_code == 200
        ids = set()
        for line in answer.text.splitlines():
            resource = json.loads(line)
            assert resource["resourceType"] == item["type"]
            # fhir.resources' R4B models: an independent reading of the FHIR specification.
            get_fhir_model_class(item["type"]).model_validate(resource)
            ids.add(resource["id"])
            read[item["type"]] += 1
        assert len(ids) == read[item["type"]] == item["count"], item["type"]
    assert read == expected
    with ctx.db.sessionmaker() as session:
        records = session.execute(text("SELECT count(*) FROM records")).scalar_one()
    assert read["Task"] == read["Composition"] == records == generated


def test_the_worker_deletes_expired_exports_and_their_status_says_so(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    _creds, token = new_client(ctx, "STATISTICS", name="Statistics office")
    kicked = client.get("/fhir/$export", params={"_type": "Patient"},
                        headers={**bearer(token), **ASYNC})
    status_url = kicked.headers["Content-Location"]
    job_id = status_url.rsplit("/", 1)[1]
    manifest, _ = finish_export(client, ctx, token, status_url)
    file_url = manifest["output"][0]["url"]
    folder = ctx.settings.export_dir / job_id
    assert folder.is_dir()
    keep = timedelta(hours=ctx.settings.export_keep_hours)
    # Not yet expired: a sweep now keeps everything.
    assert exports.sweep_expired(ctx, utcnow()) == 0
    assert client.get(status_url, headers=bearer(token)).headers["Expires"]
    # The clock moves past the expiry: the worker's housekeeping deletes the files.
    with ctx.db.transaction() as session:
        session.execute(text("UPDATE export_jobs SET finished_at = :at WHERE id = :id"),
                        {"at": utcnow() - keep - timedelta(minutes=1), "id": job_id})
    worker = Worker(ctx)
    try:
        assert any(isinstance(p, Housekeeping) for p in worker.pollers)
        time.sleep(2 * ctx.settings.statistics_refresh_seconds)
        worker.run_once()
    finally:
        worker.close()
    assert not folder.exists()
    for url in (status_url, file_url):
        gone = client.get(url, headers=bearer(token))
        assert gone.status_code == 410, gone.text
        assert gone.json()["issue"][0]["details"]["coding"][0]["code"] == "STAT-410-001"
    # Much later the job itself is forgotten: an unknown export.
    assert exports.sweep_expired(ctx, utcnow() + exports.FORGET_AFTER + timedelta(days=1)) == 0
    assert client.get(status_url, headers=bearer(token)).status_code == 404
    with ctx.db.sessionmaker() as session:
        left = session.execute(text("SELECT count(*) FROM export_jobs WHERE id = :id"),
                               {"id": job_id}).scalar_one()
    assert left == 0
