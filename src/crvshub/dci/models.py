"""DCI tables: asynchronous transactions with their results, subscriptions, client keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crvshub.db import Base, JSONType, UTCDateTime, new_id, utcnow


class DciTransaction(Base):
    """One asynchronous request (search, subscribe, unsubscribe) and the answer it got.

    The answer is stored before its callback is queued, so `txn/status` returns it even when
    the callback never arrives. `id` is the correlation id given in the ACK.
    """

    __tablename__ = "dci_transactions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(64))
    transaction_id: Mapped[str] = mapped_column(String(99))
    message_id: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8))  # pdng | succ | rjct
    reference_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    sender_uri: Mapped[str | None] = mapped_column(Text)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_dci_transactions_client_txn", "client_id", "transaction_id"),
        Index("ix_dci_transactions_client_message", "client_id", "message_id"),
    )


class DciSubscription(Base):
    """A client's subscription to an event, with its filter and where to notify."""

    __tablename__ = "dci_subscriptions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16))  # subscribe | unsubscribe
    info: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the SubscriptionInfo answered
    sender_uri: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DciClientKey(Base):
    """The public key a client signs its DCI messages with (a JWK), registered at onboarding."""

    __tablename__ = "dci_client_keys"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kid: Mapped[str] = mapped_column(String(128))
    jwk: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
