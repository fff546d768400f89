"""Staff users, integration clients, signing keys and the management audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from crvshub.db import Base, JSONType, UTCDateTime, new_id, utcnow


class User(Base):
    """A staff user: one role, one office."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    given_names: Mapped[str] = mapped_column(String(255))
    family_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(64))
    office_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="active")
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(255))
    # Set by an administrator's reset (and for new users): no token until a new password is set.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Client(Base):
    """An integration client (a hospital system, a search client, a subscriber, the NID)."""

    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(32), index=True)
    integrating_system_type: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    sha_secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    webhook_permissions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    daily_quota: Mapped[int] = mapped_column(Integer, default=2000)
    # "crvshub" (default) or "opencrvs-strict": see docs/integrations/compatibility.md.
    compat_mode: Mapped[str] = mapped_column(String(16), default="crvshub",
                                             server_default="crvshub")
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    secret_rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # The database itself guarantees at most one active NATIONAL_ID client, even under races.
    __table_args__ = (
        Index(
            "uq_clients_one_active_national_id",
            "type",
            unique=True,
            sqlite_where=text("type = 'NATIONAL_ID' AND status = 'active'"),
            postgresql_where=text("type = 'NATIONAL_ID' AND status = 'active'"),
        ),
    )


class SigningKey(Base):
    """A key that signs access tokens (RS256) or DCI messages (EdDSA); retired keys stay
    published until what they signed expires."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16), default="RS256", server_default="RS256")
    private_pem_enc: Mapped[bytes] = mapped_column(LargeBinary)
    public_pem: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AdminAudit(Base):
    """Who did what to users, clients and keys, when and from where."""

    __tablename__ = "admin_audit"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(128), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class AuthFailure(Base):
    """Failed logins or token requests of one principal from one address ("*": all addresses)."""

    __tablename__ = "auth_failures"

    subject: Mapped[str] = mapped_column(String(160), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
