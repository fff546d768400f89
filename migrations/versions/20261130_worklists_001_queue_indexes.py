"""workqueues: indexes that count an office's queues and page them newest first

Revision ID: 0022worklists
Revises: 0021recfin
Create Date: 2026-11-30 18:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022worklists"
down_revision: str | Sequence[str] | None = "0021recfin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Counts per (status, source) of one office read the index alone; a queue's page sorted by
    # last change reads its first rows in order instead of walking every change of the country.
    op.create_index("ix_records_office_status_source", "records",
                    ["office_id", "status", "source"])
    op.create_index("ix_records_office_status_updated", "records",
                    ["office_id", "status", "updated_at"])
    op.drop_index("ix_records_office_status", table_name="records")


def downgrade() -> None:
    op.create_index("ix_records_office_status", "records", ["office_id", "status"])
    op.drop_index("ix_records_office_status_updated", table_name="records")
    op.drop_index("ix_records_office_status_source", table_name="records")
