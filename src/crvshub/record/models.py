"""The registration record (one vital event) and its append-only action trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crvshub.db import Base, JSONType, UTCDateTime, new_id, utcnow
from crvshub.record import search_columns as columns


class Record(Base):
    """A birth or death record: the FHIR document bundle plus search columns."""

    __tablename__ = "records"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    tracking_id: Mapped[str] = mapped_column(String(16), unique=True)
    event: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), index=True)
    office_id: Mapped[str] = mapped_column(ForeignKey("locations.id"))
    composition_type: Mapped[str] = mapped_column(String(64))
    bundle: Mapped[dict[str, Any]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer, default=1)
    registration_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16), default="staff")
    source_client_id: Mapped[str | None] = mapped_column(ForeignKey("clients.id"))
    assigned_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Denormalised search columns, all from record.search_columns (which keeps to these sizes).
    subject_given: Mapped[str | None] = mapped_column(String(columns.NAME_MAX))
    subject_family: Mapped[str | None] = mapped_column(String(columns.NAME_MAX))
    subject_name_norm: Mapped[str | None] = mapped_column(String(columns.NAME_KEY_MAX), index=True)
    subject_gender: Mapped[str | None] = mapped_column(String(columns.GENDER_MAX))
    event_date: Mapped[date | None] = mapped_column(Date)
    event_location_id: Mapped[str | None] = mapped_column(String(columns.LOCATION_ID_MAX))
    contact_number: Mapped[str | None] = mapped_column(String(columns.CONTACT_MAX), index=True)
    contact_email: Mapped[str | None] = mapped_column(String(columns.EMAIL_MAX), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Indexed for vital statistics, which count registrations by registration date.
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (
        # An office's records, newest first: the search box within an office (migration
        # 0025searchbox; it replaced the index of `office_id` alone).
        Index("ix_records_office_created", "office_id", "created_at", "id"),
        Index("ix_records_office_status_source", "office_id", "status", "source"),
        Index("ix_records_office_status_updated", "office_id", "status", "updated_at"),
        # A jurisdiction's records of some statuses over some days, from the index alone: each
        # office and status is one date range (migration 0028jurisdiction).
        Index("ix_records_office_status_event_date", "office_id", "status", "event_date",
              "created_at", "id"),
        # A place of birth or death's records, newest first, from the index alone (migration
        # 0029eventplace; it replaced the index of the place alone).
        Index("ix_records_event_location_created", "event_location_id", "created_at", "id"),
        # A hospital's FHIR reads: its own records, in order of last change (fhir_records).
        Index("ix_records_source_client_updated", "source_client_id", "updated_at", "id"),
        # The backlog of the performance dashboard: waiting records per office, oldest first,
        # read from the index alone (statistics).
        Index("ix_records_backlog", "status", "office_id", "source", "created_at"),
        # Searches by date of the event (DCI predicates: born in a month, of a sex, at a
        # place): the candidates are found, filtered, counted and sorted newest first in the
        # index alone; only the page's rows are read (record.repository.matching).
        Index("ix_records_event_date_search", "event", "event_date", "subject_gender",
              "event_location_id", "status", "created_at", "id"),
        # The records of some days, with their ids, from the index alone: a name asked within
        # a date range is matched to them by hash (record.search).
        Index("ix_records_event_date_id", "event_date", "id", "created_at"),
        # The records a name found, checked by id from the index alone (record.search).
        Index("ix_records_search_by_id", "id", "created_at", "office_id", "status", "event",
              "event_date"),
    )


class RecordAction(Base):
    """One audited action on a record, by a staff user or an integration client."""

    __tablename__ = "record_actions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(255))
    actor_role: Mapped[str | None] = mapped_column(String(64))
    office_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    status_before: Mapped[str | None] = mapped_column(String(32))
    status_after: Mapped[str | None] = mapped_column(String(32))
    version_before: Mapped[int | None] = mapped_column(Integer)
    version_after: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    # What one user did, newest first (the user audit of the admin pages).
    __table_args__ = (Index("ix_record_actions_actor_at", "actor_id", "at"),)


class SearchQuotaUse(Base):
    """How many searches one RECORD_SEARCH client made on one UTC day (its daily quota)."""

    __tablename__ = "search_quota_uses"

    # No foreign key: a deleted client's counters are harmless and expire with the day.
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer)


class RecordDuplicate(Base):
    """A potential duplicate of a record: which record, how alike, and how it was resolved."""

    __tablename__ = "record_duplicates"

    record_id: Mapped[str] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    candidate_id: Mapped[str] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    # The field-by-field explanation: [{field, label, score, strength, detail}, ...].
    matches: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None while unresolved, then "not-duplicate" or "duplicate".
    resolution: Mapped[str | None] = mapped_column(String(16))


class RecordVersion(Base):
    """A former version of a record's bundle, kept when a change replaces it (FHIR vread).

    The current version is the `records` row itself; a version is copied here only when a
    change writes the next one, so creating a record costs nothing more.
    """

    __tablename__ = "record_versions"

    record_id: Mapped[str] = mapped_column(
        ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    bundle: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # When this version was written (the record's updated_at while it was current).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the next version replaced it.
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime)
