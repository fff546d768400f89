"""`crvshub generate`: realistic records of every status, labelled duplicates, searchable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crvshub.context import AppContext
from crvshub.record.models import Record, RecordAction
from crvshub.search.models import SearchTerm
from crvshub.synthetic.generate import Plan, generate_to
from tests.helpers import bearer, user_token

REGISTERED = {"REGISTERED", "CERTIFIED", "ISSUED", "CORRECTION_REQUESTED"}


def _generate(ctx: AppContext, tmp_path: Path, n: int) -> Path:
    labels = tmp_path / "labels.jsonl"
    done = generate_to(ctx.db, ctx.location_cache.snapshot().ordered,
                       Plan(n, seed=5, duplicate_share=0.1, batch=100), labels)
    assert done == n
    return labels


def test_generated_records_are_complete_and_consistent(ctx: AppContext, tmp_path: Path) -> None:
    labels = _generate(ctx, tmp_path, 400)
    with ctx.db.transaction() as session:
        rows = session.execute(select(Record.id, Record.status, Record.tracking_id,
                                      Record.registration_number, Record.registered_at,
                                      Record.event, Record.created_at, Record.updated_at)).all()
        actions = session.scalar(select(func.count()).select_from(RecordAction))
        postings = session.scalar(select(func.count()).select_from(SearchTerm))
    assert len(rows) == 400 and actions == 400 and postings and postings > 400 * 3
    assert len({r.tracking_id for r in rows}) == 400
    statuses = Counter(r.status for r in rows)
    assert len(statuses) >= 8, statuses
    assert {r.event for r in rows} == {"birth", "death"}
    for r in rows:
        assert (r.registration_number is not None) == (r.status in REGISTERED)
        assert (r.registered_at is not None) == (r.status in REGISTERED)
        assert r.created_at <= r.updated_at
        if r.registration_number:
            assert r.registration_number.endswith(r.tracking_id)
    ids = {r.id for r in rows}
    lines = [json.loads(line) for line in labels.read_text().splitlines()]
    assert 10 <= len(lines) <= 80
    for line in lines:
        assert line["duplicate"] in ids and line["original"] in ids and line["mutations"]


def test_generation_is_reproducible(ctx: AppContext, tmp_path: Path) -> None:
    first = _generate(ctx, tmp_path, 60).read_text()
    with ctx.db.transaction() as session:
        for model in (SearchTerm, RecordAction):
            session.query(model).delete()
        session.execute(Record.__table__.delete())
    assert _generate(ctx, tmp_path, 60).read_text() == first


def test_generated_records_are_found_by_name(client: TestClient, ctx: AppContext,
                                             tmp_path: Path) -> None:
    _generate(ctx, tmp_path, 200)
    with ctx.db.transaction() as session:
        wanted = session.execute(select(Record.id, Record.subject_given, Record.subject_family)
                                 .order_by(Record.id).limit(3)).all()
    token = user_token(ctx, "j.ndekwa")  # national registrar: every office
    for rid, given, family in wanted:
        answer = client.get("/api/records/search", params={"q": f"{given} {family}"},
                            headers=bearer(token))
        assert answer.status_code == 200, answer.text
        assert rid in [r["id"] for r in answer.json()["results"]], (given, family)


def test_generate_command(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "CRVSHUB_DATABASE_URL": database_url, "CRVSHUB_LOG_LEVEL": "WARNING"}
    labels = tmp_path / "l.jsonl"
    done = subprocess.run([sys.executable, "-m", "crvshub", "generate", "--records", "50",
                           "--labels", str(labels)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "generated 50 records" in done.stderr
    assert labels.exists()
    wrong = subprocess.run([sys.executable, "-m", "crvshub", "generate", "--records", "5",
                            "--labels", str(tmp_path / "nowhere" / "l.jsonl")],
                           capture_output=True, text=True, env=env, timeout=300, check=False)
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: --labels")
    again = subprocess.run([sys.executable, "-m", "crvshub", "generate", "--records", "5"],
                           capture_output=True, text=True, env=env, timeout=300, check=False)
    assert again.returncode == 2, again.stderr
    assert again.stderr.startswith("error: the records of seed 1 are already in this database")
    assert "Traceback" not in again.stderr and len(again.stderr.strip().splitlines()) == 1
    other = subprocess.run([sys.executable, "-m", "crvshub", "generate", "--records", "5",
                            "--seed", "2"], capture_output=True, text=True, env=env, timeout=300,
                           check=False)
    assert other.returncode == 0, other.stderr


def test_commands_have_help() -> None:
    for command in ("generate", "reindex"):
        shown = subprocess.run([sys.executable, "-m", "crvshub", command, "--help"],
                               capture_output=True, text=True, timeout=120, check=False)
        assert shown.returncode == 0 and "Usage" in shown.stdout, shown.stderr
    assert "no webhooks" in " ".join(subprocess.run(
        [sys.executable, "-m", "crvshub", "generate", "--help"], capture_output=True, text=True,
        timeout=120, check=False).stdout.split())
