"""statistics: monthly registration counts, their watermark, export jobs' area, backlog index

Revision ID: 0021recfin
Revises: 0020webadmin
Create Date: 2026-11-30 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crvshub.db import UTCDateTime

revision: str = "0021recfin"
down_revision: str | Sequence[str] | None = "0021certvc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_records_backlog"), "records",
                    ["status", "office_id", "source", "created_at"])
    op.add_column("export_jobs", sa.Column("area_id", sa.String(length=64), nullable=True))
    op.create_table(
        "statistics_monthly",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("office_id", sa.String(length=64), nullable=False),
        sa.Column("event_location_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "dimension", "event", "office_id",
                                "event_location_id", "value", name=op.f("pk_statistics_monthly")),
    )
    op.create_table(
        "statistics_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("watermark", UTCDateTime(), nullable=True),
        sa.Column("refreshed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_statistics_state")),
    )


def downgrade() -> None:
    op.drop_table("statistics_state")
    op.drop_table("statistics_monthly")
    op.drop_column("export_jobs", "area_id")
    op.drop_index(op.f("ix_records_backlog"), table_name="records")
