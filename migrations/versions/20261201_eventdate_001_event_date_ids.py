"""records: by date of the event, with their ids (a name asked within a date range)

Revision ID: 0027eventdate
Revises: 0026declared
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027eventdate"
down_revision: str | Sequence[str] | None = "0026declared"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A name asked within a date range: the records of those days are read from this index
    # alone and matched to the name's postings by hash, instead of probing the records by id
    # for each of a common name's thousands of holders. It serves what the date index served,
    # so it replaces it.
    op.create_index("ix_records_event_date_id", "records", ["event_date", "id", "created_at"])
    op.drop_index("ix_records_event_date", table_name="records")


def downgrade() -> None:
    op.create_index("ix_records_event_date", "records", ["event_date"])
    op.drop_index("ix_records_event_date_id", table_name="records")
