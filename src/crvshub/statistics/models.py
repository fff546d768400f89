"""Export jobs: a bulk export asked for, its progress, and the files it wrote."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crvshub.db import Base, JSONType, UTCDateTime, new_id, utcnow


class ExportJob(Base):
    """One bulk export (FHIR NDJSON or CSV), run by the worker in short resumable steps."""

    __tablename__ = "export_jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    format: Mapped[str] = mapped_column(String(16))  # "ndjson" or "csv"
    level: Mapped[str] = mapped_column(String(16))  # "system" or "patient"
    types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(64), index=True)
    request_url: Mapped[str] = mapped_column(Text)
    # queued -> running -> done | failed | cancelled
    status: Mapped[str] = mapped_column(String(16), index=True)
    # Last record id written (records are read in id order), for resuming.
    cursor: Mapped[str] = mapped_column(String(64), default="")
    records_done: Mapped[int] = mapped_column(Integer, default=0)
    records_total: Mapped[int] = mapped_column(Integer, default=0)
    # Per output file: {"name": {"type": ..., "count": n, "bytes": b}}; bytes let a resumed
    # step cut what an interrupted step wrote after its last saved position.
    files: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # The jurisdiction of the caller (statistics.access): only records placed in it are
    # written; None for the whole country.
    area_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MonthlyCount(Base):
    """Registrations of one month counted by (event, office, event place, one dimension's value).

    Kept by the worker (statistics.aggregates); a month with a record changed since the
    watermark is counted from the records instead, so answers are exact whatever the delay.
    """

    __tablename__ = "statistics_monthly"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM (UTC)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    event: Mapped[str] = mapped_column(String(16), primary_key=True)
    office_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_location_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" if none
    value: Mapped[str] = mapped_column(String(32), primary_key=True)  # "" if none
    count: Mapped[int] = mapped_column(Integer)


class StatisticsState(Base):
    """How far the monthly aggregates are true: every change up to `watermark` is in them."""

    __tablename__ = "statistics_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BacklogCount(Base):
    """Records waiting in one office's queues by status and source, as of the last refresh.

    Kept by the worker with the monthly counts (statistics.aggregates), so the dashboard does
    not count every waiting record of the country on each request.
    """

    __tablename__ = "statistics_backlog"

    office_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), primary_key=True)  # "" if none
    count: Mapped[int] = mapped_column(Integer)
    oldest: Mapped[datetime | None] = mapped_column(UTCDateTime)
