"""dci: asynchronous transactions, subscriptions and client signing keys of the DCI registry API

Revision ID: 0020dci
Revises: 0020fhirread
Create Date: 2026-11-30 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crvshub.db import JSONType, UTCDateTime

revision: str = "0020dci"
down_revision: str | Sequence[str] | None = "0020fhirread"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dci_transactions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("transaction_id", sa.String(99), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("reference_ids", JSONType, nullable=False),
        sa.Column("sender_uri", sa.Text(), nullable=True),
        sa.Column("response", JSONType, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dci_transactions"),
    )
    op.create_index("ix_dci_transactions_client_txn", "dci_transactions",
                    ["client_id", "transaction_id"])
    op.create_index("ix_dci_transactions_client_message", "dci_transactions",
                    ["client_id", "message_id"])
    op.create_table(
        "dci_subscriptions",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("info", JSONType, nullable=False),
        sa.Column("sender_uri", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_dci_subscriptions"),
    )
    op.create_index("ix_dci_subscriptions_client_id", "dci_subscriptions", ["client_id"])
    op.create_index("ix_dci_subscriptions_event", "dci_subscriptions", ["event"])
    op.create_table(
        "dci_client_keys",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("kid", sa.String(128), nullable=False),
        sa.Column("jwk", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_dci_client_keys"),
    )


def downgrade() -> None:
    op.drop_table("dci_client_keys")
    op.drop_table("dci_subscriptions")
    op.drop_table("dci_transactions")
