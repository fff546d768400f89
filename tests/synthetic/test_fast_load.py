"""`crvshub generate` into an empty PostgreSQL database: indexes dropped before the load and
built once after it, exactly as the migrations made them, even after a failure, Ctrl-C or a
process killed in between; into a database that has records, nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from crvshub import bulk_load
from crvshub.context import AppContext
from crvshub.record.models import Record
from crvshub.synthetic import generate as generation
from crvshub.synthetic.generate import INDEXED_IN_BULK, Plan, generate

TABLES = list(INDEXED_IN_BULK)


def _catalogue(ctx: AppContext) -> dict[str, Any]:
    """Names and definitions of the indexes and constraints of the tables a load fills."""
    with ctx.db.reader() as session:
        if ctx.db.engine.dialect.name != "postgresql":
            return dict(session.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE tbl_name IN "
                "('records', 'record_actions', 'search_persons', 'search_terms')")).all())
        indexes = session.execute(text(
            "SELECT i.relname, pg_get_indexdef(i.oid), x.indisvalid, x.indisready "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid::regclass::text = ANY(:tables)"), {"tables": TABLES}).all()
        constraints = session.execute(text(
            "SELECT conname, contype, pg_get_constraintdef(oid), conindid::regclass::text "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY(:tables)"),
            {"tables": TABLES}).all()
    return {"indexes": {r[0]: r[1:] for r in indexes},
            "constraints": {r[0]: r[1:] for r in constraints}}


def _generate(ctx: AppContext, plan: Plan) -> list[tuple[int, int]]:
    """Generate a plan; return the progress reports of the indexes built."""
    built: list[tuple[int, int]] = []
    generate(ctx.db, ctx.location_cache.snapshot().ordered, plan,
             indexes=lambda done, total: built.append((done, total)))
    return built


def _records(ctx: AppContext) -> int:
    with ctx.db.reader() as session:
        return session.scalar(select(func.count()).select_from(Record)) or 0


def test_a_load_into_an_empty_database_ends_with_every_index_the_migrations_made(
    ctx: AppContext,
) -> None:
    before = _catalogue(ctx)
    built = _generate(ctx, Plan(300, seed=5, batch=100))
    assert _catalogue(ctx) == before
    assert _records(ctx) == 300
    assert bulk_load.pending(ctx.db) == []
    if ctx.db.engine.dialect.name == "postgresql":
        indexes = before["indexes"]
        # Every index of the tables but the primary key of records (foreign keys need it).
        assert built[0] == (0, len(indexes) - 1) and built[-1] == (len(indexes) - 1,) * 2
        assert "pk_search_terms" in indexes and "uq_records_tracking_id" in indexes
        assert all(valid and ready for _, valid, ready in indexes.values())
    else:
        assert built == []
    # Unique constraints hold again.
    with ctx.db.reader() as session:
        first, second = session.scalars(select(Record.tracking_id).limit(2)).all()
    with pytest.raises(IntegrityError), ctx.db.transaction() as session:
        session.execute(update(Record).where(Record.tracking_id == second)
                        .values(tracking_id=first))


@pytest.mark.parametrize("stop", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_a_load_that_fails_or_is_interrupted_builds_the_indexes_again(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, stop: BaseException,
) -> None:
    before = _catalogue(ctx)
    write = generation._write
    calls: list[int] = []

    def failing(*args: Any) -> int:
        calls.append(1)
        if len(calls) == 2:
            raise stop
        return write(*args)

    monkeypatch.setattr(generation, "_write", failing)
    with pytest.raises(type(stop)):
        _generate(ctx, Plan(2100, seed=6, batch=1000))  # three batches
    assert _catalogue(ctx) == before
    assert bulk_load.pending(ctx.db) == []


def test_indexes_left_by_a_killed_load_are_built_by_the_next_run(ctx: AppContext) -> None:
    before = _catalogue(ctx)
    # A load killed (SIGKILL) after dropping the indexes: their definitions stay stored.
    dropped = bulk_load.drop_indexes(ctx.db, INDEXED_IN_BULK)
    if ctx.db.engine.dialect.name != "postgresql":
        assert dropped == 0 and bulk_load.pending(ctx.db) == []
        return
    assert dropped == len(before["indexes"]) - 1
    assert "pk_search_terms" in bulk_load.pending(ctx.db)
    assert set(_catalogue(ctx)["indexes"]) == {"pk_records"}
    built = _generate(ctx, Plan(50, seed=7))
    assert _catalogue(ctx) == before
    assert bulk_load.pending(ctx.db) == []
    assert built[:2] == [(0, dropped), (1, dropped)]  # first the repair, then the load's own
    # A killed build (some indexes already there) is finished too.
    with ctx.db.transaction() as session:
        session.add(bulk_load.BulkLoadIndex(
            name="uq_records_tracking_id", table_name="records",
            index_def=before["indexes"]["uq_records_tracking_id"][0],
            constraint_def=before["constraints"]["uq_records_tracking_id"][1]))
    assert bulk_load.build_indexes(ctx.db) == 1
    assert _catalogue(ctx) == before


def test_a_unique_index_that_cannot_be_built_stays_to_build(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if ctx.db.engine.dialect.name != "postgresql":
        pytest.skip("indexes are dropped on PostgreSQL only")
    settle = ctx.db.settle

    def duplicate_then_settle(tables: Any) -> None:  # a load that broke a unique constraint
        with ctx.db.transaction() as session:
            first, second = session.scalars(select(Record.tracking_id).limit(2)).all()
            session.execute(update(Record).where(Record.tracking_id == second)
                            .values(tracking_id=first))
        settle(tables)

    monkeypatch.setattr(ctx.db, "settle", duplicate_then_settle)
    with pytest.raises(IntegrityError):
        _generate(ctx, Plan(30, seed=8))
    assert bulk_load.pending(ctx.db) == ["uq_records_tracking_id"]
    assert "uq_records_tracking_id" not in _catalogue(ctx)["indexes"]


def test_a_database_with_records_keeps_its_indexes_during_a_load(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _generate(ctx, Plan(40, seed=9))
    before = _catalogue(ctx)

    def refused(*_args: Any) -> int:
        raise AssertionError("indexes dropped while the tables have rows")

    monkeypatch.setattr(bulk_load, "drop_indexes", refused)
    assert _generate(ctx, Plan(40, seed=10)) == []
    assert _records(ctx) == 80
    assert _catalogue(ctx) == before


def test_a_second_load_during_a_load_into_an_empty_database_is_refused(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch,
) -> None:
    if ctx.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers queue on its single write lock")
    before = _catalogue(ctx)
    load = generation._load
    refused: list[str] = []

    def load_and_try_another(*args: Any) -> int:
        # The first load has dropped its indexes: a second one must neither add rows nor
        # take those indexes for a killed load's.
        with pytest.raises(bulk_load.Busy) as busy:
            generate(ctx.db, ctx.location_cache.snapshot().ordered, Plan(10, seed=12))
        refused.append(str(busy.value))
        assert "pk_search_terms" in bulk_load.pending(ctx.db)
        return load(*args)

    monkeypatch.setattr(generation, "_load", load_and_try_another)
    _generate(ctx, Plan(20, seed=11))
    assert refused and _records(ctx) == 20
    assert _catalogue(ctx) == before
    monkeypatch.setattr(generation, "_load", load)
    # Loads that add rows under the indexes share the lock: the non-empty path as before.
    with bulk_load.locked(ctx.db, shared=True):
        _generate(ctx, Plan(10, seed=13))
    assert _records(ctx) == 30


def test_indexes_left_by_a_killed_load_stop_the_server_until_migrate_builds_them(
        ctx: AppContext, database_url: str) -> None:
    """Without them unique keys are not checked: every command but `crvshub migrate` refuses
    with one line naming the fix, and `crvshub migrate` builds them with a progress bar."""
    import os
    import subprocess
    import sys

    before = _catalogue(ctx)
    dropped = bulk_load.drop_indexes(ctx.db, INDEXED_IN_BULK)
    if ctx.db.engine.dialect.name != "postgresql":
        assert dropped == 0
        return
    env = {**os.environ, "CRVSHUB_DATABASE_URL": database_url, "CRVSHUB_LOG_LEVEL": "WARNING"}

    def crvshub(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "crvshub", *args], capture_output=True,
                              text=True, env=env, timeout=300, check=False)

    refused = crvshub("generate", "--records", "5", "--seed", "9")
    assert refused.returncode == 2, refused.stderr
    assert "interrupted `crvshub generate`" in refused.stderr
    assert refused.stderr.strip().endswith("run: crvshub migrate")
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    built = crvshub("migrate")
    assert built.returncode == 0, built.stderr
    assert f"built {dropped} indexes" in built.stderr
    assert bulk_load.pending(ctx.db) == [] and _catalogue(ctx) == before
    assert crvshub("generate", "--records", "5", "--seed", "9").returncode == 0
