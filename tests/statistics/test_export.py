"""Bulk export: FHIR $export kicked off, polled and read back; CSV export; the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from crvshub.context import AppContext
from crvshub.outbox.worker import Worker
from crvshub.statistics.exports import CSV_COLUMNS
from crvshub.statistics.fhir_mapping import EXPORT_TYPES
from tests.helpers import bearer, new_client, user_token
from tests.statistics import truth
from tests.statistics.exporting import ASYNC, finish_export, ndjson_lines


def _bundles(ctx: AppContext) -> list[dict[str, Any]]:
    with ctx.db.sessionmaker() as session:
        rows = session.execute(text("SELECT bundle FROM records")).scalars().all()
    return [b if isinstance(b, dict) else json.loads(b) for b in rows]


def test_fhir_bulk_export_is_kicked_off_polled_and_read_back(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    _creds, token = new_client(ctx, "STATISTICS", name="Statistics office")
    refused = client.get("/fhir/$export", headers=bearer(token))
    assert refused.status_code == 400  # no Prefer: respond-async
    kicked = client.get("/fhir/$export", headers={**bearer(token), **ASYNC})
    assert kicked.status_code == 202, kicked.text
    status_url = kicked.headers["Content-Location"]
    assert "/fhir/$export-status/" in status_url
    manifest, progress = finish_export(client, ctx, token, status_url)
    assert progress and progress[0] == "queued"
    assert any("%" in p for p in progress)  # the job reported progress while running
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    expected = Counter(e["resource"]["resourceType"] for b in _bundles(ctx)
                       for e in b["entry"])
    files = {item["type"]: item for item in manifest["output"]}
    assert set(files) == {kind for kind in expected if kind in EXPORT_TYPES}
    ids: set[tuple[str, str]] = set()
    for kind, item in files.items():
        lines = ndjson_lines(client, token, item["url"])
        assert len(lines) == item["count"] == expected[kind], kind
        for resource in lines:
            assert resource["resourceType"] == kind and resource["id"]
            ids.add((kind, resource["id"]))
    assert files["Task"]["count"] == generated
    # References between exported resources resolve inside the export.
    tasks = ndjson_lines(client, token, files["Task"]["url"])
    for task in tasks[:50]:
        kind, _, rid = task["focus"]["reference"].partition("/")
        assert (kind, rid) in ids


def test_export_types_since_and_patient_level(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    token = user_token(ctx, "h.sewanti")
    regs = truth.records(ctx)
    since = sorted(r.updated for r in regs)[len(regs) // 2]
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    kicked = client.get("/fhir/$export", params={"_type": "Task,Patient", "_since": stamp,
                                                 "_outputFormat": "application/fhir+ndjson"},
                        headers={**bearer(token), **ASYNC})
    assert kicked.status_code == 202, kicked.text
    manifest, _ = finish_export(client, ctx, token, kicked.headers["Content-Location"])
    files = {item["type"]: item for item in manifest["output"]}
    assert set(files) == {"Task", "Patient"}
    assert files["Task"]["count"] == sum(1 for r in regs if r.updated >= since)
    patient = client.get("/fhir/Patient/$export", params={"_type": "Patient,RelatedPerson"},
                         headers={**bearer(token), **ASYNC})
    manifest, _ = finish_export(client, ctx, token, patient.headers["Content-Location"])
    assert {item["type"] for item in manifest["output"]} <= {"Patient", "RelatedPerson"}
    bad = client.get("/fhir/Patient/$export", params={"_type": "Practitioner"},
                     headers={**bearer(token), **ASYNC})
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["details"]["coding"][0]["code"] == "STAT-400-002"
    assert client.get("/fhir/$export", params={"_since": "yesterday"},
                      headers={**bearer(token), **ASYNC}).status_code == 400


def test_exports_belong_to_their_caller_and_can_be_cancelled(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    _creds, owner = new_client(ctx, "STATISTICS", name="Owner")
    _creds, other = new_client(ctx, "STATISTICS", name="Other")
    kicked = client.get("/fhir/$export", headers={**bearer(owner), **ASYNC})
    status_url = kicked.headers["Content-Location"]
    assert client.get(status_url, headers=bearer(other)).status_code == 404
    assert client.get(status_url).status_code == 401
    _creds, health = new_client(ctx, "HEALTH")
    assert client.get("/fhir/$export", headers={**bearer(health), **ASYNC}).status_code == 403
    assert client.delete(status_url, headers=bearer(owner)).status_code == 202
    assert client.get(status_url, headers=bearer(owner)).status_code == 404
    Worker(ctx).run_once()  # the queued job sees the cancellation and writes nothing
    assert not (ctx.settings.export_dir / status_url.rsplit("/", 1)[1]).exists()


def test_csv_export_has_one_documented_row_per_record(
        client: TestClient, ctx: AppContext, generated: int) -> None:
    token = user_token(ctx, "d.okpaleni")
    kicked = client.post("/api/statistics/exports", headers=bearer(token))
    assert kicked.status_code == 202, kicked.text
    manifest, _ = finish_export(client, ctx, token, kicked.headers["Content-Location"])
    [item] = manifest["output"]
    answer = client.get(item["url"], headers=bearer(token))
    assert answer.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert tuple(table[0]) == CSV_COLUMNS
    assert len(table) == item["count"] == generated
    regs = {r.id: r for r in truth.records(ctx)}
    for row in table:
        reg = regs[row["record_id"]]
        assert row["event"] == reg.event and row["status"] == reg.status
        if reg.registered is not None:
            assert row["timeliness"] == truth.timeliness(reg)
            assert int(row["days_to_registration"]) == truth.days(reg)


def test_export_commands(database_url: str, ctx: AppContext, generated: int,
                         tmp_path: Path) -> None:
    env = {**os.environ, "CRVSHUB_DATABASE_URL": database_url, "CRVSHUB_LOG_LEVEL": "WARNING"}
    out = tmp_path / "ndjson"
    done = subprocess.run([sys.executable, "-m", "crvshub", "export", "ndjson", "--out",
                           str(out), "--type", "Task"], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert len((out / "Task.ndjson").read_text().splitlines()) == generated
    done = subprocess.run([sys.executable, "-m", "crvshub", "export", "csv", "--out",
                           str(tmp_path / "csv")], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert len((tmp_path / "csv" / "records.csv").read_text().splitlines()) == generated + 1
    year = datetime.now(UTC).year - 1
    shown = subprocess.run([sys.executable, "-m", "crvshub", "statistics", "counts", "--by",
                            "sex", "--year", str(year)], capture_output=True, text=True,
                           env=env, timeout=300, check=False)
    assert shown.returncode == 0, shown.stderr
    regs = truth.registered_in(truth.records(ctx), year)
    assert sum(json.loads(shown.stdout)["total"].values()) == len(regs)


def test_an_interrupted_step_is_cut_back_and_resumed_without_duplicates(
        ctx: AppContext, generated: int, tmp_path: Path) -> None:
    from crvshub.statistics import exports

    with ctx.db.transaction() as session:
        job = exports.kick_off_local(session, exports.ExportRequest(
            "ndjson", "system", ("Task",), None, "test", "test"))
    folder = tmp_path / "out"
    assert exports.run_export(ctx, job, folder, 0.0) == "running"  # one batch, then stop
    task_file = folder / "Task.ndjson"
    assert len(task_file.read_bytes().splitlines()) == exports.BATCH
    with task_file.open("ab") as handle:  # what a killed step wrote after its last save
        handle.write(b'{"resourceType":"Task","id":"half-writ')
    assert exports.run_export(ctx, job, folder, None) == "done"
    lines = task_file.read_bytes().splitlines()
    assert len(lines) == generated
    assert len({json.loads(line)["id"] for line in lines}) == generated


def test_the_capability_statement_lists_the_bulk_export_operations(client) -> None:
    statement = client.get("/fhir/metadata").json()
    system = {o["name"]: o["definition"] for o in statement["rest"][0].get("operation", [])}
    assert system == {"export": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert "patient-export" in {o["name"] for o in patient.get("operation", [])}
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    CapabilityStatement.model_validate(statement)


def test_an_export_in_short_steps_writes_what_one_run_writes(
        ctx: AppContext, generated: int, tmp_path: Path, monkeypatch) -> None:
    """Each step reads its next batch while writing the last; stopping at any point of that
    loses and repeats nothing, and the saved counts and sizes are the files' own."""
    from crvshub.statistics import exports

    monkeypatch.setattr(exports, "BATCH", 40)  # many batches, and a last one not full
    assert generated % 40 != 0
    folders = {}
    for name, seconds in (("one-run", None), ("steps", 0.0)):
        with ctx.db.transaction() as session:
            job = exports.kick_off_local(session, exports.ExportRequest(
                "ndjson", "system", tuple(EXPORT_TYPES), None, "test", "test"))
        folders[name] = tmp_path / name
        steps = 0
        while exports.run_export(ctx, job, folders[name], seconds) == "running":
            steps += 1
        with ctx.db.transaction() as session:
            saved = exports.repository.job(session, job)
            assert saved is not None and saved.status == "done"
            assert saved.records_done == generated
            for file_name, info in saved.files.items():
                data = (folders[name] / file_name).read_bytes()
                assert info["bytes"] == len(data) and info["count"] == data.count(b"\n")
        assert steps == (0 if seconds is None else generated // 40)
    one = sorted(p.name for p in folders["one-run"].iterdir())
    assert one == sorted(p.name for p in folders["steps"].iterdir()) and "Task.ndjson" in one
    for file_name in one:
        assert (folders["one-run"] / file_name).read_bytes() == \
            (folders["steps"] / file_name).read_bytes()
