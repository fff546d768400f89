"""records: by office, newest first (the search box of an office's staff)

Revision ID: 0025searchbox
Revises: 0024dedupfast
Create Date: 2026-12-01 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025searchbox"
down_revision: str | Sequence[str] | None = "0024dedupfast"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A name searched within an office: its newest records are walked from this index (at
    # most the office's records), and the office's record ids are read from it alone to be
    # matched to the name's postings by hash when counting. It serves what the office index
    # served, so it replaces it.
    op.create_index("ix_records_office_created", "records", ["office_id", "created_at", "id"])
    op.drop_index("ix_records_office_id", table_name="records")


def downgrade() -> None:
    op.create_index("ix_records_office_id", "records", ["office_id"])
    op.drop_index("ix_records_office_created", table_name="records")
