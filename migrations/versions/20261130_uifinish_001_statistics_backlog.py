"""statistics: the backlog of waiting records kept by the worker (the dashboard reads it)

Revision ID: 0023uifinish
Revises: 0023dciperf
Create Date: 2026-11-30 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crvshub.db import UTCDateTime

revision: str = "0023uifinish"
down_revision: str | Sequence[str] | None = "0023dciperf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "statistics_backlog",
        sa.Column("office_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("oldest", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("office_id", "status", "source",
                                name=op.f("pk_statistics_backlog")),
    )


def downgrade() -> None:
    op.drop_table("statistics_backlog")
