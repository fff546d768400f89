"""Fill a database with a generated population: records, audit entries and their index.

Offices and health facilities come from the country's locations; events from
`synthetic.population`. Records are drawn in units of `UNIT`, each from a random source of
its own (the same seed gives the same records however many processes share the work), built
by worker processes exactly as the creation path would build them (`search_columns`,
`index_entry`) and encoded there for the database (PostgreSQL COPY text). This process only
streams the encoded rows, in batches of one committed transaction each, so memory stays
constant whatever the number of records. Generated records emit no webhooks and no events:
they describe the past, nobody is to be told about them.

Into an empty PostgreSQL database the tables filled row by row lose their indexes first and
get them back, built once each, at the end (`crvshub.bulk_load`): several times less work for
the server than keeping tens of millions of index entries in order one row at a time.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import random
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from crvshub import bulk_load
from crvshub.db import Database, relax_for_bulk_load
from crvshub.location.domain import LocationType, LocationView
from crvshub.record import repository as records
from crvshub.search import repository as index
from crvshub.synthetic.population import Place, declarations
from crvshub.synthetic.records import Rows, build, label, tracking_id

Progress = Callable[[int, int], None]  # (done, total)
UNIT = 1000  # records drawn from one random source (see `unit_rows`)
WRITERS = 2  # batches written at once on PostgreSQL (see `generate`)
DEATH_SHARE = 0.2
HOME_BIRTHS = 0.1  # events with no health facility (at home, elsewhere)
# Tables whose indexes are dropped for a load into an empty database (`crvshub.bulk_load`).
INDEXED_IN_BULK = records.BULK_TABLES + index.POSTING_TABLES


class NoOffices(ValueError):
    """The database has no registration office to generate records for (run `crvshub seed`)."""


class SeedTaken(ValueError):
    """The records of a seed are already in the database: the same seed gives the same ids."""


def check_seed(db: Database, seed: int) -> None:
    """Raise `SeedTaken` when the first record of a seed (number 0, a birth or a death) is in
    the database already."""
    with db.transaction() as session:
        if any(records.tracking_id_taken(session, tracking_id(event, 0, seed))
               for event in ("birth", "death")):
            raise SeedTaken(f"the records of seed {seed} are already in this database "
                            "(the same seed gives the same records): add more with another "
                            "--seed")


@dataclass(frozen=True)
class Plan:
    """What to generate."""

    records: int
    seed: int = 1
    duplicate_share: float = 0.02
    batch: int = 5000  # records per committed transaction
    workers: int = 0  # processes generating records (0: generate in the calling process)


def places_of(locations: Sequence[LocationView], seed: int) -> list[Place]:
    """Return the places of events: each facility with an office of its area, and offices."""
    offices = [v for v in locations if v.type == LocationType.CRVS_OFFICE and v.status == "active"]
    if not offices:
        raise NoOffices("no registration office: load the country first (crvshub seed)")
    by_area: dict[str | None, list[str]] = {}
    for office in offices:
        by_area.setdefault(office.part_of_id, []).append(office.id)
    rnd = random.Random(seed)  # noqa: S311 (reproducible test data)
    found = []
    for facility in (v for v in locations if v.type == LocationType.HEALTH_FACILITY):
        nearby = by_area.get(facility.part_of_id) or [rnd.choice(offices).id]
        found.append(Place(facility.id, rnd.choice(nearby)))
    homes = max(1, int(len(found) * HOME_BIRTHS))
    found += [Place(None, rnd.choice(offices).id) for _ in range(homes)]
    return found


@dataclass(frozen=True)
class Part:
    """One unit of records, generated and encoded (in a worker process) for the database."""

    count: int
    records: records.EncodedRecords
    index: index.EncodedEntries
    labels: list[str]  # JSON lines of the planted duplicates


def unit_seed(seed: int, unit: int) -> int:
    """Return the seed of one unit of records (independent of every other unit)."""
    digest = hashlib.sha256(f"crvshub-generate/{seed}/{unit}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def unit_rows(plan: Plan, places: Sequence[Place], now: datetime, unit: int,
              ) -> Iterator[tuple[Rows, dict[str, Any] | None]]:
    """Yield the rows (and duplicate label) of the records of one unit.

    Records are numbered from 0; unit u holds records u * UNIT to (u + 1) * UNIT - 1 of the
    plan, drawn from a random source of their own: the same seed gives the same records
    however many processes share the work. A fifth of each unit are deaths.
    """
    first = unit * UNIT
    count = min(UNIT, plan.records - first)
    deaths = round(count * DEATH_SHARE)
    useed = unit_seed(plan.seed, unit)
    events = declarations(useed, places, count - deaths, deaths, plan.duplicate_share,
                          first_key=first)
    rnd = random.Random(useed * 31 + 7)  # noqa: S311 (reproducible test data)
    for number, gen in enumerate(events, start=first):
        yield build(gen, number, plan.seed, rnd, now), label(gen, plan.seed)


def make_part(plan: Plan, places: Sequence[Place], now: datetime, unit: int, dialect: str,
              ) -> Part:
    """Generate and encode one unit of records (pure: runs in worker processes)."""
    rows, labels = [], []
    for row, line in unit_rows(plan, places, now, unit):
        rows.append(row)
        if line is not None:
            labels.append(json.dumps(line))
    return Part(len(rows),
                records.encode_many([r.record for r in rows], [r.action for r in rows], dialect),
                index.encode_entries([(r.record["id"], r.record["created_at"], r.entry)
                                     for r in rows], dialect), labels)


def _parts(plan: Plan, places: Sequence[Place], now: datetime, dialect: str,
           ) -> Iterator[Part]:
    """Yield the parts of a plan in order, made by `plan.workers` processes (0: this one)."""
    units = range(math.ceil(plan.records / UNIT))
    if plan.workers <= 0:
        for unit in units:
            yield make_part(plan, places, now, unit, dialect)
        return
    # Spawned, not forked: a forked child would share this process's database connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(plan.workers, mp_context=context) as pool:
        pending: deque[Future[Part]] = deque()
        for unit in units:
            pending.append(pool.submit(make_part, plan, places, now, unit, dialect))
            if len(pending) > 2 * plan.workers:  # bounded memory: a few parts ahead
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _write(db: Database, parts: list[Part], words: dict[str, tuple[str, str]]) -> int:
    with db.transaction() as session:
        relax_for_bulk_load(session)
        records.load_many(session, [p.records for p in parts])
        index.load_entries(session, [p.index for p in parts], words)
    return sum(p.count for p in parts)


def _batches(plan: Plan, parts: Iterator[Part], labels: IO[str] | None) -> Iterator[list[Part]]:
    batch: list[Part] = []
    for part in parts:
        batch.append(part)
        if labels is not None:
            labels.writelines(line + "\n" for line in part.labels)
        if sum(p.count for p in batch) >= plan.batch:
            yield batch
            batch = []
    if batch:
        yield batch


def _load(db: Database, plan: Plan, places: Sequence[Place], labels: IO[str] | None,
          progress: Progress | None) -> int:
    """Write the records of a plan; on PostgreSQL two batches at once, by two connections
    (two server processes): the server's work on a COPY is the slowest single step. Batches
    never conflict: their records differ, and each new vocabulary term goes to one."""
    now = datetime.now(UTC)
    dialect = db.engine.dialect.name
    writers_count = WRITERS if dialect == "postgresql" else 1
    known: set[str] = set()
    done = 0
    writing: deque[Future[int]] = deque()
    with ThreadPoolExecutor(writers_count) as writers:
        for batch in _batches(plan, _parts(plan, places, now, dialect), labels):
            words = index.new_words([p.index for p in batch], known)
            writing.append(writers.submit(_write, db, batch, words))
            while len(writing) > writers_count or (writing and writing[0].done()):
                done += writing.popleft().result()
                if progress:
                    progress(done, plan.records)
        while writing:
            done += writing.popleft().result()
            if progress:
                progress(done, plan.records)
    return done


def generate(db: Database, locations: Sequence[LocationView], plan: Plan,
             labels: IO[str] | None = None, progress: Progress | None = None,
             indexes: Progress | None = None) -> int:
    """Generate and store the records of a plan; return how many were written.

    `progress` follows the records written, `indexes` the indexes built at the end of a load
    into an empty PostgreSQL database (or left to build by an interrupted one, first).
    Into empty tables on PostgreSQL, their indexes are dropped before the load and built again
    after it, even when it fails or is interrupted (Ctrl-C); a process killed meanwhile leaves
    them to the next run, which builds them before anything else. Two runs at once on one
    PostgreSQL database while one of them drops indexes: the other raises `bulk_load.Busy`.
    """
    places = places_of(locations, plan.seed)
    if db.engine.dialect.name != "postgresql":
        return _add(db, plan, places, labels, progress)
    with bulk_load.locked(db, shared=True):
        if not bulk_load.pending(db) and not bulk_load.empty(db, INDEXED_IN_BULK):
            return _add(db, plan, places, labels, progress)  # rows under the indexes
    with bulk_load.locked(db):
        if bulk_load.pending(db):  # a load killed before it built its indexes again
            bulk_load.build_indexes(db, indexes)
        if not bulk_load.empty(db, INDEXED_IN_BULK):
            return _add(db, plan, places, labels, progress)
        bulk_load.drop_indexes(db, INDEXED_IN_BULK)
        try:
            done = _load(db, plan, places, labels, progress)
            # Before the indexes: VACUUM then has only the tables to visit, and building an
            # index changes no table page (the visibility map stays set).
            db.settle(records.BULK_TABLES + index.BULK_TABLES)
        finally:
            bulk_load.build_indexes(db, indexes)
        return done


def _add(db: Database, plan: Plan, places: Sequence[Place], labels: IO[str] | None,
         progress: Progress | None) -> int:
    """Write the records of a plan under the tables' indexes (a database with records, SQLite)."""
    check_seed(db, plan.seed)  # (an empty database holds no seed: only here)
    done = _load(db, plan, places, labels, progress)
    db.settle(records.BULK_TABLES + index.BULK_TABLES)  # new sizes, visible pages
    return done


def generate_to(db: Database, locations: Sequence[LocationView], plan: Plan,
                labels: Path | None, progress: Progress | None = None,
                indexes: Progress | None = None) -> int:
    """Generate a plan, writing the duplicate labels to a file when one is named."""
    if labels is None:
        return generate(db, locations, plan, None, progress, indexes)
    with labels.open("w", encoding="utf-8") as out:
        return generate(db, locations, plan, out, progress, indexes)
