"""auth: failed logins and token requests per (principal, address), shared by API processes

Revision ID: 0004secthrottle
Revises: 0003idemresponse
Create Date: 2026-11-30 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crvshub.db

revision: str = "0004secthrottle"
down_revision: str | Sequence[str] | None = "0003idemresponse"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("subject", sa.String(length=160), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", crvshub.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject", "address", name=op.f("pk_auth_failures")),
    )
    op.create_index(
        op.f("ix_auth_failures_last_failure_at"), "auth_failures", ["last_failure_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_auth_failures_last_failure_at"), table_name="auth_failures")
    op.drop_table("auth_failures")
