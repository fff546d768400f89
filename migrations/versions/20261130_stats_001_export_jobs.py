"""statistics: bulk export jobs (FHIR $export and CSV), records indexed by registration date

Revision ID: 0020stats
Revises: 0020dci
Create Date: 2026-11-30 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from crvshub.db import UTCDateTime

revision: str = "0020stats"
down_revision: str | Sequence[str] | None = "0020dci"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("types", JSON, nullable=False),
        sa.Column("since", UTCDateTime(), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("request_url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cursor", sa.String(length=64), nullable=False),
        sa.Column("records_done", sa.Integer(), nullable=False),
        sa.Column("records_total", sa.Integer(), nullable=False),
        sa.Column("files", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    op.create_index(op.f("ix_export_jobs_requested_by"), "export_jobs", ["requested_by"])
    op.create_index(op.f("ix_export_jobs_status"), "export_jobs", ["status"])
    op.create_index(op.f("ix_records_registered_at"), "records", ["registered_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_records_registered_at"), table_name="records")
    op.drop_index(op.f("ix_export_jobs_status"), table_name="export_jobs")
    op.drop_index(op.f("ix_export_jobs_requested_by"), table_name="export_jobs")
    op.drop_table("export_jobs")
