"""Location tables: admin areas, CRVS offices and health facilities in one tree."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crvshub.db import Base, JSONType, UTCDateTime, utcnow
from crvshub.location.domain import LocationView


class Location(Base):
    """One node of the location tree (OpenCRVS Location and FHIR Location share it)."""

    __tablename__ = "locations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    statistical_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    jurisdiction_type: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    name_norm: Mapped[str] = mapped_column(String(255), index=True)
    alias: Mapped[list[str]] = mapped_column(JSONType, default=list)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    part_of_id: Mapped[str | None] = mapped_column(
        ForeignKey("locations.id", ondelete="RESTRICT"), index=True
    )
    # Materialised path of ancestor ids ("/root/child/.../self/"): subtree search is a prefix match.
    path: Mapped[str] = mapped_column(String(2048), index=True)
    country: Mapped[str] = mapped_column(String(3))
    statistics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (Index("ix_locations_type_status", "type", "status"),)

    def view(self) -> LocationView:
        """Return an immutable copy of this row."""
        return LocationView(
            id=self.id,
            type=self.type,
            statistical_id=self.statistical_id,
            jurisdiction_type=self.jurisdiction_type,
            name=self.name,
            name_norm=self.name_norm,
            alias=tuple(self.alias or ()),
            description=self.description,
            status=self.status,
            part_of_id=self.part_of_id,
            path=self.path,
            country=self.country,
            statistics=dict(self.statistics or {}),
            extra=dict(self.extra or {}),
            version=self.version,
            updated_at=self.updated_at,
        )


class LocationVersion(Base):
    """One saved version of a location, for FHIR vread and `_history`."""

    __tablename__ = "location_versions"

    location_id: Mapped[str] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The location's own columns as they were at this version (see service.snapshot).
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class CacheVersion(Base):
    """A counter per cached data set, bumped by every write, polled by every process."""

    __tablename__ = "cache_versions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
