"""`crvshub reindex`: the search index and search columns rebuilt from the stored bundles."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from crvshub.context import AppContext
from crvshub.record.models import Record
from crvshub.record.reindex import reindex
from crvshub.search.models import SearchPerson, SearchTerm
from crvshub.synthetic.generate import Plan, generate_to
from tests.helpers import bearer, user_token
from tests.notification.helpers import example, fresh_ids, health_token, post


def _found(client: TestClient, token: str, text: str) -> list[str]:
    answer = client.get("/api/records/search", params={"q": text}, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return [r["id"] for r in answer.json()["results"]]


def _pick(ctx: AppContext) -> tuple[str, str, str]:
    with ctx.db.transaction() as session:
        row = session.execute(select(Record.id, Record.subject_given, Record.subject_family)
                              .order_by(Record.id).limit(1)).one()
    return row.id, row.subject_given, row.subject_family


def _break_index(ctx: AppContext, record_id: str) -> None:
    with ctx.db.transaction() as session:
        session.execute(delete(SearchTerm).where(SearchTerm.record_id == record_id))
        session.execute(delete(SearchPerson))
        session.execute(update(Record).values(subject_name_norm=None, subject_given="x"))


def test_reindex_repairs_a_broken_index(client: TestClient, ctx: AppContext,
                                        tmp_path: Path) -> None:
    generate_to(ctx.db, ctx.location_cache.snapshot().ordered, Plan(120, seed=3), None)
    rid, given, family = _pick(ctx)
    token = user_token(ctx, "j.ndekwa")
    assert rid in _found(client, token, f"{given} {family}")
    _break_index(ctx, rid)
    assert rid not in _found(client, token, f"{given} {family}")
    done: list[int] = []
    assert reindex(ctx.db, 50, lambda n, total: done.append(n)) == 120
    assert done == [50, 100, 120]
    assert rid in _found(client, token, f"{given} {family}")
    with ctx.db.transaction() as session:
        record = session.get(Record, rid)
        assert record is not None and record.subject_given == given
        assert session.scalar(select(SearchPerson.role).where(SearchPerson.record_id == rid))
    _assert_postings_dated(ctx)


def _assert_postings_dated(ctx: AppContext) -> None:
    """Every posting carries its record's declaration time (the newest holders of a name
    are chosen from the postings alone)."""
    with ctx.db.transaction() as session:
        rows = session.execute(select(SearchTerm.declared, Record.created_at).join(
            Record, Record.id == SearchTerm.record_id)).all()
    assert rows and all(declared == created for declared, created in rows)


def test_postings_carry_the_declaration_time_when_generated_and_when_created(
        client: TestClient, ctx: AppContext) -> None:
    generate_to(ctx.db, ctx.location_cache.snapshot().ordered, Plan(40, seed=5), None)
    token = health_token(ctx)
    assert post(client, token, fresh_ids(example("birth-full"))).status_code == 200
    _assert_postings_dated(ctx)


def test_reindex_command(database_url: str, ctx: AppContext, client: TestClient) -> None:
    generate_to(ctx.db, ctx.location_cache.snapshot().ordered, Plan(30, seed=4), None)
    rid, given, family = _pick(ctx)
    _break_index(ctx, rid)
    env = {**os.environ, "CRVSHUB_DATABASE_URL": database_url, "CRVSHUB_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "crvshub", "reindex", "--batch", "7"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "reindexed 30 records" in done.stderr
    assert rid in _found(client, user_token(ctx, "j.ndekwa"), f"{given} {family}")
