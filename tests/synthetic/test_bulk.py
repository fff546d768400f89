"""`crvshub generate` at scale: the same records whatever the number of worker processes, rows
loaded by COPY read back as written, and generated records indexed like created ones."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crvshub.context import AppContext
from crvshub.db import encode_rows, insert_rows, load_rows
from crvshub.record.creation import NewRecord, create_record
from crvshub.record.domain import Action, Event, Status
from crvshub.record.models import Record, RecordAction, RecordDuplicate
from crvshub.record.search_columns import search_columns
from crvshub.record.service import Actor
from crvshub.search.indexing import RESOURCE_ROLE
from crvshub.search.models import SearchPerson, SearchTerm
from crvshub.synthetic.generate import UNIT, Part, Plan, _parts, generate_to, make_part
from crvshub.synthetic.population import Place

PLACES = [Place(f"facility-{i}", f"office-{i % 7}") for i in range(40)] + [Place(None, "office-1")]
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _summary(part: Part) -> tuple[Any, ...]:
    return (part.count, part.records, part.index, part.labels)


def test_the_records_are_the_same_whatever_the_number_of_workers() -> None:
    records = 2 * UNIT + 300  # two whole units and a part of one
    alone = [_summary(p) for p in _parts(Plan(records, seed=3, workers=0), PLACES, NOW,
                                         "postgresql")]
    shared = [_summary(p) for p in _parts(Plan(records, seed=3, workers=2), PLACES, NOW,
                                          "postgresql")]
    assert alone == shared
    assert [count for count, *_ in alone] == [UNIT, UNIT, 300]
    # Record ids, tracking ids and event keys never repeat across units.
    rows = [line.split(b"\t") for _, encoded, _, _ in alone
            for line in encoded.records.splitlines()]
    assert len({r[0] for r in rows}) == len({r[1] for r in rows}) == records
    assert sum(1 for r in rows if r[2] == b"death") == 200 + 200 + 60  # a fifth of each unit
    other_seed = make_part(Plan(records, seed=4), PLACES, NOW, 0, "postgresql")
    assert other_seed.records != alone[0][1].records


def test_generated_rows_are_whole_on_sqlite_and_copy_text_on_postgresql() -> None:
    sqlite = make_part(Plan(50, seed=9), PLACES, NOW, 0, "sqlite")
    postgres = make_part(Plan(50, seed=9), PLACES, NOW, 0, "postgresql")
    assert isinstance(sqlite.records.records, list) and len(sqlite.records.records) == 50
    assert isinstance(postgres.records.records, bytes)
    assert postgres.records.records == encode_rows(Record, sqlite.records.records, "postgresql")
    assert postgres.index == sqlite.index.__class__(
        encode_rows(SearchPerson, sqlite.index.persons, "postgresql"),  # type: ignore[arg-type]
        encode_rows(SearchTerm, sqlite.index.postings, "postgresql"),  # type: ignore[arg-type]
        sqlite.index.words)


def test_rows_loaded_in_bulk_read_back_as_written(ctx: AppContext, tmp_path: Path) -> None:
    generate_to(ctx.db, ctx.location_cache.snapshot().ordered, Plan(1, seed=2), None)
    with ctx.db.transaction() as session:
        record_id = session.scalars(select(Record.id)).one()
    awkward = "tab\there, new\nline, cr\r, back\\slash \\N, quote \" é 名前 \x01"
    rows = [{
        "id": f"bulk-{i}", "record_id": record_id, "action": "declared",
        "at": datetime(2025, 5, 6, 7, 8, 9, 123456, tzinfo=UTC), "actor_type": "system",
        "actor_id": "crvshub-generate", "actor_name": awkward, "actor_role": None,
        "office_id": None, "ip": None, "reason": awkward if i else "", "comment": "\\",
        "status_before": None, "status_after": "DECLARED", "version_before": None,
        "version_after": i, "data": {"text": awkward, "list": [1, 2.5, None, True], "n": {}},
    } for i in range(3)]
    dialect = ctx.db.engine.dialect.name
    with ctx.db.transaction() as session:
        load_rows(session, RecordAction, [encode_rows(RecordAction, rows[:2], dialect)])
        insert_rows(session, RecordAction, rows[2:])
    with ctx.db.transaction() as session:
        stored = session.scalars(select(RecordAction).where(RecordAction.id.like("bulk-%"))
                                 .order_by(RecordAction.id)).all()
        assert [{key: getattr(a, key) for key in rows[0]} for a in stored] == rows


def _index_rows(ctx: AppContext, record_id: str) -> tuple[set[Any], set[Any], dict[str, Any]]:
    with ctx.db.transaction() as session:
        persons = set(session.execute(
            select(SearchPerson.role, SearchPerson.given, SearchPerson.family,
                   SearchPerson.birth_date, SearchPerson.gender)
            .where(SearchPerson.record_id == record_id)).all())
        # The FHIR read API's postings (role "resource") hold ids derived from the record id
        # and its tracking ID: they differ between two records by construction.
        postings = set(session.execute(select(SearchTerm.term, SearchTerm.role)
                                       .where(SearchTerm.record_id == record_id,
                                              SearchTerm.role != RESOURCE_ROLE)).all())
        record = session.get(Record, record_id)
        assert record is not None
        columns = {key: getattr(record, key) for key in search_columns(record.bundle, Event.BIRTH)}
    return persons, postings, columns


def test_a_generated_record_is_indexed_like_a_created_one_and_caught_as_its_duplicate(
    ctx: AppContext,
) -> None:
    generate_to(ctx.db, ctx.location_cache.snapshot().ordered, Plan(60, seed=11), None)
    with ctx.db.transaction() as session:
        generated = next(r for r in session.scalars(
            select(Record).where(Record.event == "birth", Record.status == "REGISTERED")
            .order_by(Record.id))
            if '"mother-details"' in str(r.bundle).replace("'", '"'))
        bundle, office = copy.deepcopy(generated.bundle), generated.office_id
    new = NewRecord(Event.BIRTH, Status.DECLARED, Action.NOTIFY, office, "birth-notification",
                    "health-system")
    with ctx.db.transaction() as session:
        created = create_record(session, new, lambda _rid, _tracking: copy.deepcopy(bundle),
                                Actor("client", "tests", "Same person again", "HEALTH")).id
    persons, postings, columns = _index_rows(ctx, generated.id)
    assert {p[0] for p in persons} >= {"child", "mother", "informant"}
    assert any(term.startswith("=") for term, _ in postings)  # identifiers are postings too
    assert any(isinstance(p[3], date) for p in persons)
    assert _index_rows(ctx, created) == (persons, postings, columns)
    with ctx.db.transaction() as session:
        for record_id in (generated.id, created):
            assert session.scalar(select(SearchTerm.term).where(
                SearchTerm.record_id == record_id, SearchTerm.role == RESOURCE_ROLE).limit(1))
    with ctx.db.transaction() as session:
        flagged = session.scalars(select(RecordDuplicate.candidate_id)
                                  .where(RecordDuplicate.record_id == created)).all()
    assert generated.id in flagged


def test_workers_run_this_installation_whatever_the_working_folder(
    database_url: str, tmp_path: Path,
) -> None:
    # A folder with a `src/crvshub` of its own (another checkout): workers must not import it.
    decoy = tmp_path / "src" / "crvshub"
    decoy.mkdir(parents=True)
    (decoy / "__init__.py").write_text("raise ImportError('the wrong crvshub')\n")
    env = {**os.environ, "CRVSHUB_DATABASE_URL": database_url, "CRVSHUB_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-m", "crvshub", "generate", "--records", "30",
                           "--workers", "1"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "generated 30 records" in done.stderr
