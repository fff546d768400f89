"""All SQL of statistics and exports.

The record tables belong to `record` and `search`; they are read here as plain tables by
name (`table()`), never through those features' models, like webhook reads `clients`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    Text,
    and_,
    case,
    cast,
    column,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from crvshub.db import JSONType, UTCDateTime
from crvshub.statistics.domain import REGISTERED_STATUSES
from crvshub.statistics.models import BacklogCount, ExportJob, MonthlyCount, StatisticsState

RECORDS = table(
    "records",
    column("id", String), column("tracking_id", String), column("event", String),
    column("status", String), column("office_id", String), column("bundle", JSONType),
    column("registration_number", String), column("subject_gender", String),
    column("event_date", Date), column("event_location_id", String),
    column("created_at", UTCDateTime()), column("updated_at", UTCDateTime()),
    column("registered_at", UTCDateTime()), column("source", String),
)
PERSONS = table("search_persons", column("record_id", String), column("role", String),
                column("birth_date", Date))
MOTHERS = PERSONS.alias("mothers")
Row = tuple[Any, ...]


def _pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _utc(session: Session, value: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.timezone("UTC", value) if _pg(session) else value


def month_key(session: Session) -> ColumnElement[Any]:
    """Return the expression 'YYYY-MM' of the registration date (UTC)."""
    at = RECORDS.c.registered_at
    if _pg(session):
        return func.to_char(_utc(session, at), "YYYY-MM")
    return func.strftime("%Y-%m", at)


def days_to_registration(session: Session) -> ColumnElement[Any]:
    """Return the expression: whole days from the event date to the registration date (UTC)."""
    r = RECORDS.c
    if _pg(session):
        return cast(cast(_utc(session, r.registered_at), Date) - r.event_date, Integer)
    return cast(func.julianday(func.date(r.registered_at)) - func.julianday(r.event_date), Integer)


def ttr_group(session: Session) -> ColumnElement[Any]:
    """Return the time-to-registration group as SQL (edges of domain.time_to_registration)."""
    days = days_to_registration(session)
    return case(
        (days.is_(None), "unknown"), (days < 0, "unknown"), (days <= 30, "0-30-days"),
        (days <= 90, "31-90-days"), (days <= 365, "91-365-days"),
        (days <= 5 * 365, "1-5-years"), else_="over-5-years")


def mother_age(session: Session) -> ColumnElement[Any]:
    """Return the expression: event year minus the mother's birth year (None if unknown)."""
    if _pg(session):
        return cast(func.extract("year", RECORDS.c.event_date)
                    - func.extract("year", MOTHERS.c.birth_date), Integer)
    return (cast(func.strftime("%Y", RECORDS.c.event_date), Integer)
            - cast(func.strftime("%Y", MOTHERS.c.birth_date), Integer))


def dimension_value(session: Session, dimension: str) -> tuple[ColumnElement[Any], bool]:
    """Return a stored dimension's value as text ('' when unknown) and whether mothers join."""
    if dimension == "sex":
        value: ColumnElement[Any] = RECORDS.c.subject_gender
    elif dimension == "mother-age":
        value = mother_age_group(session)
    elif dimension == "ttr":
        value = ttr_group(session)
    else:  # "month": the month is the key, no value
        return literal(""), False
    return func.coalesce(value, ""), dimension == "mother-age"


def _in_ranges(ranges: Sequence[tuple[datetime, datetime]]) -> ColumnElement[bool]:
    at = RECORDS.c.registered_at
    return or_(*[and_(at >= start, at < end) for start, end in ranges])


def _counting(session: Session, dimension: str, event: str | None,
              ranges: Sequence[tuple[datetime, datetime]] | None) -> Any:
    """Return the SELECT of registrations by (month, event, office, event place, value)."""
    r = RECORDS.c
    value, with_mother = dimension_value(session, dimension)
    source: Any = RECORDS
    if with_mother:
        source = RECORDS.outerjoin(MOTHERS, and_(MOTHERS.c.record_id == r.id,
                                                 MOTHERS.c.role == "mother"))
    conditions = [r.status.in_(REGISTERED_STATUSES),
                  r.registered_at.is_not(None) if ranges is None else _in_ranges(ranges)]
    if event:
        conditions.append(r.event == event)
    month, place = month_key(session), func.coalesce(r.event_location_id, "")
    group = [month, r.event, r.office_id, place] + ([value] if dimension != "month" else [])
    return (select(month, literal(dimension), r.event, r.office_id, place, value, func.count())
            .select_from(source).where(*conditions).group_by(*group))


def mother_age_group(session: Session) -> ColumnElement[Any]:
    """Return the mother's age group as SQL (the groups of domain.mother_age_group)."""
    age = mother_age(session)
    groups = [(age < 15, "under-15"), *[(age < low + 5, f"{low}-{low + 4}")
                                        for low in range(15, 45, 5)]]
    return case((age.is_(None), "unknown"), (age < 8, "unknown"), (age > 70, "unknown"),
                *groups, else_="45-and-over")


def registration_counts(session: Session, dimension: str, event: str | None,
                        ranges: Sequence[tuple[datetime, datetime]]) -> list[Row]:
    """Count registrations in date ranges by (event, office, event place, month, value)."""
    if not ranges:
        return []
    query = _counting(session, dimension, event, ranges)
    return [(ev, office, place, month, value, count)
            for month, _dim, ev, office, place, value, count in session.execute(query)]


def monthly_counts(session: Session, dimension: str, event: str | None,
                   months: Sequence[str], *, by_month: bool) -> list[Row]:
    """Read the kept counts of whole months, in the shape of `registration_counts`.

    Without `by_month` the months are summed in SQL (month ""): twelve times fewer rows.
    """
    if not months:
        return []
    m = MonthlyCount
    month: Any = m.month if by_month else literal("")
    keys = [m.event, m.office_id, m.event_location_id, m.value]
    query = (select(*keys[:3], month, m.value, func.sum(m.count))
             .where(m.dimension == dimension, m.month.in_(months))
             .group_by(*keys, *([m.month] if by_month else [])))
    if event:
        query = query.where(m.event == event)
    return [tuple(row) for row in session.execute(query)]


def changed_months(session: Session, since: datetime, start: datetime,
                   end: datetime) -> set[str]:
    """Return the registration months in [start, end) of records changed after an instant."""
    r = RECORDS.c
    query = (select(month_key(session)).distinct()
             .where(r.updated_at > since, r.registered_at >= start, r.registered_at < end))
    return {str(month) for month in session.execute(query).scalars()}


def changed_months_all(session: Session, since: datetime) -> set[str]:
    """Return the registration months of every record changed after an instant."""
    r = RECORDS.c
    query = (select(month_key(session)).distinct()
             .where(r.updated_at > since, r.registered_at.is_not(None)))
    return {str(month) for month in session.execute(query).scalars()}


def rebuild_months(session: Session, dimensions: Sequence[str],
                   ranges: Sequence[tuple[datetime, datetime]] | None,
                   months: Sequence[str] | None) -> None:
    """Recount months (all of them when `months` is None) into the kept monthly counts."""
    m = MonthlyCount
    gone = delete(m) if months is None else delete(m).where(m.month.in_(months))
    session.execute(gone)
    columns = [m.month, m.dimension, m.event, m.office_id, m.event_location_id, m.value,
               m.count]
    for dimension in dimensions:
        session.execute(insert(m).from_select(
            [c.key for c in columns], _counting(session, dimension, None, ranges)))


def rebuild_years(session: Session, years: Sequence[str] | None) -> None:
    """Sum the kept months of years (all when None) into yearly rows (`month` = "YYYY")."""
    m = MonthlyCount
    year = func.substr(m.month, 1, 4)
    source = select(year, m.dimension, m.event, m.office_id, m.event_location_id, m.value,
                    func.sum(m.count)).where(func.length(m.month) == 7)
    if years is not None:
        session.execute(delete(m).where(m.month.in_(years)))
        source = source.where(year.in_(years))
    source = source.group_by(year, m.dimension, m.event, m.office_id, m.event_location_id,
                             m.value)
    columns = ["month", "dimension", "event", "office_id", "event_location_id", "value",
               "count"]
    session.execute(insert(m).from_select(columns, source))


def aggregate_state(session: Session, *, lock: bool = False) -> StatisticsState | None:
    """Return the state of the kept monthly counts (None before the first refresh)."""
    query = select(StatisticsState).where(StatisticsState.name == "monthly")
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def save_aggregate_state(session: Session, watermark: datetime, full_at: datetime | None,
                         ) -> None:
    """Record how far the monthly counts are true (and when they were last rebuilt whole)."""
    state = aggregate_state(session)
    if state is None:
        state = StatisticsState(name="monthly")
        session.add(state)
    state.watermark = watermark
    if full_at is not None:
        state.refreshed_at = full_at
    session.flush()


def backlog(session: Session, statuses: Sequence[str]) -> Sequence[Row]:
    """Return (office, status, source, count, oldest creation) of records waiting in queues."""
    r = RECORDS.c
    query = (select(r.office_id, r.status, r.source, func.count(), func.min(r.created_at))
             .where(r.status.in_(statuses)).group_by(r.office_id, r.status, r.source))
    return [tuple(row) for row in session.execute(query)]


def rebuild_backlog(session: Session, statuses: Sequence[str]) -> None:
    """Recount the kept backlog: records waiting by office, status and source."""
    r, b = RECORDS.c, BacklogCount
    session.execute(delete(b))
    counted = (select(func.coalesce(r.office_id, ""), r.status, func.coalesce(r.source, ""),
                      func.count(), func.min(r.created_at))
               .where(r.status.in_(statuses)).group_by(r.office_id, r.status, r.source))
    session.execute(insert(b).from_select(
        ["office_id", "status", "source", "count", "oldest"], counted))


def kept_backlog(session: Session) -> Sequence[Row]:
    """Return the kept backlog in the shape of `backlog`."""
    b = BacklogCount
    query = select(b.office_id, b.status, b.source, b.count, b.oldest)
    return [(office or None, status, source or None, count, oldest)
            for office, status, source, count, oldest in session.execute(query)]


def _export_filter(since: datetime | None) -> list[ColumnElement[bool]]:
    return [RECORDS.c.updated_at >= since] if since is not None else []


def count_for_export(session: Session, since: datetime | None) -> int:
    """Return how many records an export will read."""
    query = select(func.count()).select_from(RECORDS).where(*_export_filter(since))
    return int(session.execute(query).scalar_one())


def export_batch(session: Session, after: str, since: datetime | None, limit: int,
                 *, with_bundle: bool) -> Sequence[Row]:
    """Return the next records after an id (keyset order by id).

    With the bundle (NDJSON) as JSON text, which the caller parses with orjson, several times
    faster than the driver's decoding, and without the mother's birth date (None), which only
    CSV needs: the join would cost a lookup in the index of people per record.
    """
    r = RECORDS.c
    wanted: list[Any] = [r.id, r.tracking_id, r.event, r.status, r.registration_number,
                         r.office_id, r.event_location_id, r.event_date, r.subject_gender,
                         r.created_at, r.registered_at, r.updated_at]
    source: Any = RECORDS
    if with_bundle:
        wanted += [null().label("mother_birth_date"), cast(r.bundle, Text)]
    else:
        wanted.append(MOTHERS.c.birth_date)
        # The bound on the mothers' side too: without it PostgreSQL's merge join reads the
        # index of people from its start at every batch (quadratic over an export).
        source = RECORDS.outerjoin(MOTHERS, and_(MOTHERS.c.record_id == r.id,
                                                 MOTHERS.c.role == "mother",
                                                 MOTHERS.c.record_id > after))
    query = (select(*wanted).select_from(source)
             .where(r.id > after, *_export_filter(since)).order_by(r.id).limit(limit))
    return [tuple(row) for row in session.execute(query)]


def add_job(session: Session, job: ExportJob) -> ExportJob:
    """Add an export job."""
    session.add(job)
    session.flush()
    return job


def job(session: Session, job_id: str, *, lock: bool = False) -> ExportJob | None:
    """Return an export job by id."""
    query = select(ExportJob).where(ExportJob.id == job_id)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


def save_progress(session: Session, job_id: str, values: dict[str, Any], *,
                  wait_for_disk: bool = True) -> int:
    """Update a job unless it was cancelled meanwhile; return the rows changed.

    `wait_for_disk=False` (PostgreSQL): the commit returns before the change is on disk; a
    crash of the database server may lose it, and the job then resumes from an earlier
    position (the files are cut back to the sizes saved with it).
    """
    if not wait_for_disk and _pg(session):
        session.execute(text("SET LOCAL synchronous_commit = off"))
    result = session.execute(update(ExportJob).where(ExportJob.id == job_id,
                                                     ExportJob.status != "cancelled")
                             .values(**values))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def jobs_finished_before(session: Session, before: datetime) -> list[str]:
    """Return the ids of done or failed jobs that finished before an instant."""
    query = select(ExportJob.id).where(ExportJob.status.in_(("done", "failed")),
                                       ExportJob.finished_at < before)
    return list(session.execute(query).scalars())


def forget_jobs(session: Session, before: datetime) -> int:
    """Delete expired and cancelled jobs last changed before an instant; return how many."""
    result = session.execute(delete(ExportJob).where(
        ExportJob.status.in_(("expired", "cancelled")), ExportJob.updated_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
