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
    func,
    select,
    table,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from crvshub.db import JSONType, UTCDateTime
from crvshub.statistics.domain import REGISTERED_STATUSES
from crvshub.statistics.models import ExportJob

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


def registration_counts(
    session: Session, dimension: ColumnElement[Any] | None, start: datetime, end: datetime,
    event: str | None, *, with_mother: bool = False,
) -> Sequence[Row]:
    """Count registrations in [start, end) by (event, office, event place, dimension)."""
    r = RECORDS.c
    key = dimension if dimension is not None else func.min("")
    source: Any = RECORDS
    if with_mother:
        source = RECORDS.outerjoin(MOTHERS, and_(MOTHERS.c.record_id == r.id,
                                                 MOTHERS.c.role == "mother"))
    conditions = [r.status.in_(REGISTERED_STATUSES), r.registered_at >= start,
                  r.registered_at < end]
    if event:
        conditions.append(r.event == event)
    group: list[ColumnElement[Any]] = [r.event, r.office_id, r.event_location_id]
    if dimension is not None:
        group.append(dimension)
    query = (select(r.event, r.office_id, r.event_location_id, key, func.count())
             .select_from(source).where(*conditions).group_by(*group))
    return [tuple(row) for row in session.execute(query)]


def backlog(session: Session, statuses: Sequence[str]) -> Sequence[Row]:
    """Return (office, status, source, count, oldest creation) of records waiting in queues."""
    r = RECORDS.c
    query = (select(r.office_id, r.status, r.source, func.count(), func.min(r.created_at))
             .where(r.status.in_(statuses)).group_by(r.office_id, r.status, r.source))
    return [tuple(row) for row in session.execute(query)]


def _export_filter(since: datetime | None) -> list[ColumnElement[bool]]:
    return [RECORDS.c.updated_at >= since] if since is not None else []


def count_for_export(session: Session, since: datetime | None) -> int:
    """Return how many records an export will read."""
    query = select(func.count()).select_from(RECORDS).where(*_export_filter(since))
    return int(session.execute(query).scalar_one())


def export_batch(session: Session, after: str, since: datetime | None, limit: int,
                 *, with_bundle: bool) -> Sequence[Row]:
    """Return the next records after an id (keyset order by id), with the mother's birth date."""
    r = RECORDS.c
    wanted: list[Any] = [r.id, r.tracking_id, r.event, r.status, r.registration_number,
                         r.office_id, r.event_location_id, r.event_date, r.subject_gender,
                         r.created_at, r.registered_at, r.updated_at, MOTHERS.c.birth_date]
    if with_bundle:  # as JSON text: the caller parses it with orjson, several times faster
        wanted.append(cast(r.bundle, Text))
    query = (select(*wanted)
             .select_from(RECORDS.outerjoin(MOTHERS, and_(MOTHERS.c.record_id == r.id,
                                                          MOTHERS.c.role == "mother")))
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


def save_progress(session: Session, job_id: str, values: dict[str, Any]) -> int:
    """Update a job unless it was cancelled meanwhile; return the rows changed."""
    result = session.execute(update(ExportJob).where(ExportJob.id == job_id,
                                                     ExportJob.status != "cancelled")
                             .values(**values))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
