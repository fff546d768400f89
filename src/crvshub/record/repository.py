"""SQL for records, their action trail and workqueues."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    true,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from crvshub.db import (
    Encoded,
    encode_rows,
    insert_now,
    insert_rows,
    insert_unless_taken,
    load_rows,
    one_of,
)
from crvshub.record.domain import ReadScope, RecordFilter
from crvshub.record.models import (
    Record,
    RecordAction,
    RecordDuplicate,
    RecordVersion,
    SearchQuotaUse,
)

if TYPE_CHECKING:
    from crvshub.record.search import DateRange, RecordQuery, Scope

TRACKING_ID_ATTEMPTS = 20

SORT_COLUMNS = {
    "updated_at": Record.updated_at,
    "created_at": Record.created_at,
    "event_date": Record.event_date,
    "tracking_id": Record.tracking_id,
    "name": Record.subject_name_norm,
    "registration_number": Record.registration_number,
}


def get(session: Session, record_id: str) -> Record | None:
    """Return a record by id."""
    return session.get(Record, record_id)


def get_for_update(session: Session, record_id: str) -> Record | None:
    """Return a record locked until the transaction ends (row lock on PostgreSQL).

    SQLite already serialises writers with BEGIN IMMEDIATE, so the lock is only needed on
    PostgreSQL; the fresh read guarantees the version check sees the committed row.
    """
    query = select(Record).where(Record.id == record_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).first()


def by_tracking_id(session: Session, tracking_id: str) -> Record | None:
    """Return a record by tracking ID."""
    return session.scalars(select(Record).where(Record.tracking_id == tracking_id)).first()


class TrackingIdExhausted(RuntimeError):
    """No free tracking ID was found after many attempts (the ID space is nearly full)."""


def insert_new(session: Session, record: Record, assign: Callable[[Record], None]) -> None:
    """Insert a new record; `assign` draws its tracking ID, again whenever one is already taken.

    The unique index on the tracking ID decides (INSERT ... ON CONFLICT DO NOTHING), so two
    requests drawing the same ID at once cannot both keep it; the lookup after a refused
    insert only tells a taken tracking ID from a clash on the record id.
    """
    for _ in range(TRACKING_ID_ATTEMPTS):
        assign(record)
        if insert_unless_taken(session, record):
            return
        if not tracking_id_taken(session, record.tracking_id):
            raise RuntimeError(f"record {record.id} conflicts with a stored record")
    raise TrackingIdExhausted(f"no free tracking ID after {TRACKING_ID_ATTEMPTS} attempts")


def add_action_now(session: Session, action: RecordAction) -> None:
    """Write an audit entry at once (its id and time set by the caller)."""
    insert_now(session, action)


def tracking_id_taken(session: Session, tracking_id: str) -> bool:
    """Tell whether a tracking ID is already used."""
    return session.scalar(select(Record.id).where(Record.tracking_id == tracking_id)) is not None


def registration_number_owner(session: Session, number: str) -> str | None:
    """Return the id of the record holding a registration number, if any."""
    return session.scalar(select(Record.id).where(Record.registration_number == number))


def add(session: Session, row: Record | RecordAction) -> None:
    """Stage a new record or action row."""
    session.add(row)


def actions_by_actor(session: Session, actor_id: str, limit: int) -> Sequence[RecordAction]:
    """Return the newest actions one user or client took, newest first."""
    return session.scalars(
        select(RecordAction)
        .where(RecordAction.actor_id == actor_id)
        .order_by(RecordAction.at.desc(), RecordAction.id.desc())
        .limit(limit)
    ).all()


def history(session: Session, record_id: str) -> Sequence[RecordAction]:
    """Return every action on a record, oldest first."""
    return session.scalars(
        select(RecordAction)
        .where(RecordAction.record_id == record_id)
        .order_by(RecordAction.at, RecordAction.id)
    ).all()


def last_action(session: Session, record_id: str, names: Iterable[str]) -> RecordAction | None:
    """Return the newest action of one of the given names."""
    return session.scalars(
        select(RecordAction)
        .where(RecordAction.record_id == record_id, RecordAction.action.in_(list(names)))
        .order_by(RecordAction.at.desc(), RecordAction.id.desc())
        .limit(1)
    ).first()


def _office_filter(office_id: str | None) -> list[ColumnElement[bool]]:
    return [Record.office_id == office_id] if office_id else []


def status_counts(session: Session, office_id: str | None) -> dict[tuple[str, str], int]:
    """Return the number of records per (status, source) of an office (or of all offices)."""
    rows = session.execute(
        select(Record.status, Record.source, func.count())
        .where(*_office_filter(office_id))
        .group_by(Record.status, Record.source)
    ).all()
    return {(str(status), str(source)): int(n) for status, source, n in rows}


def queue_page(
    session: Session,
    *,
    statuses: Iterable[str],
    source: str | None,
    office_id: str | None,
    sort: str,
    offset: int,
    limit: int,
    event: str | None = None,
    event_from: date | None = None,
    event_to: date | None = None,
    place_ids: Sequence[str] | None = None,
) -> tuple[Sequence[Record], int]:
    """Return one page of a workqueue (optionally only one event, dates of the event and places)
    and the total number of records in it."""
    where = [Record.status.in_(list(statuses)), *_office_filter(office_id)]
    if source:
        where.append(Record.source == source)
    if event:
        where.append(Record.event == event)
    if event_from:
        where.append(Record.event_date >= event_from)
    if event_to:
        where.append(Record.event_date <= event_to)
    if place_ids is not None:
        where.append(Record.event_location_id.in_(list(place_ids)))
    column = SORT_COLUMNS[sort.lstrip("-")]
    order = column.desc() if sort.startswith("-") else column.asc()
    total = int(session.scalar(select(func.count()).select_from(Record).where(*where)) or 0)
    rows = session.scalars(
        select(Record).where(*where).order_by(order, Record.id).offset(offset).limit(limit)
    ).all()
    return rows, total


def _instant(value: date | datetime, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.max if end else time.min, tzinfo=UTC)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _between_instants(column: Any, span: DateRange,
                      ) -> list[ColumnElement[bool]]:
    found = []
    if span.start is not None:
        found.append(column >= _instant(span.start, end=False))
    if span.end is not None:
        found.append(column <= _instant(span.end, end=True))
    return found


def _record_level(query: RecordQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.events:
        found.append(Record.event.in_(query.events))
    if query.statuses:
        found.append(Record.status.in_(query.statuses))
    if query.event_date.start is not None:
        found.append(Record.event_date >= _day(query.event_date.start))
    if query.event_date.end is not None:
        found.append(Record.event_date <= _day(query.event_date.end))
    found += _between_instants(Record.created_at, query.declared)
    found += _between_instants(Record.registered_at, query.registered)
    if query.changed_since is not None:
        found.append(Record.updated_at >= _instant(query.changed_since, end=False))
    exact = ((Record.tracking_id, query.tracking_id),
             (Record.registration_number, query.registration_number),
             (Record.id, query.record_id), (Record.contact_number, query.contact_number),
             (Record.contact_email, query.contact_email))
    found += [column == value.strip() for column, value in exact if value and value.strip()]
    if query.composition_types:
        found.append(Record.composition_type.in_(query.composition_types))
    return found


def record_conditions(query: RecordQuery, scope: Scope) -> list[ColumnElement[bool]] | None:
    """Return the record-level SQL conditions of a search, or None if it can match nothing."""
    found = _record_level(query)
    for person in query.people:
        if person.gender and person.role in ("child", "deceased"):
            found.append(Record.subject_gender == person.gender)
    if query.office_ids is not None:
        if not query.office_ids:
            return None
        found.append(Record.office_id.in_(query.office_ids))
    if query.event_location_ids is not None:
        if not query.event_location_ids:
            return None
        found.append(Record.event_location_id.in_(query.event_location_ids))
    if query.created_by:
        found.append(Record.id.in_(select(RecordAction.record_id).where(
            RecordAction.actor_id == query.created_by, RecordAction.status_before.is_(None))))
    if scope.statuses is not None:
        found.append(Record.status.in_(sorted(scope.statuses)))
    if scope.office_ids is not None:
        found.append(Record.office_id.in_(sorted(scope.office_ids)))
    return found


def count_matching(session: Session, conditions: Sequence[ColumnElement[bool]],
                   cap: int | None = None) -> int:
    """Return how many records meet every condition, counting no further than `cap`."""
    if cap is None:
        return int(session.scalar(select(func.count(Record.id)).where(*conditions)) or 0)
    found = select(Record.id).where(*conditions).limit(cap).subquery("found")
    return int(session.scalar(select(func.count()).select_from(found)) or 0)


def matching(session: Session, conditions: Sequence[ColumnElement[bool]],
             order: Sequence[tuple[str, bool]], limit: int, offset: int) -> list[Record]:
    """Return records meeting every condition, sorted (newest first by default), one page."""
    keys: list[Any] = [SORT_COLUMNS[c].desc() if desc else SORT_COLUMNS[c].asc()
                       for c, desc in order]
    keys += [Record.created_at.desc(), Record.id.desc()]
    # The page's ids first, then its rows: the ids of the candidates skipped or sorted away
    # can come from an index alone (ix_records_event_date_search), without reading each row.
    ids = list(session.scalars(
        select(Record.id).where(*conditions).order_by(*keys).limit(limit).offset(offset)))
    found = by_ids(session, ids)
    return [found[i] for i in ids if i in found]


def use_search_quota(session: Session, client_id: str, day: date, quota: int,
                     uses: int = 1) -> int | None:
    """Count `uses` searches of a client on a day unless that passes its quota; return the count.

    One `INSERT ... ON CONFLICT DO UPDATE ... WHERE used < quota RETURNING used`: the row
    lock makes concurrent searches of several processes count one by one, and a search
    refused for the quota is not counted (None).
    """
    if quota <= 0 or uses > quota:
        return None
    builder = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    use = SearchQuotaUse
    statement = builder(use).values(client_id=client_id, day=day, used=uses).on_conflict_do_update(
        index_elements=[use.client_id, use.day], set_={"used": use.used + uses},
        where=use.used + uses <= quota,
    ).returning(use.used)
    used = session.connection().execute(statement).scalar()
    return int(used) if used is not None else None


def search_quota_used(session: Session, client_id: str, day: date) -> int:
    """Return how many searches a client made on a day."""
    used = session.scalar(select(SearchQuotaUse.used).where(
        SearchQuotaUse.client_id == client_id, SearchQuotaUse.day == day))
    return int(used or 0)


def commit_without_waiting_for_disk(session: Session) -> None:
    """Let this transaction's commit return before its WAL is flushed (PostgreSQL only).

    SQLite (WAL, synchronous=NORMAL) already commits without a flush; nothing to do there.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))


def add_actions_now(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Write several audit entries at once, in one batched INSERT (values of every column)."""
    if rows:
        session.execute(insert(RecordAction), list(rows))


def actions_of(session: Session, record_ids: Sequence[str]) -> list[RecordAction]:
    """Return every action on some records, oldest first."""
    if not record_ids:
        return []
    return list(session.scalars(
        select(RecordAction).where(RecordAction.record_id.in_(list(record_ids)))
        .order_by(RecordAction.at, RecordAction.id)))


def detach_source_client(session: Session, client_row_id: str) -> int:
    """Clear the source client of the records a client sent; return how many."""
    result = session.execute(
        update(Record).where(Record.source_client_id == client_row_id).values(source_client_id=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def count(session: Session) -> int:
    """Return the number of records."""
    return int(session.scalar(select(func.count()).select_from(Record)) or 0)


# Statuses whose records are no longer live events (an archived or sent-back record is not a
# duplicate worth flagging).
NOT_LIVE = ("ARCHIVED", "REJECTED")


def candidate_window(record_id: str, event: str, dates: Sequence[date],
                     ids: Sequence[str] | None = None) -> Subquery:
    """Return the other live records of an event on some dates, with their event columns.

    A subquery the search index joins its postings or people to (one statement however many
    records there are); read from the (event, event date, ...) index alone. With `ids`, only
    those records.
    """
    found = (select(Record.id, Record.event_date, Record.subject_gender,
                    Record.event_location_id)
             .where(Record.event == event, Record.event_date.in_(list(dates)),
                    Record.id != record_id, Record.status.not_in(NOT_LIVE)))
    if ids is not None:
        found = found.where(Record.id.in_(list(ids)))
    return found.subquery("candidates")


def unresolved_duplicates(session: Session, record_ids: Sequence[str]) -> dict[str, list[str]]:
    """Return, per record, the ids of its unresolved potential duplicates, best first."""
    found: dict[str, list[str]] = {}
    if not record_ids:
        return found
    rows = session.execute(
        select(RecordDuplicate.record_id, RecordDuplicate.candidate_id)
        .where(RecordDuplicate.record_id.in_(list(record_ids)),
               RecordDuplicate.resolution.is_(None))
        .order_by(RecordDuplicate.score.desc(), RecordDuplicate.candidate_id))
    for record_id, candidate_id in rows:
        found.setdefault(record_id, []).append(candidate_id)
    return found


def duplicates_of(session: Session, record_id: str) -> list[RecordDuplicate]:
    """Return the potential duplicates found for a record, best first."""
    return list(session.scalars(
        select(RecordDuplicate).where(RecordDuplicate.record_id == record_id)
        .order_by(RecordDuplicate.score.desc(), RecordDuplicate.candidate_id)))


def duplicate_links(session: Session, record_id: str) -> set[str]:
    """Return the records already compared with one, in either direction."""
    rows = session.execute(select(RecordDuplicate.record_id, RecordDuplicate.candidate_id).where(
        or_(RecordDuplicate.record_id == record_id, RecordDuplicate.candidate_id == record_id)))
    return {other for pair in rows for other in pair if other != record_id}


def add_duplicates(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store potential duplicates of a record, in one batched INSERT."""
    if rows:
        session.execute(insert(RecordDuplicate), list(rows))


def resolve_duplicates(session: Session, record_id: str, resolution: str) -> int:
    """Mark every unresolved potential duplicate of a record resolved; return how many."""
    result = session.execute(
        update(RecordDuplicate)
        .where(RecordDuplicate.record_id == record_id, RecordDuplicate.resolution.is_(None))
        .values(resolution=resolution))
    return int(getattr(result, "rowcount", 0) or 0)


def records_by_ids(session: Session, record_ids: Sequence[str]) -> list[Record]:
    """Return some records by id."""
    if not record_ids:
        return []
    return list(session.scalars(select(Record).where(Record.id.in_(list(record_ids)))))


def insert_many(session: Session, records: Sequence[dict[str, Any]],
                actions: Sequence[dict[str, Any]]) -> None:
    """Insert many new records and their audit entries (values of every column) in batches."""
    insert_rows(session, Record, list(records))
    insert_rows(session, RecordAction, list(actions))


@dataclass(frozen=True)
class EncodedRecords:
    """New records and their audit entries, prepared for `load_many` (see `db.encode_rows`)."""

    records: Encoded
    actions: Encoded


def encode_many(records: Sequence[dict[str, Any]], actions: Sequence[dict[str, Any]],
                dialect: str) -> EncodedRecords:
    """Prepare new records and audit entries for `load_many` (pure: runs in worker processes)."""
    return EncodedRecords(encode_rows(Record, records, dialect),
                          encode_rows(RecordAction, actions, dialect))


def load_many(session: Session, parts: Sequence[EncodedRecords]) -> None:
    """Insert records and audit entries prepared by `encode_many`: one COPY per table."""
    load_rows(session, Record, [p.records for p in parts])
    load_rows(session, RecordAction, [p.actions for p in parts])


def bundles_after(session: Session, after: str, limit: int, *, lock: bool,
                  ) -> list[tuple[str, str, datetime, dict[str, Any]]]:
    """Return (id, event, declaration time, bundle) of the next records by id (locked on
    PostgreSQL if asked)."""
    query = (select(Record.id, Record.event, Record.created_at, Record.bundle)
             .where(Record.id > after).order_by(Record.id).limit(limit))
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return [(str(i), str(e), at, dict(b)) for i, e, at, b in session.execute(query)]


def set_search_columns(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Rewrite the search columns of records (each row: "id" and the column values)."""
    if rows:
        session.execute(update(Record), list(rows))


def count_records(session: Session) -> int:
    """Return how many records there are."""
    return int(session.scalar(select(func.count()).select_from(Record)) or 0)


def matching_ids(session: Session, conditions: Sequence[ColumnElement[bool]], limit: int,
                 *, ties_by_id: bool = False) -> list[tuple[str, datetime]]:
    """Return (id, created_at) of the newest records meeting every condition (no bundles);
    records declared at the same instant in id order when `ties_by_id` (as ranking orders
    them), else in reverse id order."""
    tie = Record.id.asc() if ties_by_id else Record.id.desc()
    query = (select(Record.id, Record.created_at).where(*conditions)
             .order_by(Record.created_at.desc(), tie).limit(limit))
    return [(str(i), at) for i, at in session.execute(query)]


def flagged_ids(session: Session, conditions: Sequence[ColumnElement[bool]],
                flag: ColumnElement[bool] | None, limit: int) -> list[tuple[str, datetime, bool]]:
    """Return (id, created_at, flag) of the records meeting every condition, at most `limit`,
    in no order: with no order to keep, the database matches the records to the conditions'
    subqueries by hash rather than walking an index and probing each record. No flag: True."""
    query = select(Record.id, Record.created_at, true() if flag is None else flag).where(
        *conditions).limit(limit)
    return [(str(i), at, bool(f)) for i, at, f in session.execute(query)]


ID_CHUNK = 5000  # record ids in one IN list (SQLite allows 32,766 parameters a statement)


def created_of(session: Session, record_ids: Sequence[str],
               conditions: Sequence[ColumnElement[bool]]) -> list[tuple[str, datetime]]:
    """Return (id, created_at) of those of some records that meet every condition."""
    found: list[tuple[str, datetime]] = []
    for start in range(0, len(record_ids), ID_CHUNK):
        chunk = list(record_ids[start:start + ID_CHUNK])
        found += [(str(i), at) for i, at in session.execute(
            select(Record.id, Record.created_at).where(
                one_of(Record.id, chunk, session.get_bind().dialect.name), *conditions))]
    return found


def by_ids(session: Session, record_ids: Sequence[str]) -> dict[str, Record]:
    """Return records by id."""
    if not record_ids:
        return {}
    return {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(record_ids)))}


def by_registration_numbers(session: Session, numbers: Sequence[str],
                            statuses: Sequence[str]) -> dict[str, Record]:
    """Return the records of some registration numbers in some statuses (500 per statement)."""
    found: dict[str, Record] = {}
    unique = sorted(set(numbers))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        for record in session.scalars(select(Record).where(
                Record.registration_number.in_(chunk), Record.status.in_(statuses))):
            found[str(record.registration_number)] = record
    return found


BULK_TABLES = ("records", "record_actions")  # what a bulk load fills (`Database.settle`)



def add_version(session: Session, record: Record, replaced_at: datetime) -> None:
    """Keep the record's current bundle as a former version (before a change replaces it)."""
    session.connection().execute(insert(RecordVersion), [{
        "record_id": record.id, "version": record.version, "status": record.status,
        "bundle": record.bundle, "updated_at": record.updated_at, "replaced_at": replaced_at}])


def former_versions(session: Session, record_id: str, below: int | None,
                    limit: int) -> list[RecordVersion]:
    """Return former versions of a record, newest first, below a version number."""
    query = select(RecordVersion).where(RecordVersion.record_id == record_id)
    if below is not None:
        query = query.where(RecordVersion.version < below)
    return list(session.scalars(query.order_by(RecordVersion.version.desc()).limit(limit)))


def former_version(session: Session, record_id: str, version: int) -> RecordVersion | None:
    """Return one former version of a record."""
    return session.get(RecordVersion, (record_id, version))


def was_retrieved_by(session: Session, record_id: str, actor_id: str) -> bool:
    """Tell whether a search gave this record to this actor (a `retrieved` audit entry)."""
    query = select(RecordAction.id).where(
        RecordAction.record_id == record_id, RecordAction.action == "retrieved",
        RecordAction.actor_id == actor_id).limit(1)
    return session.scalar(query) is not None


def _read_scope(scope: ReadScope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if scope.record_ids is not None:
        conditions.append(Record.id.in_(sorted(scope.record_ids)))
    if scope.source_client_id is not None:
        conditions.append(Record.source_client_id == scope.source_client_id)
    if scope.statuses is not None:
        conditions.append(Record.status.in_(sorted(scope.statuses)))
    if scope.office_ids is not None:
        conditions.append(Record.office_id.in_(sorted(scope.office_ids)))
    if scope.retrieved_by is not None:
        conditions.append(exists(select(RecordAction.id).where(
            RecordAction.record_id == Record.id, RecordAction.action == "retrieved",
            RecordAction.actor_id == scope.retrieved_by)))
    return conditions


def ids_with_identifier(session: Session, values: Sequence[str],
                        holders: Sequence[Select[str]]) -> set[str]:
    """Return ids of records whose tracking ID, registration number or an indexed identifier
    (`holders`: record-id queries of the search index) is one of these values."""
    own = select(Record.id).where(or_(
        Record.tracking_id.in_(list(values)), Record.registration_number.in_(list(values))))
    # One statement (one round trip) for every place the value may be found.
    return set(session.scalars(union(own, *holders) if holders else own))


def readable_page(session: Session, scope: ReadScope, wanted: RecordFilter,
                  after: tuple[datetime, str] | None, limit: int) -> list[Record]:
    """Return records a reader may see that meet a filter, by (updated_at, id), from `after`
    (inclusive: the caller skips what it already gave)."""
    conditions = _read_scope(scope)
    if wanted.record_ids is not None:
        conditions.append(Record.id.in_(sorted(wanted.record_ids)))
    if wanted.statuses is not None:
        conditions.append(Record.status.in_(sorted(wanted.statuses)))
    for op, moment in wanted.updated:
        conditions.append(Record.updated_at >= moment if op == ">=" else
                          Record.updated_at < moment)
    if after is not None:
        conditions.append(or_(Record.updated_at > after[0],
                              and_(Record.updated_at == after[0], Record.id >= after[1])))
    query = (select(Record).where(*conditions)
             .order_by(Record.updated_at, Record.id).limit(limit))
    return list(session.scalars(query))
