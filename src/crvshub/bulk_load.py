"""Bulk loads into empty PostgreSQL tables: indexes dropped first and built once at the end.

Maintaining a B-tree row by row while millions of rows arrive (random UUID keys, a text key of
tens of millions of entries) costs far more than sorting each index once. For tables that are
empty, `drop_indexes` reads each secondary index and each primary key or unique constraint
that no foreign key needs from the catalogue (`pg_get_indexdef`, `pg_get_constraintdef`),
stores the definitions in `bulk_load_indexes` and drops them, in one transaction;
`build_indexes` creates them again exactly as they were (one transaction per index, which also
deletes its stored row, then one per primary key or unique constraint made of its index). A
process killed in between leaves its definitions stored: `pending` sees them and
`build_indexes` finishes the work (`crvshub migrate` does, and `crvshub generate` called from
code before anything else; every other command refuses to start meanwhile; `locked`
keeps a second load away meanwhile). Other databases: nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from crvshub.db import Base, Database

Progress = Callable[[int, int], None]  # (done, total)
BUILDERS = 2  # indexes built at once (one server process each)
MAINTENANCE_WORK_MEM = "1GB"  # per index build: sorts in memory up to this size
LOCK_KEY = 0x637276736C6F6164  # advisory lock of a bulk load ("crvsload")


class Busy(RuntimeError):
    """Another bulk load is writing to this database."""


class BulkLoadIndex(Base):
    """An index (or the constraint it backs) dropped for a bulk load and not yet built again."""

    __tablename__ = "bulk_load_indexes"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(200))
    index_def: Mapped[str] = mapped_column(Text)  # pg_get_indexdef
    constraint_def: Mapped[str | None] = mapped_column(Text)  # pg_get_constraintdef, if any


# Indexes of the tables, with the constraint each backs; an index a foreign key relies on
# (a referenced primary key) is kept.
_INDEXES = text("""
    SELECT t.relname AS table_name, i.relname AS name, pg_get_indexdef(i.oid) AS index_def,
           pg_get_constraintdef(c.oid) AS constraint_def
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.conrelid = t.oid
        AND c.contype IN ('p', 'u')
    WHERE n.nspname = current_schema() AND t.relname = ANY(:tables)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f'
                      AND f.conindid = i.oid)
    ORDER BY t.relname, i.relname
""")


@contextmanager
def locked(db: Database, *, shared: bool = False) -> Iterator[None]:
    """Hold the database's bulk-load lock (a PostgreSQL advisory lock) for the block.

    A load that drops indexes (or builds those of a killed one) holds it alone; loads that add
    rows under the indexes share it. A load that drops indexes while another writes would
    check no uniqueness for it, and a second load would take the first one's dropped indexes
    for those of a killed load and build them under its feet: it gets `Busy` instead. The lock
    goes with the connection, so a killed process leaves none behind. Other databases: no lock.
    """
    if db.engine.dialect.name != "postgresql":
        yield
        return
    kind = "_shared" if shared else ""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.scalar(text(f"SELECT pg_try_advisory_lock{kind}(:key)"), {"key": LOCK_KEY}):
            raise Busy("another `crvshub generate` is writing to this database; wait for it")
        try:
            yield
        finally:
            conn.scalar(text(f"SELECT pg_advisory_unlock{kind}(:key)"), {"key": LOCK_KEY})


def empty(db: Database, tables: Sequence[str]) -> bool:
    """Return whether every one of the tables is empty."""
    with db.reader() as session:
        return not any(session.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {table})"))  # noqa: S608
                       for table in tables)


def pending(db: Database) -> list[str]:
    """Return the names of indexes dropped by a bulk load and not built again (interrupted)."""
    if db.engine.dialect.name != "postgresql":
        return []
    with db.reader() as session:
        return list(session.scalars(text("SELECT name FROM bulk_load_indexes ORDER BY name")))


def drop_indexes(db: Database, tables: Sequence[str]) -> int:
    """Store the definitions of the tables' indexes and drop them; return how many.

    Only on PostgreSQL; the caller makes sure the tables are empty (and stay so but for its
    own load) and calls `build_indexes` afterwards, whatever happens.
    """
    if db.engine.dialect.name != "postgresql":
        return 0
    with db.transaction() as session:
        found = session.execute(_INDEXES, {"tables": list(tables)}).mappings().all()
        for row in found:
            session.add(BulkLoadIndex(**row))
        session.flush()
        for row in found:
            if row["constraint_def"] is not None:
                session.execute(text(f'ALTER TABLE {row["table_name"]} '
                                     f'DROP CONSTRAINT {row["name"]}'))
            else:
                session.execute(text(f'DROP INDEX {row["name"]}'))
    return len(found)


def _build(db: Database, name: str) -> None:
    """Build one stored index; forget it unless a constraint is still to be made of it."""
    with db.transaction() as session:
        session.execute(text(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'"))
        session.execute(text("SET LOCAL max_parallel_maintenance_workers = 0"))
        row = session.execute(
            text("SELECT index_def, constraint_def FROM bulk_load_indexes "
                 "WHERE name = :name FOR UPDATE"), {"name": name}).mappings().first()
        if row is None:  # built by another process meanwhile
            return
        if session.scalar(text("SELECT to_regclass(:name) IS NULL"), {"name": name}):
            session.execute(text(row["index_def"]))
        if row["constraint_def"] is None:
            session.execute(text("DELETE FROM bulk_load_indexes WHERE name = :name"),
                            {"name": name})


def _constrain(db: Database, name: str) -> None:
    """Make a built unique index the primary key or unique constraint it backed, and forget it.

    One at a time, after every build: adding a constraint locks its whole table, which two
    builders of indexes of one table would otherwise each wait for (a deadlock).
    """
    with db.transaction() as session:
        row = session.execute(
            text("SELECT table_name, constraint_def FROM bulk_load_indexes "
                 "WHERE name = :name FOR UPDATE"), {"name": name}).mappings().first()
        if row is None or session.scalar(text("SELECT to_regclass(:name) IS NULL"),
                                         {"name": name}):
            return  # done by another process, or its index is not built
        exists = session.scalar(text(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = :name "
            "AND conrelid = to_regclass(:table))"), {"name": name, "table": row["table_name"]})
        if not exists:
            # The index becomes the constraint (no second build); a primary key's columns
            # are NOT NULL already.
            kind = row["constraint_def"].split(" (", 1)[0]  # PRIMARY KEY or UNIQUE
            session.execute(text(f'ALTER TABLE {row["table_name"]} ADD CONSTRAINT {name} '
                                 f'{kind} USING INDEX {name}'))
        session.execute(text("DELETE FROM bulk_load_indexes WHERE name = :name"),
                        {"name": name})


def build_indexes(db: Database, progress: Progress | None = None) -> int:
    """Build every index stored by `drop_indexes` again, largest tables first; return how many.

    `BUILDERS` at once, each in a transaction of its own with a large `maintenance_work_mem`
    (one sort per index); an index whose build fails (a duplicate in a unique one) stays
    stored and the error is raised once the others are built.
    """
    if db.engine.dialect.name != "postgresql":
        return 0
    with db.reader() as session:
        names = list(session.scalars(text(
            "SELECT b.name FROM bulk_load_indexes b ORDER BY "
            "pg_relation_size(to_regclass(b.table_name)) DESC, "
            "b.constraint_def IS NULL, length(b.index_def) DESC, b.name")))
    if progress:
        progress(0, len(names))
    done = 0
    errors: list[BaseException] = []
    with ThreadPoolExecutor(BUILDERS) as builders:
        for future in [builders.submit(_build, db, name) for name in names]:
            try:
                future.result()
            except Exception as exc:
                errors.append(exc)
            done += 1
            if progress:
                progress(done, len(names))
    with db.reader() as session:
        constraints = list(session.scalars(text(
            "SELECT name FROM bulk_load_indexes WHERE constraint_def IS NOT NULL ORDER BY name")))
    for name in constraints:
        _constrain(db, name)
    if errors:
        raise errors[0]
    return done
