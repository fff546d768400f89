"""Printed certificates, the keys that sign their QR codes, and the verification log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, LargeBinary, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crvshub.db import Base, JSONType, UTCDateTime, new_id, utcnow


class Certificate(Base):
    """One printed certificate of a record, with what it says and who collected it."""

    __tablename__ = "certificates"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    office_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(16))
    registration_number: Mapped[str] = mapped_column(String(64), index=True)
    print_number: Mapped[int] = mapped_column(Integer)  # 1 for the first print, 2.. reprints
    status: Mapped[str] = mapped_column(String(16), default="current")
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Indexed: each API process reads the recent status changes every second (verification).
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONType)
    collector: Mapped[dict[str, Any]] = mapped_column(JSONType)
    fee: Mapped[Any | None] = mapped_column(Numeric(12, 2))
    receipt: Mapped[str | None] = mapped_column(String(64))
    reprint_reason: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(64))
    paper: Mapped[str] = mapped_column(String(8))
    language: Mapped[str | None] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text)  # the signed JWS printed in the QR code
    key_id: Mapped[str] = mapped_column(String(32))
    printed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    printed_by_id: Mapped[str] = mapped_column(String(64))
    printed_by_name: Mapped[str] = mapped_column(String(200))


class CertificateKey(Base):
    """An EC P-256 key that signs certificate payloads (private part encrypted at rest)."""

    __tablename__ = "certificate_keys"

    kid: Mapped[str] = mapped_column(String(32), primary_key=True)
    private_pem_enc: Mapped[bytes] = mapped_column(LargeBinary)
    public_pem: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CertificateCheck(Base):
    """One verification of a certificate through /verify (the audit of public checks)."""

    __tablename__ = "certificate_checks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    certificate_id: Mapped[str | None] = mapped_column(String(16), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))


class Credential(Base):
    """A registration issued as an SD-JWT VC for a wallet (revocable, superseded on correction)."""

    __tablename__ = "certificate_credentials"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id"), index=True)
    office_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(16))
    registration_number: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="current")
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Indexed: each API process reads the recent status changes every second (verification).
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    issuer_jwt: Mapped[str] = mapped_column(Text)  # the signed part, compared on verification
    credential: Mapped[str] = mapped_column(Text)  # issuer JWT ~ every disclosure ~
    key_id: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[str] = mapped_column(String(64))
    issued_by_name: Mapped[str] = mapped_column(String(200))
