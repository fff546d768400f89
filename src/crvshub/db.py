"""Database engine, sessions, shared column types and the per-request transaction."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import orjson
import psycopg
from psycopg.adapt import Dumper
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Engine,
    Insert,
    MetaData,
    Table,
    create_engine,
    event,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import (
    DeclarativeBase,
    InstrumentedAttribute,
    Session,
    make_transient_to_detached,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator, UserDefinedType

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every CRVS Hub table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """Return a new random resource id (a UUID string)."""
    return str(uuid.uuid4())


@functools.cache
def _insert_of(table: Table) -> Insert:
    return insert(table)


@functools.cache
def _insert_ignoring_conflicts(dialect: str, table: Table) -> Insert:
    builder = pg_insert if dialect == "postgresql" else sqlite_insert
    return builder(table).on_conflict_do_nothing().returning(*table.primary_key.columns)


def _row_values(row: Base) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def insert_now(session: Session, row: Base) -> None:
    """Insert an ORM object's row at once, with one cached INSERT and no unit of work.

    For rows written on hot paths (audit entries, events) where the flush machinery costs more
    than the statement. Every column value, primary key included, must already be set; the
    object stays outside the session.
    """
    session.connection().execute(_insert_of(row.__table__), _row_values(row))


# Rows prepared for `load_rows`: PostgreSQL COPY text (bytes), or the rows themselves.
Encoded = bytes | list[dict[str, Any]]
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_NULL = "\\N"


def _copy_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).isoformat()


_COPY_TEXT: dict[type, Callable[[Any], str]] = {
    str: lambda v: v.translate(_COPY_ESCAPES),
    int: str,
    float: repr,
    bool: lambda v: "t" if v else "f",
    datetime: _copy_datetime,
    date: date.isoformat,
}


def _copy_field(value: Any) -> str:
    render = _COPY_TEXT.get(type(value))
    if render is not None:
        return render(value)
    for kind, render in _COPY_TEXT.items():  # a subclass (a str enum, say): its base's text
        if isinstance(value, kind) and kind is not int:
            return render(value)
    if isinstance(value, int):
        return str(int(value))
    raise TypeError(f"no COPY text for {type(value).__name__}")


def encode_rows(model: type[Base], rows: Sequence[dict[str, Any]], dialect: str) -> Encoded:
    """Prepare new rows (values of every column) for `load_rows`, possibly in another process.

    For PostgreSQL: the text of a `COPY ... FROM STDIN` (the slow part of a bulk load is this
    formatting, which a worker process can do); for other databases the rows as they are.
    """
    if dialect != "postgresql":
        return list(rows)
    table = model.__table__
    assert isinstance(table, Table)
    names = [c.name for c in table.columns]
    as_json = {c.name for c in table.columns if isinstance(c.type, JSON)}
    escapes = _COPY_ESCAPES
    lines = []
    for row in rows:
        fields = []
        for name in names:
            value = row[name]
            if value is None:
                fields.append(_COPY_NULL)
            elif name in as_json:
                # JSON text holds no raw tab, newline or carriage return: only backslashes.
                fields.append(_json_dumps(value).replace("\\", "\\\\"))
            elif type(value) is str:
                needs = "\\" in value or "\t" in value or "\n" in value or "\r" in value
                fields.append(value.translate(escapes) if needs else value)
            else:
                fields.append(_copy_field(value))
        lines.append("\t".join(fields))
    return ("\n".join(lines) + "\n").encode() if lines else b""


def relax_for_bulk_load(session: Session) -> None:
    """Make the session's transaction a faster bulk load of rows consistent by construction.

    On PostgreSQL: commits do not wait for the disk (a crash loses the last batches, never
    half of one), and, when the role may (a superuser, as `pg_restore --disable-triggers`
    needs), foreign keys are not checked row by row: the caller guarantees them. Elsewhere
    nothing changes.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("SET LOCAL synchronous_commit = off"))
    if session.scalar(text("SELECT current_setting('is_superuser')")) == "on":
        session.execute(text("SET LOCAL session_replication_role = replica"))


def load_rows(session: Session, model: type[Base], parts: Sequence[Encoded]) -> None:
    """Insert rows prepared by `encode_rows` (for this session's database), as fast as it allows.

    PostgreSQL gets one `COPY ... FROM STDIN` (several times faster than batched INSERTs);
    SQLite one executemany of a prepared INSERT. For bulk loads of rows that cannot conflict.
    """
    table = model.__table__
    assert isinstance(table, Table)
    if session.get_bind().dialect.name != "postgresql":
        rows = [row for part in parts for row in part if isinstance(row, dict)]
        if rows:
            session.connection().execute(insert(model), rows)
        return
    data = [part for part in parts if isinstance(part, bytes) and part]
    if not data:
        return
    names = ", ".join(c.name for c in table.columns)
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for block in data:
            copy.write(block)


def insert_rows(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert many new rows (values of every column) as fast as the database allows.

    See `load_rows`; for bulk loads of rows that cannot conflict.
    """
    if rows:
        dialect = session.get_bind().dialect.name
        load_rows(session, model, [encode_rows(model, rows, dialect)])


def insert_unless_taken(session: Session, row: Base) -> bool:
    """Insert an ORM object's row unless a unique value is already taken; True if inserted.

    One `INSERT ... ON CONFLICT DO NOTHING RETURNING` (cached per table) replaces a savepoint,
    an insert and a release; the inserted object joins the session as persistent.
    """
    dialect = session.get_bind().dialect.name
    statement = _insert_ignoring_conflicts(dialect, row.__table__)
    if session.connection().execute(statement, _row_values(row)).first() is None:
        return False
    make_transient_to_detached(row)
    session.add(row)
    return True


ARRAY_FROM = 256  # values from which `one_of` passes a list as one array on PostgreSQL


class _Texts(list[str]):
    """A list of strings bound as one PostgreSQL `varchar[]` parameter (see `TextArray`)."""


class _TextsDumper(Dumper):
    """Write a `_Texts` as an array literal in one join.

    The driver's own list dumper escapes element by element through regular expressions: for
    the thousands of name keys a search sends, that was 10 ms of the server's time a search
    (2,000 keys: 12 ms a statement, 2.7 ms with this dumper, round trip included).
    """

    oid = psycopg.adapters.types["varchar"].array_oid

    def dump(self, obj: list[str]) -> bytes:
        if any('"' in value or "\\" in value for value in obj):
            obj = [value.replace("\\", "\\\\").replace('"', '\\"') for value in obj]
        body = '","'.join(obj)
        encoding = self.connection.info.encoding if self.connection else "utf-8"
        return ('{"' + body + '"}' if obj else "{}").encode(encoding)


psycopg.adapters.register_dumper(_Texts, _TextsDumper)


class TextArray(UserDefinedType[list[str]]):
    """A list of strings as one `varchar[]` parameter (PostgreSQL), dumped in one join."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        return "VARCHAR[]"

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        return lambda value: None if value is None else _Texts(value)


def text_array(values: Sequence[str]) -> ColumnElement[list[str]]:
    """Return some strings as one bound array (PostgreSQL only)."""
    return literal(list(values), TextArray())


def one_of(column: ColumnElement[str] | InstrumentedAttribute[str], values: Sequence[str],
           dialect: str) -> ColumnElement[bool]:
    """Return `column IN values`, for lists of any length.

    On PostgreSQL the values travel as one array parameter, unnested in a subquery: a long
    `IN` list is one bound parameter per value, which the driver splits out of the SQL text
    and the planner estimates value by value (thousands of name keys or record ids: hundreds
    of milliseconds before the first row); the array is planned as one semi-join. A short list
    (at most `ARRAY_FROM` values) stays an `IN` list: the planner then knows from its statistics
    how many rows the values have (an array's are guessed: a one-word name's 28 variants,
    56,332 postings, were planned as 93 rows, and an office's records probed 16,709 times
    instead of matched by hash).
    """
    if dialect != "postgresql" or len(values) <= ARRAY_FROM:
        return column.in_(list(values))
    wanted = func.unnest(text_array(values)).table_valued("value").render_derived(name="one_of")
    return column.in_(select(wanted.c.value))


def _json_dumps(value: Any) -> str:
    # FHIR bundles are large: orjson serialises them several times faster than the standard json.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# Execution option of a transaction that only reads (see `Database.read_sessionmaker`).
READS_ONLY = "crvshub_reads_only"


def _sqlite_begin(conn: Any) -> None:
    # Take the write lock at BEGIN so concurrent writers queue instead of failing mid-way;
    # a transaction that only reads takes none, and readers never wait for writers (WAL).
    if conn.get_execution_options().get(READS_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")




# A pooled connection idle for longer than this is checked with a ping before it is lent out.
# Busy connections are not pinged: under load that saves a round trip per request, and a
# connection that breaks mid-request (database restart) makes that request a 503 the caller
# retries, while the pool is refilled with fresh connections.
IDLE_PING_SECONDS = 10.0


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    idle = time.monotonic() - record.info.get("checked_in_at", 0.0)
    if idle < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as exc:
        # The pool discards this connection and lends out (or opens) another one.
        raise DisconnectionError(str(exc)) from exc


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create an engine with the pragmas and pool settings each backend needs."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
            json_serializer=_json_dumps,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800,
        json_serializer=_json_dumps,
    )
    event.listen(engine, "connect", _note_checkin)  # a new connection needs no ping
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


class Database:
    """An engine with its session factory."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # Sessions that only read. On SQLite every other transaction takes the database's
        # single write lock when it begins, so that writers queue instead of failing half-way;
        # a search holding it for its whole query would make every other request wait. These
        # take no lock and see one snapshot; they must not write (SQLite refuses the upgrade
        # when a writer committed meanwhile) and are rolled back. On PostgreSQL: the same.
        self.read_sessionmaker = sessionmaker(
            self.engine.execution_options(**{READS_ONLY: True}), expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Open a session, commit on success and roll back on any error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """Open a session that only reads; it is rolled back at the end."""
        session = self.read_sessionmaker()
        try:
            yield session
        finally:
            session.close()

    def settle(self, tables: Sequence[str]) -> None:
        """Refresh tables after a bulk load: planner statistics, and on PostgreSQL the
        visibility map too (VACUUM), so that index-only scans skip the table (counts of a
        workqueue, name postings). Runs outside any transaction, as VACUUM must."""
        postgresql = self.engine.dialect.name == "postgresql"
        verb = "VACUUM (ANALYZE)" if postgresql else "ANALYZE"
        # SQLite keeps its statistics in a table of its own: written in a transaction that
        # commits (in autocommit mode they were rolled back with the transaction the
        # connection's BEGIN opened, and the planner never had any).
        with (self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
              if postgresql else self.engine.begin()) as conn:
            for table in tables:
                conn.execute(text(f"{verb} {table}"))

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
